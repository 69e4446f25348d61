// Registry package specs as they appear in imports and on the command line:
// `@scope/name@range`, `name@range`, optionally followed by `/entry.tune`.
//
// Why this exists: the same spec is read by the compile-time resolver (which must stay synchronous and cheap),
// by `tune add` and by the project scanner of `tune install`; one parser keeps them in agreement, and it is the
// first place where an entry path that tries to leave the package (`..`, absolute paths, backslashes) is refused.
import semver from "semver";

export interface RegistrySpec {
  /** npm package name, `@scope/name` or `name`. */
  readonly name: string;
  /** The range as written (`^1.2`), `*` when none was given; for `tune add` possibly a dist-tag (`latest`). */
  readonly range: string;
  /** Entry file inside the package (`templates.tune`), or null for the package's first entry. */
  readonly subpath: string | null;
}

export type SpecResult = { readonly ok: true; readonly spec: RegistrySpec } | { readonly ok: false; readonly reason: string; readonly hint: string };

const NAME = /^(?:@[a-z0-9][a-z0-9._~-]*\/)?[a-z0-9][a-z0-9._~-]*$/;
const TAG = /^[a-z][a-z0-9._-]*$/i;

/** Does this import spec name a registry package (rather than `std/…` or a relative path)? */
export function isRegistrySpec(spec: string): boolean {
  return spec.startsWith("@") || /^[a-z0-9][\w.-]*@/.test(spec);
}

/**
 * Parse `@scope/name@range[/entry.tune]`. With `allowTag`, the range may be a dist-tag (`latest`); imports in
 * recipes pass false, since a tag moves and a recipe should mean the same thing tomorrow.
 */
export function parseRegistrySpec(text: string, allowTag = false): SpecResult {
  const bad = (reason: string, hint: string): SpecResult => ({ ok: false, reason, hint });
  const example = "write `@scope/name@^1.2` (optionally `@scope/name@^1.2/entry.tune`)";
  let rest = text.trim();
  let name: string;
  if (rest.startsWith("@")) {
    const slash = rest.indexOf("/");
    if (slash < 0) return bad(`\`${text}\` is not a package spec: a scoped name is \`@scope/name\``, example);
    const after = rest.slice(slash + 1);
    const end = after.search(/[@/]/);
    name = rest.slice(0, slash + 1) + (end < 0 ? after : after.slice(0, end));
    rest = end < 0 ? "" : after.slice(end);
  } else {
    const end = rest.search(/[@/]/);
    name = end < 0 ? rest : rest.slice(0, end);
    rest = end < 0 ? "" : rest.slice(end);
  }
  if (!NAME.test(name) || name.length > 214) {
    return bad(`\`${name}\` is not a valid package name`, "package names are lowercase letters, digits, `-`, `.`, `_` and `~`, optionally under a `@scope/`");
  }
  let range = "*";
  if (rest.startsWith("@")) {
    const slash = rest.indexOf("/");
    range = (slash < 0 ? rest.slice(1) : rest.slice(1, slash)).trim();
    rest = slash < 0 ? "" : rest.slice(slash);
    if (range === "") return bad(`\`${text}\` has an empty version range`, example);
  }
  if (semver.validRange(range) === null) {
    if (!(allowTag && TAG.test(range))) {
      return bad(
        `\`${range}\` is not a semver range`,
        allowTag ? "use a range (`^1.2`, `~1.4.0`, `1.4.2`) or a dist-tag (`latest`)" : "imports pin a semver range (`^1.2`, `~1.4.0`, `1.4.2`); dist-tags move, so they are accepted by `tune add` only",
      );
    }
  }
  let subpath: string | null = null;
  if (rest.startsWith("/")) {
    const checked = checkEntryPath(rest.slice(1));
    if (!checked.ok) return bad(`\`${text}\`: ${checked.reason}`, "an entry is a relative path inside the package, such as `templates.tune` or `lib/evals.tune`");
    subpath = checked.path;
  } else if (rest !== "") {
    return bad(`\`${text}\` is not a package spec`, example);
  }
  return { ok: true, spec: { name, range, subpath } };
}

/**
 * Validate a path inside a package: relative, forward slashes, no `.`/`..`/empty segments, ends in `.tune`
 * (added when missing). Returns the normalised path.
 */
export function checkEntryPath(p: string): { ok: true; path: string } | { ok: false; reason: string } {
  if (p === "") return { ok: false, reason: "the entry path is empty" };
  if (p.includes("\\") || p.includes("\0")) return { ok: false, reason: "entry paths use forward slashes only" };
  if (p.startsWith("/") || /^[A-Za-z]:/.test(p)) return { ok: false, reason: "entry paths cannot be absolute" };
  const segs = p.split("/");
  if (segs.some((s) => s === "..")) return { ok: false, reason: "entry paths cannot leave the package (`..`)" };
  if (segs.some((s) => s === "" || s === ".")) return { ok: false, reason: "entry paths have no empty or `.` segments" };
  return { ok: true, path: p.endsWith(".tune") ? p : p + ".tune" };
}

/** `@scope/name@range` back as text (for messages and hints). */
export function specText(s: RegistrySpec): string {
  return `${s.name}@${s.range}${s.subpath ? "/" + s.subpath : ""}`;
}

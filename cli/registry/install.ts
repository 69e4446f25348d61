// `tune add` and `tune install`: decide which version of each registry package the project uses, fetch and
// verify it into the store, and write tune.lock.
//
// Why this exists: the ranges a project accepts are written in its recipes (`import … from "@acme/x@^1.2"`), and
// in the recipes of the packages it imports; this module collects them, keeps a locked version while it still
// satisfies every range (installs are repeatable, not upgrades), resolves the newest matching version otherwise,
// and with `--frozen` refuses to change anything. One version per package name keeps imports unambiguous.
// The lock is written once, after every package was fetched and verified, so a failed install changes nothing.
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import semver from "semver";
import { parseSource } from "../../grammar/parse.js";
import { RegistryError } from "./errors.js";
import { ensureInStore, listVersions, resolveVersion, type FetchContext } from "./fetch.js";
import { readLock, writeLock, type Lock, type LockedPackage } from "./lockfile.js";
import { isRegistrySpec, parseRegistrySpec, type RegistrySpec } from "./spec.js";
import { tuneFiles } from "./store.js";

/** Where a range comes from, for messages: `recipes/a.tune:3` or `@acme/x@1.0.0/x.tune:2` or `tune add`. */
export interface Requirement {
  readonly name: string;
  readonly range: string;
  readonly origin: string;
}

/** Registry imports of one .tune text (invalid specs are skipped: the compiler reports them). */
export function registryImports(file: string, text: string, origin: string): Requirement[] {
  const out: Requirement[] = [];
  for (const imp of parseSource(file, text).value.imports) {
    const spec = imp.spec.value;
    if (!spec || !isRegistrySpec(spec)) continue;
    const parsed = parseRegistrySpec(spec);
    if (!parsed.ok) continue;
    const line = text.slice(0, imp.spec.span.start).split("\n").length;
    out.push({ name: parsed.spec.name, range: parsed.spec.range, origin: `${origin}:${line}` });
  }
  return out;
}

/** Every registry import of the project's .tune files (skipping dot-folders, node_modules and runs/). */
export function projectImports(root: string): Requirement[] {
  const out: Requirement[] = [];
  const walk = (dir: string): void => {
    for (const ent of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      if (ent.name.startsWith(".") || ent.name === "node_modules" || ent.name === "runs") continue;
      const p = join(dir, ent.name);
      if (ent.isDirectory()) walk(p);
      else if (ent.isFile() && ent.name.endsWith(".tune")) {
        const rel = relative(root, p).split("\\").join("/");
        out.push(...registryImports(rel, readFileSync(p, "utf8"), rel));
      }
    }
  };
  walk(root);
  return out;
}

export interface InstallOptions {
  /** Refuse to change tune.lock (exit 1 with T8008 when it would change). */
  readonly frozen: boolean;
  /** Packages named by `tune add`: re-resolved to the newest version their range allows. */
  readonly add?: readonly RegistrySpec[];
}

export interface InstallResult {
  readonly lock: Lock;
  readonly packages: ReadonlyMap<string, LockedPackage>;
  /** Names whose locked version was (re)resolved in this run. */
  readonly changed: readonly string[];
  /** Whether tune.lock was written. */
  readonly wrote: boolean;
}

/** Resolve, fetch, verify and lock. `lockPath` is the project's tune.lock (it may not exist yet). */
export async function install(ctx: FetchContext, projectRoot: string, lockPath: string, opts: InstallOptions): Promise<InstallResult> {
  const lock = readLock(lockPath);
  const reqs = new Map<string, Requirement[]>();
  const need = (r: Requirement): void => {
    const list = reqs.get(r.name) ?? [];
    if (!list.some((q) => q.origin === r.origin && q.range === r.range)) list.push(r);
    reqs.set(r.name, list);
  };
  const added = new Map((opts.add ?? []).map((s) => [s.name, s] as const));
  // `tune add` settles the packages it names (and what is already locked); the project's other imports wait for
  // `tune install`, so one unpublished import elsewhere does not block adding a package.
  projectImports(projectRoot)
    .filter((r) => !opts.add || added.has(r.name) || lock.packages.has(r.name))
    .forEach(need);
  for (const s of added.values()) need({ name: s.name, range: s.range, origin: "tune add" });
  // Locked packages nothing imports any more stay locked (they may have been added for later use).
  for (const name of lock.packages.keys()) if (!reqs.has(name)) reqs.set(name, []);

  const result = new Map<string, LockedPackage>();
  const changed = new Set<string>();
  for (let round = 0; ; round++) {
    const name = [...reqs.keys()].sort().find((n) => !result.has(n));
    if (name === undefined) break;
    if (round > 10_000) throw new RegistryError("T8099", "package resolution does not settle", "align the ranges packages use for each other");
    const ranges = reqs.get(name)!;
    const locked = lock.packages.get(name);
    let pkg: LockedPackage;
    const fits = (v: string): boolean => ranges.every((r) => semver.validRange(r.range) === null || semver.satisfies(v, r.range));
    if (locked && !added.has(name) && fits(locked.version)) {
      pkg = locked;
    } else if (opts.frozen) {
      throw drift(name, locked, ranges, lock.path);
    } else {
      pkg = await pick(ctx, name, ranges).catch((e: unknown) => {
        throw e instanceof RegistryError && ranges.length > 0 ? new RegistryError(e.code, `${e.message} (imported by ${ranges.map((r) => r.origin).join(", ")})`, e.hint, e.exitCode) : e;
      });
      changed.add(name);
    }
    const dir = await ensureInStore(ctx, { name, ...pkg });
    const imports = packageImports(dir, `${name}@${pkg.version}`);
    result.set(name, { version: pkg.version, resolved: pkg.resolved, integrity: pkg.integrity, ...(imports.length > 0 ? { imports: Object.fromEntries(imports.map((r) => [r.name, r.range])) } : {}) });
    for (const r of imports) {
      need(r);
      const chosen = result.get(r.name);
      if (chosen && !semver.satisfies(chosen.version, r.range)) {
        // This package narrows a range already decided: decide that package again, forgetting what its old
        // version imported.
        if (opts.frozen) throw drift(r.name, chosen, [r], lock.path);
        unpick(r.name, chosen.version, result, reqs);
      }
    }
  }
  const same = sameLock(lock.packages, result);
  if (!same && opts.frozen) {
    throw new RegistryError("T8008", `--frozen: ${lock.path} would change`, "run `tune install` without --frozen, review the tune.lock change and commit it", 1);
  }
  if (!same) writeLock(lock, result);
  return { lock, packages: result, changed: [...changed].sort(), wrote: !same };
}

function unpick(name: string, version: string, result: Map<string, LockedPackage>, reqs: Map<string, Requirement[]>): void {
  result.delete(name);
  const from = `${name}@${version}/`;
  for (const [n, list] of reqs) reqs.set(n, list.filter((r) => !r.origin.startsWith(from)));
}

/** The newest version satisfying every range (a dist-tag from `tune add` is resolved first, then checked). */
async function pick(ctx: FetchContext, name: string, ranges: readonly Requirement[]): Promise<LockedPackage> {
  const tag = ranges.find((r) => semver.validRange(r.range) === null);
  const plain = ranges.filter((r) => semver.validRange(r.range) !== null);
  if (tag || plain.length <= 1) {
    const got = await resolveVersion(ctx, name, tag?.range ?? plain[0]?.range ?? "*");
    const bad = plain.find((r) => !semver.satisfies(got.version, r.range));
    if (bad) throw conflict(bad, got.version);
    return got;
  }
  const versions = await listVersions(ctx, name);
  const best = semver.rsort(versions.filter((v) => plain.every((r) => semver.satisfies(v, r.range))))[0];
  if (!best) throw conflictAll(name, ranges);
  return resolveVersion(ctx, name, best);
}

function packageImports(dir: string, prefix: string): Requirement[] {
  const out: Requirement[] = [];
  for (const rel of tuneFiles(dir)) out.push(...registryImports(`${prefix}/${rel}`, readFileSync(join(dir, rel), "utf8"), `${prefix}/${rel}`));
  return out;
}

function sameLock(a: ReadonlyMap<string, LockedPackage>, b: ReadonlyMap<string, LockedPackage>): boolean {
  if (a.size !== b.size) return false;
  for (const [name, p] of b) {
    const q = a.get(name);
    if (!q || q.version !== p.version || q.integrity !== p.integrity || q.resolved !== p.resolved) return false;
    if (JSON.stringify(q.imports ?? {}) !== JSON.stringify(p.imports ?? {})) return false;
  }
  return true;
}

function drift(name: string, locked: LockedPackage | undefined, ranges: readonly Requirement[], lockPath: string): RegistryError {
  const unmet = ranges.filter((r) => !locked || semver.validRange(r.range) === null || !semver.satisfies(locked.version, r.range));
  const why = locked
    ? `tune.lock pins ${name}@${locked.version}, but ${unmet.map((r) => `${r.origin} asks for \`${r.range}\``).join(", ") || "it was asked to change"}`
    : `tune.lock has no entry for ${name}${unmet.length > 0 ? ` (imported by ${unmet.map((r) => r.origin).join(", ")})` : ""}`;
  return new RegistryError("T8008", `--frozen: ${why}; ${lockPath} would change`, "run `tune install` without --frozen, review the tune.lock change and commit it", 1);
}

function conflict(r: Requirement, version: string): RegistryError {
  return new RegistryError("T8002", `${r.name}@${version} does not satisfy \`${r.range}\` (${r.origin})`, "a project uses one version of each package; align the ranges that import it");
}

function conflictAll(name: string, ranges: readonly Requirement[]): RegistryError {
  return new RegistryError("T8002", `no version of ${name} satisfies every range: ${ranges.map((r) => `\`${r.range}\` (${r.origin})`).join(", ")}`, "a project uses one version of each package; align the ranges that import it");
}

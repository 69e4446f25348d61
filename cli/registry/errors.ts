// Errors of the recipe registry (`tune add/install/publish/search/info/init`) and their catalogue.
//
// Why this exists: registry failures come from three layers (the network, npm's client libraries, our own checks)
// and npm's errors read like stack traces with HTTP dumps. Every failure here becomes one RegistryError with a code
// (T8xxx), a message that stands on its own and a hint, rendered like the compiler's diagnostics; tokens are
// redacted from anything that came from the network libraries before it is printed.

/** Catalogue of T8xxx codes (T8 = registry and packages): title + explanation, as `tune explain` shows them. */
export const REGISTRY_CODES: Readonly<Record<string, { readonly title: string; readonly explanation: string }>> = {
  T8001: { title: "invalid package spec", explanation: "A registry package is named `@scope/name@range` (or `name@range`): a lowercase npm package name, then a semver range such as `^1.2` or `1.4.0`. `tune add` also accepts a dist-tag (`@acme/x@latest`); imports in recipes need a semver range so they stay reproducible. A subpath (`@acme/x@^1/templates.tune`) picks one of the entry files the package exports." },
  T8002: { title: "package or version not found", explanation: "The registry has no such package, or no published version matches the range. Check the name and the range with `tune info <package>`, and which registry serves the scope (`@scope:registry=` in .npmrc)." },
  T8003: { title: "integrity check failed", explanation: "The downloaded tarball's sha512 differs from the integrity recorded in tune.lock or in the registry's metadata. The tarball was altered in transit or on the registry; nothing was installed. Report it to the registry's operator; do not edit the integrity in tune.lock to make it pass." },
  T8004: { title: "authentication refused", explanation: "The registry refused the request (HTTP 401/403): the token is missing, wrong or expired, or lacks the right to publish this scope. Tokens come from .npmrc (`//host/:_authToken=${TOKEN}`); tune never prints them." },
  T8005: { title: "version already published", explanation: "Published versions are immutable: the registry refuses to publish a name and version twice (HTTP 409). Bump `version` in package.json and publish again." },
  T8006: { title: "registry unreachable", explanation: "The registry could not be reached (connection refused, DNS or TLS failure, timeout). Check the registry URL in .npmrc or `--registry`, or use `tune install --offline` to install from the cache." },
  T8007: { title: "not in the offline cache", explanation: "An offline install needs every locked package (or its metadata) in the local cache. Run `tune install` once with network access, or point TUNE_CACHE_DIR at a cache that holds them." },
  T8008: { title: "tune.lock is out of date", explanation: "With `--frozen`, tune.lock must already pin a version that satisfies every registry import of the project; tune refuses to change it. Run `tune install` without `--frozen` to update the lock, review the change, and commit it." },
  T8009: { title: "invalid tune.lock", explanation: "tune.lock is JSON; its `packages` object maps each package name to `{ version, resolved, integrity }` with an exact semver version, the tarball URL and a sha512 integrity. Restore it from version control or delete the `packages` entry and run `tune install`." },
  T8010: { title: "invalid recipe package", explanation: "A recipe package is an npm package whose package.json has a `tune` field, `{ \"entries\": [\"recipe.tune\", …] }`, naming the .tune files it exports (the first is what a bare import loads). Entries are relative paths inside the package; packages hold only recipe files (no links)." },
  T8011: { title: "package fails validation", explanation: "Before publishing, every .tune file of the package must lint clean (`tune lint`) and be formatted (`tune fmt --check`), and the package needs a README.md (its recipe card). Fix what is listed and publish again." },
  T8012: { title: "install scripts are not allowed", explanation: "Recipe packages hold recipe files only; tune never runs package scripts, so a package.json with lifecycle scripts (preinstall, install, postinstall, prepare, …) is refused at publish time." },
  T8013: { title: "invalid .npmrc", explanation: "An .npmrc line refers to an environment variable that is not set (`${NAME}`), or the registry URL is not an http(s) URL." },
  T8014: { title: "cannot scaffold here", explanation: "`tune init` creates package.json, a recipe and a README in an empty folder (or one without package.json); it never overwrites files." },
  T8015: { title: "file error", explanation: "A file of the project, the package or the cache could not be read or written." },
  T8099: { title: "unexpected registry error", explanation: "The registry answered in a way tune does not recognise. The message shows the registry's own words; retry, or check the registry's logs." },
};

export type RegistryCode = keyof typeof REGISTRY_CODES;

export class RegistryError extends Error {
  readonly code: string;
  readonly hint: string;
  /** Exit status: 1 when a check said no (validation, --frozen drift), 2 for usage, I/O, network and auth errors. */
  readonly exitCode: 1 | 2;

  constructor(code: string, message: string, hint: string, exitCode: 1 | 2 = 2) {
    super(message);
    this.name = "RegistryError";
    this.code = code;
    this.hint = hint;
    this.exitCode = exitCode;
  }

  /** `error[T8003]: …` plus a help line, as the CLI prints it. */
  render(): string {
    return `error[${this.code}]: ${this.message}\n  = help: ${this.hint}\n`;
  }
}

/** Replace every secret (token, password) occurring in `text` by `***`. */
export function redact(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const s of secrets) if (s.length >= 4) out = out.split(s).join("***");
  // Authorization headers echoed by a library, whatever the token.
  return out.replace(/(authorization:\s*(?:bearer|basic)\s+)\S+/gi, "$1***");
}

interface NpmLikeError {
  code?: string;
  statusCode?: number;
  message?: string;
  uri?: string;
  errno?: string;
}

/**
 * Turn an error thrown by pacote / npm-registry-fetch / libnpmpublish / fs into a RegistryError.
 * `what` names the package or action for the message ("@acme/x@^1.2", "publish @acme/x@1.0.0").
 */
export function fromNpmError(e: unknown, what: string, secrets: readonly string[]): RegistryError {
  if (e instanceof RegistryError) return e;
  const err = (e ?? {}) as NpmLikeError;
  const code = err.code ?? "";
  const status = err.statusCode ?? 0;
  const raw = redact(firstLine(err.message ?? String(e)), secrets);
  if (code === "EINTEGRITY") {
    return new RegistryError("T8003", `integrity check failed for ${what}: the tarball's sha512 does not match the recorded integrity`, "the tarball was altered on the registry or in transit; nothing was installed. Report it; never edit tune.lock's integrity to make it pass");
  }
  if (code === "ENOTCACHED") {
    return new RegistryError("T8007", `${what} is not in the offline cache`, "run `tune install` once with network access (or without --offline)");
  }
  if (status === 401 || status === 403 || code === "E401" || code === "E403" || code === "ENEEDAUTH") {
    return new RegistryError("T8004", `the registry refused ${what} (HTTP ${status || code.slice(1)}): ${raw}`, "check the token for this registry in .npmrc (`//host/:_authToken=${NPM_TOKEN}`); tune never prints tokens");
  }
  if (status === 409 || code === "E409" || code === "EPUBLISHCONFLICT") {
    return new RegistryError("T8005", `${what} is already published; published versions are immutable`, "bump `version` in package.json and publish again");
  }
  if (code === "ETARGET" || code === "E404" || status === 404) {
    return new RegistryError("T8002", `${what}: ${code === "ETARGET" ? "no published version matches" : "not found in the registry"}`, "check the name and range with `tune info <package>`, and the registry for its scope (`@scope:registry=` in .npmrc)");
  }
  if (["ECONNREFUSED", "ENOTFOUND", "ETIMEDOUT", "ECONNRESET", "EAI_AGAIN", "EHOSTUNREACH", "FETCH_ERROR"].includes(code) || err.errno === "ECONNREFUSED") {
    return new RegistryError("T8006", `cannot reach the registry for ${what}: ${raw}`, "check the registry URL (.npmrc `registry=` or --registry) and the network; `tune install --offline` uses the cache");
  }
  if (code === "ENOENT" || code === "EACCES" || code === "EPERM" || code === "EISDIR" || code === "ENOSPC") {
    return new RegistryError("T8015", `${what}: ${raw}`, "check that the path exists and is writable");
  }
  return new RegistryError("T8099", `${what}: ${raw}${status ? ` (HTTP ${status})` : ""}`, "retry; if it persists, check the registry's logs");
}

function firstLine(s: string): string {
  const line = s.split("\n")[0] ?? s;
  return line.length > 300 ? line.slice(0, 300) + "…" : line;
}

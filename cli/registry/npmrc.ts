// Registry settings from .npmrc files, in the flat form npm's client libraries (pacote, npm-registry-fetch,
// libnpmpublish) take as options: `registry`, `@scope:registry`, `//host/path/:_authToken`, ….
//
// Why this exists: a recipe package is an npm package so that any npm-compatible registry can serve it, and the
// teams that run one already keep its URL and token in .npmrc. We read the project's .npmrc, then the user's
// (`$NPM_CONFIG_USERCONFIG` or ~/.npmrc), expand `${VAR}` from the environment like npm does, and remember every
// secret so that error messages can be redacted. Secrets never leave this object except as request headers.
import { existsSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { RegistryError } from "./errors.js";

export const DEFAULT_REGISTRY = "https://registry.npmjs.org/";

export interface NpmConfig {
  /** Flat options for pacote / npm-registry-fetch / libnpmpublish. */
  readonly options: Readonly<Record<string, string>>;
  /** Token, password and auth values, for redaction. */
  readonly secrets: readonly string[];
  /** The default registry URL (with a trailing slash). */
  readonly registry: string;
  /** The registry that serves `name` (its scope's registry, else the default). */
  registryFor(name: string): string;
}

const SECRET_KEY = /(?:_authToken|_auth|_password|password|token)$/i;

/** Parse one .npmrc text into key/value pairs (ini without sections; `;`/`#` comments). */
export function parseNpmrc(text: string, env: NodeJS.ProcessEnv, file: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const [i, rawLine] of text.split(/\r?\n/).entries()) {
    const line = rawLine.trim();
    if (line === "" || line.startsWith("#") || line.startsWith(";") || line.startsWith("[")) continue;
    const eq = line.indexOf("=");
    if (eq <= 0) continue;
    const key = expand(line.slice(0, eq).trim(), env, file, i + 1);
    let value = line.slice(eq + 1).trim();
    if (value.length >= 2 && ((value.startsWith('"') && value.endsWith('"')) || (value.startsWith("'") && value.endsWith("'")))) value = value.slice(1, -1);
    out.set(key, expand(value, env, file, i + 1));
  }
  return out;
}

function expand(value: string, env: NodeJS.ProcessEnv, file: string, line: number): string {
  return value.replace(/(\\*)\$\{([^}]+)\}/g, (whole, slashes: string, name: string) => {
    if (slashes.length % 2 === 1) return whole.slice(1);
    const v = env[name];
    if (v === undefined) {
      throw new RegistryError("T8013", `${file}:${line} uses \${${name}}, which is not set in the environment`, `export ${name}=… before running tune, or remove the line`);
    }
    return slashes + v;
  });
}

export interface NpmConfigOptions {
  /** Project directory whose .npmrc is read first. */
  readonly projectDir: string;
  /** `--registry` from the command line: overrides the default registry (not scoped ones). */
  readonly registry?: string;
  readonly env?: NodeJS.ProcessEnv;
}

export function loadNpmConfig(opts: NpmConfigOptions): NpmConfig {
  const env = opts.env ?? process.env;
  const userFile = env["NPM_CONFIG_USERCONFIG"] ?? env["npm_config_userconfig"] ?? join(homedir(), ".npmrc");
  const merged = new Map<string, string>();
  for (const file of [userFile, join(opts.projectDir, ".npmrc")]) {
    if (!existsSync(file)) continue;
    let text: string;
    try {
      text = readFileSync(file, "utf8");
    } catch (e) {
      throw new RegistryError("T8015", `cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`, "check the file's permissions");
    }
    for (const [k, v] of parseNpmrc(text, env, file)) merged.set(k, v);
  }
  if (opts.registry) merged.set("registry", opts.registry);
  const registry = withSlash(merged.get("registry") ?? DEFAULT_REGISTRY);
  merged.set("registry", registry);
  for (const [k, v] of merged) {
    if (k === "registry" || k.endsWith(":registry")) {
      if (!/^https?:\/\//.test(v)) throw new RegistryError("T8013", `registry URL \`${v}\` (${k}) is not an http(s) URL`, "write e.g. `registry=https://registry.npmjs.org/`");
      if (k !== "registry") merged.set(k, withSlash(v));
    }
  }
  const secrets = [...merged].filter(([k]) => SECRET_KEY.test(k)).map(([, v]) => v);
  // `_auth` is base64("user:password"); the decoded password must not leak either.
  for (const [k, v] of merged) {
    if (k.endsWith("_auth")) secrets.push(...Buffer.from(v, "base64").toString("utf8").split(":").slice(1));
    if (k.endsWith("_password")) secrets.push(Buffer.from(v, "base64").toString("utf8"));
  }
  const options = Object.fromEntries(merged);
  return {
    options,
    secrets,
    registry,
    registryFor: (name) => (name.startsWith("@") ? (merged.get(name.split("/")[0] + ":registry") ?? registry) : registry),
  };
}

function withSlash(url: string): string {
  return url.endsWith("/") ? url : url + "/";
}

// The content-addressed package store: every installed package version lives, unpacked, under a folder named by
// its sha512 integrity, and pacote's own cache (tarballs and registry metadata, also content-addressed) sits
// beside it so that `--offline` can install from it.
//
// Why this exists: the compiler's host must resolve imports synchronously and without the network, so packages
// are unpacked ahead of time by `tune install`; naming folders by integrity means a folder can only hold the
// bytes tune.lock names (it is written once, after verification, by an atomic rename), and two projects that
// lock the same version share it. Reading from the store (sync, light) is separate from filling it (async,
// pacote), so compiling never loads npm's client libraries.
import { existsSync, lstatSync, readdirSync, readFileSync, realpathSync } from "node:fs";
import { homedir } from "node:os";
import { join, sep } from "node:path";
import { checkEntryPath } from "./spec.js";

/** Root of tune's caches: $TUNE_CACHE_DIR, else $XDG_CACHE_HOME/tune, else ~/.cache/tune. */
export function cacheRoot(env: NodeJS.ProcessEnv = process.env): string {
  if (env["TUNE_CACHE_DIR"]) return env["TUNE_CACHE_DIR"];
  return join(env["XDG_CACHE_HOME"] || join(homedir(), ".cache"), "tune");
}

export interface StorePaths {
  /** Unpacked packages, one folder per integrity. */
  readonly packages: string;
  /** pacote's cacache (tarballs, packuments). */
  readonly npmCache: string;
}

export function storePaths(root: string = cacheRoot()): StorePaths {
  return { packages: join(root, "registry", "packages"), npmCache: join(root, "registry", "npm-cache") };
}

/** Folder of an unpacked package: `sha512-<hex digest>` (hex, since base64 contains `/`). */
export function packageDir(paths: StorePaths, integrity: string): string {
  const m = /^sha512-([A-Za-z0-9+/]+={0,2})$/.exec(integrity);
  if (!m) throw new Error(`internal: not a sha512 integrity: ${integrity}`);
  return join(paths.packages, "sha512-" + Buffer.from(m[1]!, "base64").toString("hex"));
}

/** What a recipe package declares in package.json. */
export interface RecipeManifest {
  readonly name: string;
  readonly version: string;
  readonly description: string;
  /** Entry files the package exports (relative, `.tune`); the first is what a bare import loads. */
  readonly entries: readonly string[];
}

export type ManifestResult = { ok: true; manifest: RecipeManifest } | { ok: false; reason: string };

/** Read and check package.json's `tune` field (used for installed packages and before publishing). */
export function readRecipeManifest(dir: string): ManifestResult {
  let pkg: Record<string, unknown>;
  try {
    pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as Record<string, unknown>;
  } catch (e) {
    return { ok: false, reason: e instanceof SyntaxError ? `package.json is not valid JSON (${e.message})` : "package.json is missing" };
  }
  return checkManifest(pkg);
}

export function checkManifest(pkg: Record<string, unknown>): ManifestResult {
  const { name, version, description, tune } = pkg;
  if (typeof name !== "string" || name === "") return { ok: false, reason: "package.json has no `name`" };
  if (typeof version !== "string" || version === "") return { ok: false, reason: "package.json has no `version`" };
  if (typeof tune !== "object" || tune === null || Array.isArray(tune)) {
    return { ok: false, reason: "package.json has no `tune` field (`\"tune\": { \"entries\": [\"recipe.tune\"] }`)" };
  }
  const entries = (tune as Record<string, unknown>)["entries"];
  if (!Array.isArray(entries) || entries.length === 0 || entries.some((e) => typeof e !== "string")) {
    return { ok: false, reason: "`tune.entries` must be a non-empty list of .tune paths" };
  }
  const clean: string[] = [];
  for (const e of entries as string[]) {
    const checked = checkEntryPath(e.replace(/^\.\//, ""));
    if (!checked.ok) return { ok: false, reason: `tune entry \`${e}\`: ${checked.reason}` };
    clean.push(checked.path);
  }
  return { ok: true, manifest: { name, version, description: typeof description === "string" ? description : "", entries: clean } };
}

/**
 * Read `rel` inside the package folder `dir`, refusing anything that resolves outside it (symlinks included).
 * Returns the text, or a reason when it cannot be read.
 */
export function readInside(dir: string, rel: string): { ok: true; text: string } | { ok: false; reason: string } {
  const checked = checkEntryPath(rel);
  if (!checked.ok) return { ok: false, reason: checked.reason };
  const path = join(dir, ...checked.path.split("/"));
  let real: string;
  let root: string;
  try {
    root = realpathSync(dir);
    real = realpathSync(path);
  } catch {
    return { ok: false, reason: `the package has no file \`${checked.path}\`` };
  }
  if (!real.startsWith(root + sep)) return { ok: false, reason: `\`${checked.path}\` leads outside the package directory` };
  if (!lstatSync(real).isFile()) return { ok: false, reason: `\`${checked.path}\` is not a file` };
  return { ok: true, text: readFileSync(real, "utf8") };
}

/** Every .tune file in a package folder, relative with forward slashes, sorted; links and dot-folders skipped. */
export function tuneFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (rel: string): void => {
    for (const ent of readdirSync(join(dir, rel), { withFileTypes: true })) {
      const r = rel ? `${rel}/${ent.name}` : ent.name;
      if (ent.name.startsWith(".") || ent.name === "node_modules") continue;
      if (ent.isDirectory()) walk(r);
      else if (ent.isFile() && ent.name.endsWith(".tune")) out.push(r);
    }
  };
  if (existsSync(dir)) walk("");
  return out.sort();
}

// The compile-time side of registry imports: turns `@scope/name@range[/entry.tune]` into the text of a file in
// the package store, through the project's tune.lock. The CLI's file-system host (cli/host.ts) delegates to it,
// so the pure compiler sees registry modules like any other module.
//
// Why this exists: compiling must stay pure, synchronous and offline. Everything that needs the network happens
// in `tune install`; here we only read tune.lock and the store. Modules of a package get virtual paths
// `@scope/name@1.2.3/recipe.tune` (what diagnostics show), and relative imports inside a package resolve inside
// that package only: no `..` above its root, no absolute paths, no symlinks out.
import { dirname, resolve as resolvePath } from "node:path";
import semver from "semver";
import type { ImportLookup } from "../../compiler/host.js";
import { joinRelative } from "../../compiler/host.js";
import { RegistryError } from "./errors.js";
import { findLock, readLock, type Lock } from "./lockfile.js";
import { isRegistrySpec, parseRegistrySpec } from "./spec.js";
import { packageDir, readInside, readRecipeManifest, storePaths, type StorePaths } from "./store.js";

export interface RegistryResolver {
  /**
   * Resolve `spec` imported from `fromPath`, when it is this resolver's business: a registry spec, or any import
   * made from inside a package. Returns null for everything else (std modules and local relative files).
   */
  resolve(spec: string, fromPath: string): ImportLookup | null;
}

interface Mounted {
  /** `@scope/name@1.2.3` */
  readonly prefix: string;
  readonly dir: string;
  readonly lock: Lock;
}

export interface ResolverOptions {
  /** Cache root (defaults to $TUNE_CACHE_DIR or ~/.cache/tune). */
  readonly cacheDir?: string;
}

export function registryResolver(opts: ResolverOptions = {}): RegistryResolver {
  const paths: StorePaths = storePaths(opts.cacheDir);
  const mounted = new Map<string, Mounted>();
  const locks = new Map<string, Lock | string>();

  const lockFor = (fromPath: string): Lock | null | { error: string } => {
    const found = findLock(dirname(resolvePath(fromPath)));
    if (!found) return null;
    let lock = locks.get(found);
    if (lock === undefined) {
      try {
        lock = readLock(found);
      } catch (e) {
        lock = e instanceof RegistryError ? e.message : String(e);
      }
      locks.set(found, lock);
    }
    return typeof lock === "string" ? { error: lock } : lock;
  };

  const mountOf = (fromPath: string): Mounted | undefined => {
    for (const m of mounted.values()) if (fromPath.startsWith(m.prefix + "/")) return m;
    return undefined;
  };

  const resolveRegistry = (spec: string, lock: Lock | null | { error: string }): ImportLookup => {
    const parsed = parseRegistrySpec(spec);
    if (!parsed.ok) return { found: false, reason: parsed.reason, hint: parsed.hint };
    const { name, range, subpath } = parsed.spec;
    const addHint = `run \`tune add ${name}@${range}\` to fetch it and pin it in tune.lock`;
    if (lock === null) return { found: false, reason: `registry package \`${spec}\` is not installed`, hint: `${addHint} (no tune.lock found above this file)` };
    if ("error" in lock) return { found: false, reason: `tune.lock is invalid: ${lock.error}`, hint: "fix or restore tune.lock, then run `tune install`" };
    const locked = lock.packages.get(name);
    if (!locked) return { found: false, reason: `registry package \`${spec}\` is not installed`, hint: `${addHint} (${lock.path} has no entry for ${name})` };
    if (!semver.satisfies(locked.version, range)) {
      return { found: false, reason: `tune.lock pins ${name}@${locked.version}, which does not satisfy \`${range}\``, hint: `run \`tune add ${name}@${range}\` to move the lock, or widen the range` };
    }
    const dir = packageDir(paths, locked.integrity);
    const manifest = readRecipeManifest(dir);
    if (!manifest.ok) {
      return manifest.reason === "package.json is missing"
        ? { found: false, reason: `${name}@${locked.version} is locked but not in the package cache`, hint: "run `tune install` to fetch the locked packages" }
        : { found: false, reason: `${name}@${locked.version} is not a recipe package: ${manifest.reason}`, hint: "ask its author to add a `tune` field naming its .tune entry files" };
    }
    const { entries } = manifest.manifest;
    const entry = subpath ?? entries[0]!;
    if (!entries.includes(entry)) {
      return { found: false, reason: `${name}@${locked.version} does not export \`${entry}\``, hint: `its entries: ${entries.join(", ")}` };
    }
    const prefix = `${name}@${locked.version}`;
    mounted.set(prefix, { prefix, dir, lock });
    return read({ prefix, dir, lock }, entry);
  };

  const read = (m: Mounted, rel: string): ImportLookup => {
    const got = readInside(m.dir, rel);
    return got.ok
      ? { found: true, source: { path: `${m.prefix}/${rel}`, text: got.text } }
      : { found: false, reason: `${m.prefix}: ${got.reason}`, hint: "imports inside a package stay inside it; report this to the package's author" };
  };

  return {
    resolve(spec, fromPath) {
      const mount = mountOf(fromPath);
      if (isRegistrySpec(spec)) return resolveRegistry(spec, mount ? mount.lock : lockFor(fromPath));
      if (!mount || spec.startsWith("std/")) return null;
      if (!spec.startsWith("./") && !spec.startsWith("../")) {
        return { found: false, reason: `cannot import \`${spec}\` from package ${mount.prefix}`, hint: 'a package imports "std/…", its own files by relative path, or other registry packages' };
      }
      const joined = joinRelative(fromPath, spec);
      if (!joined.startsWith(mount.prefix + "/")) {
        return { found: false, reason: `\`${spec}\` leaves package ${mount.prefix}`, hint: "imports inside a package cannot reach files outside it" };
      }
      return read(mount, joined.slice(mount.prefix.length + 1));
    },
  };
}

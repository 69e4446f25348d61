// Resolve ranges and fill the package store, through pacote (npm's own fetcher: semver ranges, dist-tags,
// scoped registries, .npmrc tokens, an HTTP cache that works offline, sha512 verification).
//
// Why this exists: this is the only module that downloads package contents. A tarball is verified against the
// expected integrity while it streams (pacote/ssri), compared again with what tune.lock records, unpacked into a
// temporary folder (pacote drops links; node-tar refuses `..` and absolute entry paths), checked to be the package
// and version we asked for, and only then renamed into its integrity-named folder. Nothing in a package is ever
// executed: pacote.extract runs no scripts.
import { existsSync, mkdirSync, renameSync, rmSync } from "node:fs";
import { randomBytes } from "node:crypto";
import type * as Pacote from "pacote";
import { fromNpmError, RegistryError } from "./errors.js";
import type { NpmConfig } from "./npmrc.js";
import { packageDir, readRecipeManifest, storePaths, type StorePaths } from "./store.js";

export interface FetchContext {
  readonly config: NpmConfig;
  readonly store: StorePaths;
  /** Use only the cache (pacote's `offline`): no network at all. */
  readonly offline: boolean;
}

export function fetchContext(config: NpmConfig, offline: boolean, cacheDir?: string): FetchContext {
  return { config, store: storePaths(cacheDir), offline };
}

let pacoteModule: typeof Pacote | undefined;
/** pacote is loaded on first use only: compiling and linting never pay for npm's client libraries. */
export async function pacote(): Promise<typeof Pacote> {
  if (!pacoteModule) {
    // A CommonJS module: its exports arrive as `default` (and, depending on the loader, also as named exports).
    const mod = (await import("pacote")) as unknown as typeof Pacote & { default?: typeof Pacote };
    pacoteModule = mod.default ?? mod;
  }
  return pacoteModule;
}

/** Options for pacote / npm-registry-fetch from the context. */
export function npmOptions(ctx: FetchContext, extra: Record<string, unknown> = {}): Pacote.Options {
  return {
    ...ctx.config.options,
    cache: ctx.store.npmCache,
    offline: ctx.offline,
    userAgent: "tune (npm-compatible recipe registry client)",
    // Scripts are never run, whatever the spec type.
    ignoreScripts: true,
    ...extra,
  } as Pacote.Options;
}

export interface Resolved {
  readonly name: string;
  readonly version: string;
  readonly resolved: string;
  readonly integrity: string;
}

/** Pick the newest version of `name` matching `range` (semver range or dist-tag), as the registry lists it. */
export async function resolveVersion(ctx: FetchContext, name: string, range: string): Promise<Resolved> {
  const what = `${name}@${range}`;
  const p = await pacote();
  let m;
  try {
    m = await p.manifest(what, npmOptions(ctx, { preferOnline: !ctx.offline }));
  } catch (e) {
    throw fromNpmError(e, what, ctx.config.secrets);
  }
  const integrity = typeof m._integrity === "string" ? m._integrity : "";
  const sha512 = integrity.split(/\s+/).find((i) => i.startsWith("sha512-"));
  if (!sha512) {
    throw new RegistryError("T8003", `${name}@${m.version} has no sha512 integrity in the registry's metadata`, "tune only installs packages whose sha512 the registry publishes; republish it with a current npm client or tune");
  }
  return { name, version: m.version, resolved: stripCredentials(m._resolved), integrity: sha512 };
}

/** Every published version of `name`. */
export async function listVersions(ctx: FetchContext, name: string): Promise<string[]> {
  const p = await pacote();
  try {
    const doc = await p.packument(name, npmOptions(ctx, { preferOnline: !ctx.offline }));
    return Object.keys(doc.versions);
  } catch (e) {
    throw fromNpmError(e, name, ctx.config.secrets);
  }
}

/** A URL without `user:password@` (lockfiles never carry credentials). */
export function stripCredentials(url: string): string {
  try {
    const u = new URL(url);
    u.username = "";
    u.password = "";
    return u.href;
  } catch {
    return url;
  }
}

/**
 * Make sure the exact package `pkg` (verified by its integrity) is unpacked in the store; return its folder.
 * A folder already present was verified when it was written, so this is free for installed packages.
 */
export async function ensureInStore(ctx: FetchContext, pkg: Resolved): Promise<string> {
  const dir = packageDir(ctx.store, pkg.integrity);
  if (existsSync(dir)) return dir;
  const what = `${pkg.name}@${pkg.version}`;
  const p = await pacote();
  mkdirSync(ctx.store.packages, { recursive: true });
  const tmp = `${dir}.tmp-${process.pid}-${randomBytes(4).toString("hex")}`;
  try {
    let got: Pacote.FetchResult;
    try {
      got = await p.extract(pkg.resolved, tmp, npmOptions(ctx, { integrity: pkg.integrity, resolved: pkg.resolved, pkgid: what }));
    } catch (e) {
      throw fromNpmError(e, what, ctx.config.secrets);
    }
    if (!String(got.integrity).split(/\s+/).includes(pkg.integrity)) {
      throw new RegistryError("T8003", `integrity check failed for ${what}: got ${String(got.integrity).slice(0, 24)}…, tune.lock expects ${pkg.integrity.slice(0, 24)}…`, "the tarball differs from the one that was locked; nothing was installed");
    }
    const manifest = readRecipeManifest(tmp);
    if (!manifest.ok) throw new RegistryError("T8010", `${what} is not a recipe package: ${manifest.reason}`, "only packages with a `tune` field in package.json can be installed");
    if (manifest.manifest.name !== pkg.name || manifest.manifest.version !== pkg.version) {
      throw new RegistryError("T8010", `the tarball for ${what} holds ${manifest.manifest.name}@${manifest.manifest.version}`, "the registry serves a different package under this name; report it to its operator");
    }
    try {
      renameSync(tmp, dir);
    } catch (e) {
      // Another process installed the same bytes first: theirs is as good as ours.
      if (!existsSync(dir)) throw fromNpmError(e, `cannot store ${what}`, []);
    }
    return dir;
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

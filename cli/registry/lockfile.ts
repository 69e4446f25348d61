// The registry part of `tune.lock`: the `packages` object, one entry per package name with the exact version,
// the tarball URL it came from and its sha512 integrity.
//
// Why this exists: a range in an import (`@acme/alpagasus@^1.2`) says what a recipe accepts; the lock says what
// it got, so every machine compiles the same bytes. tune.lock is shared with the execution engine (models,
// datasets, seeds), so this module reads and rewrites only `packages` and keeps every other key as it found it.
// One version per package name per project keeps name resolution in recipes unambiguous.
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import semver from "semver";
import { atomicWrite } from "../fs-util.js";
import { RegistryError } from "./errors.js";

export const LOCK_FILE = "tune.lock";
/** The lockfile format version written when tune creates the file. */
export const LOCK_VERSION = 1;

export interface LockedPackage {
  /** Exact semver version. */
  readonly version: string;
  /** Tarball URL it was fetched from (no credentials). */
  readonly resolved: string;
  /** Subresource-integrity string, `sha512-<base64>`. */
  readonly integrity: string;
  /** Registry packages this package's .tune files import, name → range (absent when none). */
  readonly imports?: Readonly<Record<string, string>>;
}

export interface Lock {
  /** Where the lock lives (it may not exist yet). */
  readonly path: string;
  /** The whole JSON object as read (other sections belong to other features). */
  readonly raw: Readonly<Record<string, unknown>>;
  readonly packages: ReadonlyMap<string, LockedPackage>;
}

const INTEGRITY = /^sha512-[A-Za-z0-9+/]{86}==$/;

/** The nearest tune.lock at or above `dir`, or null. */
export function findLock(dir: string): string | null {
  let d = resolve(dir);
  for (;;) {
    const p = join(d, LOCK_FILE);
    if (existsSync(p)) return p;
    const up = dirname(d);
    if (up === d) return null;
    d = up;
  }
}

export function readLock(path: string): Lock {
  if (!existsSync(path)) return { path, raw: {}, packages: new Map() };
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, "utf8"));
  } catch (e) {
    throw invalid(path, e instanceof SyntaxError ? `not valid JSON (${e.message})` : `cannot be read (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
  }
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) throw invalid(path, "the top level is not a JSON object");
  const obj = raw as Record<string, unknown>;
  const packages = new Map<string, LockedPackage>();
  const section = obj["packages"];
  if (section !== undefined) {
    if (typeof section !== "object" || section === null || Array.isArray(section)) throw invalid(path, "`packages` is not an object");
    for (const [name, entry] of Object.entries(section as Record<string, unknown>)) packages.set(name, checkEntry(path, name, entry));
  }
  return { path, raw: obj, packages };
}

function checkEntry(path: string, name: string, entry: unknown): LockedPackage {
  if (typeof entry !== "object" || entry === null) throw invalid(path, `packages["${name}"] is not an object`);
  const e = entry as Record<string, unknown>;
  const { version, resolved, integrity, imports } = e;
  if (typeof version !== "string" || semver.valid(version) === null) throw invalid(path, `packages["${name}"].version is not an exact semver version`);
  if (typeof resolved !== "string" || !/^https?:\/\//.test(resolved)) throw invalid(path, `packages["${name}"].resolved is not an http(s) URL`);
  if (/\/\/[^/]*@/.test(resolved)) throw invalid(path, `packages["${name}"].resolved carries credentials; remove them`);
  if (typeof integrity !== "string" || !INTEGRITY.test(integrity)) throw invalid(path, `packages["${name}"].integrity is not a sha512 integrity (\`sha512-…==\`)`);
  if (imports !== undefined && (typeof imports !== "object" || imports === null || Object.values(imports).some((v) => typeof v !== "string"))) {
    throw invalid(path, `packages["${name}"].imports is not an object of name → range`);
  }
  return { version, resolved, integrity, ...(imports ? { imports: imports as Record<string, string> } : {}) };
}

function invalid(path: string, why: string): RegistryError {
  return new RegistryError("T8009", `${path}: ${why}`, "restore tune.lock from version control, or delete its `packages` entry and run `tune install`");
}

/** Serialise with sorted package names and a fixed key order, so the file diffs cleanly. */
export function lockText(raw: Readonly<Record<string, unknown>>, packages: ReadonlyMap<string, LockedPackage>): string {
  const sorted: Record<string, LockedPackage> = {};
  for (const name of [...packages.keys()].sort()) {
    const p = packages.get(name)!;
    const imports = p.imports && Object.keys(p.imports).length > 0 ? Object.fromEntries(Object.entries(p.imports).sort(([a], [b]) => (a < b ? -1 : 1))) : undefined;
    sorted[name] = { version: p.version, resolved: p.resolved, integrity: p.integrity, ...(imports ? { imports } : {}) };
  }
  const out: Record<string, unknown> = { version: raw["version"] ?? LOCK_VERSION };
  for (const [k, v] of Object.entries(raw)) if (k !== "packages" && k !== "version") out[k] = v;
  out["packages"] = sorted;
  return JSON.stringify(out, null, 2) + "\n";
}

export function writeLock(lock: Lock, packages: ReadonlyMap<string, LockedPackage>): void {
  try {
    atomicWrite(lock.path, lockText(lock.raw, packages));
  } catch (e) {
    throw new RegistryError("T8015", `cannot write ${lock.path}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`, "check that the project folder is writable");
  }
}

// The content-addressed node-output cache at $TUNE_CACHE (default ~/.cache/tune), shared by every recipe.
//
// Why this exists: re-running a recipe must recompute exactly the nodes whose hash changed, and a crash, a full
// disk or two runs of the same recipe must never leave a torn entry that a later run reads back. An entry is a
// directory built under tmp/, fsynced, sealed with checksums (cache-meta.ts) and renamed into place in one step;
// readers verify before use and quarantine what fails. Removal renames into trash/ first, so a half-deleted
// entry is never visible under its key either. Layout (all on one file system, so renames are atomic):
//
//   <root>/v1/entries/<key[0..2]>/<key>/{meta.json, out/…}    out/ is what the node's writer produced
//   <root>/v1/tmp/<key>.<host>.<pid>.<rand>/                  entries being written
//   <root>/v1/trash/, <root>/v1/quarantine/                    being deleted / failed verification (kept for a look)

import { randomBytes } from "node:crypto";
import { mkdir, open, readFile, readdir, rename, stat, utimes, writeFile } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";
import { buildMeta, KEY_RE, parseMeta, verifyFiles, type CacheEntryMeta, type FileDigest, type PutMeta, type VerifyLevel } from "./cache-meta.js";
import { errnoCode, stderrWarnings, StoreError, type WarningSink } from "./errors.js";
import { hashFile, HOST, listTree, processAlive, removeTree, syncDir, treeBytes, type JsonValue } from "./fsx.js";

export { cacheKey, type CacheEntryMeta, type PutMeta, type VerifyLevel } from "./cache-meta.js";

/** $TUNE_CACHE, else $XDG_CACHE_HOME/tune, else ~/.cache/tune. */
export function defaultCacheRoot(env: NodeJS.ProcessEnv = process.env): string {
  if (env["TUNE_CACHE"]) return env["TUNE_CACHE"];
  return join(env["XDG_CACHE_HOME"] || join(homedir(), ".cache"), "tune");
}

export interface CacheEntry {
  /** The entry's output directory (what the writer wrote); read-only by convention. */
  readonly dir: string;
  readonly meta: CacheEntryMeta;
}

export interface CacheEntryInfo {
  readonly key: string;
  readonly op: string;
  readonly nodeId: string;
  readonly recipe: string;
  readonly created: string;
  readonly lastUsed: Date;
  readonly bytes: number;
  /** Set when meta.json cannot be read (the entry will be quarantined by the next `get`). */
  readonly problem?: string;
}

export interface GcReport {
  readonly removed: CacheEntryInfo[];
  readonly freedBytes: number;
  readonly keptEntries: number;
  readonly keptBytes: number;
  /** Bytes of abandoned temp dirs, quarantined and trashed entries cleaned up. */
  readonly scratchBytes: number;
}

export interface CacheStoreOptions {
  /** Defaults to `defaultCacheRoot()`. */
  readonly root?: string;
  /** Where corrupt-entry warnings go (default: stderr). */
  readonly warn?: WarningSink;
  /** Verification on `get` (default "full": sha256 of every file, once per entry per CacheStore). */
  readonly verify?: VerifyLevel;
}

/** Temp dirs of writers on this host whose pid is gone, or of any host after this long, are abandoned. */
const TMP_MAX_AGE_MS = 24 * 3600 * 1000;

export class CacheStore {
  readonly root: string;
  private readonly base: string;
  private readonly warn: WarningSink;
  private readonly level: VerifyLevel;
  /** Entries fully verified by this instance (key → seal); later gets re-check sizes only. */
  private readonly verified = new Map<string, string>();

  constructor(opts: CacheStoreOptions = {}) {
    this.root = opts.root ?? defaultCacheRoot();
    this.base = join(this.root, "v1");
    this.warn = opts.warn ?? stderrWarnings;
    this.level = opts.verify ?? "full";
  }

  entryPath(key: string): string {
    return join(this.base, "entries", key.slice(0, 2), key);
  }

  /** Whether an entry is present (not verified: use for planning; `get` before reading). */
  async has(key: string): Promise<boolean> {
    checkKey(key);
    return stat(join(this.entryPath(key), "meta.json")).then(
      () => true,
      () => false,
    );
  }

  /** The verified entry, or null. A corrupt entry is reported (T9001), moved to quarantine and never returned. */
  async get(key: string, opts: { verify?: VerifyLevel } = {}): Promise<CacheEntry | null> {
    checkKey(key);
    const path = this.entryPath(key);
    let text: string;
    try {
      text = await readFile(join(path, "meta.json"), "utf8");
    } catch (e) {
      if (errnoCode(e) !== "ENOENT") throw e;
      if (await exists(path)) await this.quarantine(key, "meta.json is missing");
      return null;
    }
    const meta = parseMeta(text, key);
    if (typeof meta === "string") return this.reject(key, meta);
    const level = this.verified.get(key) === meta.seal ? "size" : opts.verify ?? this.level;
    let problem: string | null;
    try {
      problem = await verifyFiles(join(path, "out"), meta, level);
    } catch (e) {
      if (errnoCode(e) !== "ENOENT") throw e;
      problem = "a file vanished while it was verified";
    }
    if (problem && !(await exists(path))) return null; // removed by rm/gc while we read it: a plain miss
    if (problem) return this.reject(key, problem);
    if (level === "full") this.verified.set(key, meta.seal);
    await touch(path);
    return { dir: join(path, "out"), meta };
  }

  /**
   * Store a node's output atomically. `writer` fills a fresh directory; it is called only when the key is absent.
   * Files are hashed and fsynced, meta.json is written, and the directory is renamed into place. When another
   * process put the same key first, its (verified) entry wins and ours is discarded: `created` says which.
   */
  async put(key: string, writer: (dir: string) => Promise<void>, meta: PutMeta): Promise<CacheEntry & { created: boolean }> {
    checkKey(key);
    const existing = await this.get(key);
    if (existing) return { ...existing, created: false };
    const tmp = join(this.base, "tmp", `${key}.${HOST}.${process.pid}.${randomBytes(4).toString("hex")}`);
    try {
      await mkdir(join(tmp, "out"), { recursive: true });
    } catch (e) {
      throw new StoreError("T9005", `cannot create the cache directory ${this.root}: ${errnoCode(e) ?? (e as Error).message}`, "set TUNE_CACHE to a writable directory");
    }
    try {
      await writer(join(tmp, "out"));
      const entryMeta = buildMeta(key, meta, await sealFiles(join(tmp, "out")), new Date());
      await writeDurable(join(tmp, "meta.json"), JSON.stringify(entryMeta, null, 2) + "\n");
      await syncDir(tmp);
      return { ...(await this.publish(key, tmp, entryMeta)), created: true };
    } catch (e) {
      await removeTree(tmp);
      if (e instanceof AlreadyThere) return { ...e.entry, created: false };
      throw e;
    }
  }

  /** Convenience for small JSON outputs (eval results, row counts): stored as out/value.json. */
  async putJson(key: string, value: JsonValue, meta: PutMeta): Promise<CacheEntry & { created: boolean }> {
    return this.put(key, (dir) => writeFile(join(dir, "value.json"), JSON.stringify(value) + "\n"), meta);
  }

  async getJson(key: string): Promise<{ value: JsonValue; meta: CacheEntryMeta } | null> {
    const entry = await this.get(key);
    if (!entry) return null;
    const text = await readFile(join(entry.dir, "value.json"), "utf8").catch(() => null);
    if (text === null) throw new StoreError("T9007", `cache entry ${key.slice(0, 12)} holds no value.json`, "it was not written by putJson; read it with get()");
    return { value: JSON.parse(text) as JsonValue, meta: entry.meta };
  }

  /** Every entry with its size and last use, most recently used first. */
  async ls(): Promise<CacheEntryInfo[]> {
    const out: CacheEntryInfo[] = [];
    const entries = join(this.base, "entries");
    for (const shard of await readdirOrEmpty(entries)) {
      for (const key of await readdirOrEmpty(join(entries, shard))) {
        if (KEY_RE.test(key)) out.push(await this.info(key));
      }
    }
    return out.sort((a, b) => b.lastUsed.getTime() - a.lastUsed.getTime() || (a.key < b.key ? -1 : 1));
  }

  /**
   * Clean abandoned temp dirs, trash and quarantine, then remove least-recently-used entries until the entries
   * fit in `budgetBytes`. `dryRun` reports what would go and removes nothing.
   */
  async gc(opts: { budgetBytes: number; dryRun?: boolean; now?: Date }): Promise<GcReport> {
    const now = opts.now ?? new Date();
    let scratchBytes = 0;
    for (const dir of ["trash", "quarantine"]) {
      for (const name of await readdirOrEmpty(join(this.base, dir))) {
        scratchBytes += await treeBytes(join(this.base, dir, name));
        if (!opts.dryRun) await removeTree(join(this.base, dir, name));
      }
    }
    for (const name of await readdirOrEmpty(join(this.base, "tmp"))) {
      const path = join(this.base, "tmp", name);
      if (!(await abandoned(name, path, now))) continue;
      scratchBytes += await treeBytes(path);
      if (!opts.dryRun) await removeTree(path);
    }
    const all = (await this.ls()).reverse(); // least recently used first
    let kept = all.reduce((s, e) => s + e.bytes, 0);
    const removed: CacheEntryInfo[] = [];
    for (const e of all) {
      if (kept <= opts.budgetBytes) break;
      if (!opts.dryRun) await this.remove(e.key);
      removed.push(e);
      kept -= e.bytes;
    }
    const freedBytes = removed.reduce((s, e) => s + e.bytes, 0);
    return { removed, freedBytes, keptEntries: all.length - removed.length, keptBytes: kept, scratchBytes };
  }

  /**
   * Remove the given keys (absent ones are skipped), or every key starting with `prefix` (at least 4 hex digits;
   * T9003 when none matches). Returns what went.
   */
  async rm(sel: { keys?: readonly string[]; prefix?: string }): Promise<CacheEntryInfo[]> {
    let keys: string[];
    if (sel.prefix !== undefined) {
      const prefix = sel.prefix.toLowerCase();
      if (!/^[0-9a-f]{4,64}$/.test(prefix)) {
        throw new StoreError("T9004", `\`${sel.prefix}\` is not a cache key prefix of at least 4 hex digits`, "copy the key from `tune cache ls`; to empty the cache use `tune cache gc --budget 0`");
      }
      keys = (await this.ls()).map((e) => e.key).filter((k) => k.startsWith(prefix));
      if (keys.length === 0) throw new StoreError("T9003", `no cache entry starts with \`${sel.prefix}\``, "`tune cache ls` lists the entries and their keys");
    } else keys = [...(sel.keys ?? [])];
    const removed: CacheEntryInfo[] = [];
    for (const key of keys) {
      checkKey(key);
      if (!(await exists(this.entryPath(key)))) continue;
      removed.push(await this.info(key));
      await this.remove(key);
    }
    return removed;
  }

  // ---- internals

  private async info(key: string): Promise<CacheEntryInfo> {
    const path = this.entryPath(key);
    const lastUsed = (await stat(path)).mtime;
    const text = await readFile(join(path, "meta.json"), "utf8").catch(() => "");
    const meta = parseMeta(text, key);
    if (typeof meta === "string") return { key, op: "?", nodeId: "?", recipe: "?", created: "?", lastUsed, bytes: await treeBytes(path), problem: meta };
    return { key, op: meta.op, nodeId: meta.nodeId, recipe: meta.recipe, created: meta.created, lastUsed, bytes: meta.bytes };
  }

  private async publish(key: string, tmp: string, meta: CacheEntryMeta): Promise<CacheEntry> {
    const final = this.entryPath(key);
    await mkdir(join(final, ".."), { recursive: true });
    for (let attempt = 0; ; attempt++) {
      try {
        await rename(tmp, final);
        break;
      } catch (e) {
        const code = errnoCode(e);
        // ENOTEMPTY/EEXIST: the key exists (EPERM is what Windows says for the same thing)
        if ((code !== "ENOTEMPTY" && code !== "EEXIST" && code !== "EPERM") || attempt > 0) throw e;
        const winner = await this.get(key); // another writer was first; a corrupt one is quarantined
        if (winner) throw new AlreadyThere(winner);
      }
    }
    await syncDir(join(final, ".."));
    this.verified.set(key, meta.seal);
    return { dir: join(final, "out"), meta };
  }

  private async reject(key: string, reason: string): Promise<null> {
    await this.quarantine(key, reason);
    return null;
  }

  private async quarantine(key: string, reason: string): Promise<void> {
    const dest = join(this.base, "quarantine", `${key}.${Date.now()}.${randomBytes(3).toString("hex")}`);
    await mkdir(join(this.base, "quarantine"), { recursive: true });
    this.verified.delete(key);
    try {
      await rename(this.entryPath(key), dest);
    } catch (e) {
      if (errnoCode(e) === "ENOENT") return; // another reader moved it already (and reported it)
      throw e;
    }
    this.warn({
      code: "T9001",
      message: `cache entry ${key.slice(0, 12)} is corrupt (${reason}); moved to ${dest} and will be recomputed`,
      hint: "`tune cache gc` deletes quarantined entries; repeated corruption points at a failing disk",
    });
  }

  private async remove(key: string): Promise<void> {
    const dest = join(this.base, "trash", `${key}.${process.pid}.${randomBytes(3).toString("hex")}`);
    await mkdir(join(this.base, "trash"), { recursive: true });
    try {
      await rename(this.entryPath(key), dest);
    } catch (e) {
      if (errnoCode(e) === "ENOENT") return;
      throw e;
    }
    this.verified.delete(key);
    await removeTree(dest);
  }
}

class AlreadyThere extends Error {
  constructor(readonly entry: CacheEntry) {
    super("entry already present");
  }
}

function checkKey(key: string): void {
  if (!KEY_RE.test(key)) throw new StoreError("T9002", `invalid cache key ${JSON.stringify(key)}`, "keys are 64 lowercase hex digits; build them with cacheKey(node.hash, identities)");
}

/** Hash and fsync every file a writer produced; refuse symlinks and other non-files. */
async function sealFiles(out: string): Promise<Record<string, FileDigest>> {
  const listing = await listTree(out);
  if (listing.other.length > 0) {
    throw new StoreError("T9007", `cache output contains ${listing.other[0]}, which is not a regular file`, "write plain files (copy instead of symlinking)");
  }
  const files: Record<string, FileDigest> = {};
  for (const f of listing.files) files[f] = await hashFile(join(out, f), true);
  for (const d of [...listing.dirs].reverse()) await syncDir(join(out, d));
  await syncDir(out);
  return files;
}

async function writeDurable(path: string, text: string): Promise<void> {
  const fh = await open(path, "w");
  try {
    await fh.writeFile(text);
    await fh.sync();
  } finally {
    await fh.close();
  }
}

async function abandoned(name: string, path: string, now: Date): Promise<boolean> {
  const parts = name.split(".");
  const pid = Number(parts[parts.length - 2]);
  const host = parts.slice(1, -2).join(".");
  const age = now.getTime() - (await stat(path).then((s) => s.mtime.getTime(), () => 0));
  if (age > TMP_MAX_AGE_MS) return true;
  return host === HOST && !processAlive(pid, null);
}

async function touch(path: string): Promise<void> {
  const now = new Date();
  await utimes(path, now, now).catch(() => undefined);
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

async function readdirOrEmpty(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir)).sort();
  } catch (e) {
    if (errnoCode(e) === "ENOENT") return [];
    throw e;
  }
}

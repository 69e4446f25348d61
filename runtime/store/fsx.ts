// File-system helpers the storage layer shares: durable writes (fsync + rename + directory fsync), streaming
// sha256, recursive listings, sorted-key JSON and process liveness for lock files.
//
// Why this exists: the cache and run directories promise that `kill -9` at any moment leaves either the old state
// or the new one. That promise rests on a few primitives used the same way everywhere; they live here once.
// Async atomic writes come from runtime/io/atomic.ts; the synchronous variant below exists because run status
// must be writable from an `exit` or signal handler, where no promise will ever resolve.

import { createHash, randomBytes } from "node:crypto";
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, unlinkSync, writeSync } from "node:fs";
import { lstat, open, readdir, rm } from "node:fs/promises";
import { hostname } from "node:os";
import { basename, dirname, join } from "node:path";
import { syncDir, tempPathFor, writeFileAtomic } from "../io/atomic.js";

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

// ---- JSON

/** A copy of `value` with object keys sorted at every level (deterministic files, stable diffs). */
export function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value === null || typeof value !== "object") return value;
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(value).sort()) {
    const v = (value as Record<string, unknown>)[k];
    if (v !== undefined) out[k] = sortKeys(v);
  }
  return out;
}

/** Pretty JSON with sorted keys and a trailing newline. */
export function stableJson(value: unknown): string {
  return JSON.stringify(sortKeys(value), null, 2) + "\n";
}

export function sha256Hex(text: string | Uint8Array): string {
  return createHash("sha256").update(text).digest("hex");
}

// ---- durable writes

export function syncDirSync(dir: string): void {
  try {
    const fd = openSync(dir, "r");
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    // Some platforms cannot fsync a directory; the rename has still happened.
  }
}

export { syncDir };

/** Synchronous temp + fsync + rename + directory fsync. */
export function writeFileAtomicSync(path: string, data: string | Uint8Array): void {
  const tmp = tempPathFor(path);
  const fd = openSync(tmp, "w");
  try {
    writeSync(fd, typeof data === "string" ? Buffer.from(data) : data);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  try {
    renameSync(tmp, path);
  } catch (e) {
    try {
      unlinkSync(tmp);
    } catch {
      // already gone
    }
    throw e;
  }
  syncDirSync(dirname(path));
}

export const writeJsonAtomicSync = (path: string, value: unknown): void => writeFileAtomicSync(path, stableJson(value));
export const writeJsonAtomic = (path: string, value: unknown): Promise<void> => writeFileAtomic(path, stableJson(value));

export function readJsonSync(path: string): unknown {
  return JSON.parse(readFileSync(path, "utf8"));
}

// ---- hashing and listing

/** sha256 and size of a file in one streaming pass; with `sync`, also fsync it (its data reaches the disk). */
export async function hashFile(path: string, sync = false): Promise<{ sha256: string; size: number }> {
  const fh = await open(path, "r");
  try {
    const hash = createHash("sha256");
    const buf = Buffer.allocUnsafe(1 << 20);
    let size = 0;
    for (;;) {
      const { bytesRead } = await fh.read(buf, 0, buf.length, null);
      if (bytesRead === 0) break;
      hash.update(buf.subarray(0, bytesRead));
      size += bytesRead;
    }
    if (sync) await fh.sync();
    return { sha256: hash.digest("hex"), size };
  } finally {
    await fh.close();
  }
}

export interface Listing {
  /** Regular files, relative, `/`-separated, sorted. */
  readonly files: string[];
  /** Sub-directories, relative, parents before children. */
  readonly dirs: string[];
  /** Anything else (symlinks, sockets, …), relative. */
  readonly other: string[];
}

export async function listTree(root: string): Promise<Listing> {
  const files: string[] = [];
  const dirs: string[] = [];
  const other: string[] = [];
  const walk = async (rel: string): Promise<void> => {
    const entries = await readdir(rel ? join(root, rel) : root, { withFileTypes: true });
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of entries) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) {
        dirs.push(r);
        await walk(r);
      } else if (e.isFile()) files.push(r);
      else other.push(r);
    }
  };
  await walk("");
  return { files, dirs, other };
}

/** Total bytes of the regular files under `root` (0 when it does not exist). */
export async function treeBytes(root: string): Promise<number> {
  let total = 0;
  try {
    const { files } = await listTree(root);
    for (const f of files) total += (await lstat(join(root, f))).size;
  } catch {
    return total;
  }
  return total;
}

export const removeTree = (path: string): Promise<void> => rm(path, { recursive: true, force: true, maxRetries: 2 });

// ---- process identity (lock files)

export const HOST = hostname();

/** Kernel start time of a process (Linux /proc, in clock ticks since boot), or null where unavailable. */
export function processStartTime(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Field 2 (comm) may contain spaces and parentheses; fields after the last ')' are fixed.
    const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const v = Number(rest[19]); // field 22 overall: starttime
    return Number.isFinite(v) ? v : null;
  } catch {
    return null;
  }
}

/**
 * Whether the process that wrote a lock still runs: the pid exists and, where the kernel tells start times,
 * it is the same process (not a later one that reused the pid).
 */
export function processAlive(pid: number, startTime: number | null | undefined): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "EPERM") return false;
  }
  if (startTime == null) return true;
  const now = processStartTime(pid);
  return now == null || now === startTime;
}

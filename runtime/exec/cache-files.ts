// The run-directory files a node writes besides its value — checkpoints, loss
// curves, eval JSON, responses, exported adapters — so a cached node leaves
// the same files in the new run directory as a computed one. The node's files
// are found by comparing the run directory before and after it ran (the
// scheduler runs one node at a time), without any op having to list them.
// Run-level files (log, metrics, status, …) belong to the run, not to a node.
import { createReadStream } from "node:fs";
import { copyFile, lstat, mkdir } from "node:fs/promises";
import { dirname, join } from "node:path";
import { listTree } from "../store/fsx.js";
import { RUN_FILES } from "../store/index.js";
import { writeFileAtomic } from "../io/atomic.js";

export type RunDirSnapshot = ReadonlyMap<string, string>;

const RUN_LEVEL: ReadonlySet<string> = new Set([...Object.values(RUN_FILES), "summary.json", "run.log", "metrics.jsonl"]);
const TEMP = /(^|\/)\.[^/]*\.tmp-[^/]*$/;

async function files(root: string): Promise<string[]> {
  try {
    return (await listTree(root)).files;
  } catch {
    return [];
  }
}

/** Every regular file under `runDir` with a stamp that changes whenever it is rewritten (atomic writes change the inode). */
export async function snapshotRunDir(runDir: string): Promise<RunDirSnapshot> {
  const out = new Map<string, string>();
  for (const f of await files(runDir)) {
    if (RUN_LEVEL.has(f) || TEMP.test(f)) continue;
    const s = await lstat(join(runDir, f)).catch(() => null);
    if (s) out.set(f, `${s.size}:${s.mtimeMs}:${s.ino}`);
  }
  return out;
}

/** Files created or rewritten since `before` (relative, `/`-separated, sorted). */
export async function changedSince(runDir: string, before: RunDirSnapshot): Promise<string[]> {
  const now = await snapshotRunDir(runDir);
  return [...now].filter(([f, stamp]) => before.get(f) !== stamp).map(([f]) => f);
}

/** The regular files at or under each relative path (a result may name a directory, e.g. an exported adapter). */
export async function expandPaths(runDir: string, paths: readonly string[]): Promise<string[]> {
  const out = new Set<string>();
  for (const p of paths) {
    const s = await lstat(join(runDir, p)).catch(() => null);
    if (!s) throw new Error(`${p} is named by the node's result but does not exist in the run directory`);
    if (s.isFile()) out.add(p);
    else if (s.isDirectory()) for (const f of await files(join(runDir, p))) out.add(`${p}/${f}`);
  }
  return [...out].sort();
}

/** Copy run-directory files into a cache entry (plain copies: the store seals and renames the entry). */
export async function copyIntoEntry(runDir: string, rels: readonly string[], dest: string): Promise<void> {
  for (const rel of rels) {
    const to = join(dest, ...rel.split("/"));
    await mkdir(dirname(to), { recursive: true });
    await copyFile(join(runDir, ...rel.split("/")), to);
  }
}

/** Restore an entry's files into the run directory, each written atomically. */
export async function restoreFromEntry(src: string, rels: readonly string[], runDir: string): Promise<void> {
  for (const rel of rels) {
    const to = join(runDir, ...rel.split("/"));
    await mkdir(dirname(to), { recursive: true });
    await writeFileAtomic(to, createReadStream(join(src, ...rel.split("/"))));
  }
}

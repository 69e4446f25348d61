// The Hugging Face hub cache on disk, exactly as huggingface_hub (Python) lays it out, so that a dataset tune
// downloads is found by `datasets`/`huggingface_hub` and one `huggingface-cli download` serves tune:
//
//   <cache>/datasets--<org>--<name>/
//     blobs/<etag>                          file content; etag = sha256 for LFS files, git blob sha1 otherwise
//     snapshots/<commit>/<path in repo>     relative symlink to ../../blobs/<etag> (one more ../ per folder)
//     refs/<revision>                       the commit a branch or tag resolved to (no newline)
//
// Why this exists: one module owns the layout and its invariants — a blob only appears under its final name
// after its bytes were verified (temp file + rename), symlinks are replaced atomically, a repo path can never
// escape the repo folder — so the resolver above it only says what to fetch.

import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { lstat, mkdir, readFile, readdir, readlink, realpath, rename, stat, symlink, unlink } from "node:fs/promises";
import { basename, dirname, join, relative, sep } from "node:path";
import { tempPathFor, writeFileAtomic, type Chunks } from "../../io/atomic.js";
import { HubDatasetError } from "./errors.js";

export const COMMIT_RE = /^[0-9a-f]{40}$/;
const SHA256_RE = /^[0-9a-f]{64}$/;

/** `datasets--org--name`, huggingface_hub's folder name for a dataset repo. */
export function repoFolderName(id: string): string {
  return `datasets--${id.split("/").join("--")}`;
}

/** Refuse a repo path that is absolute, climbs out (`..`) or is otherwise unsafe to join onto the cache. */
export function checkRepoPath(path: string, id: string): string {
  const parts = path.split("/");
  const bad = path === "" || path.startsWith("/") || path.includes("\\") || path.includes("\0") || parts.some((p) => p === "" || p === "." || p === "..");
  if (bad) throw new HubDatasetError("T7208", `hub dataset ${id} lists the unsafe file path ${JSON.stringify(path)}`, "this is a problem of the repository or the endpoint; report it to its owner");
  return path;
}

/** The layout of one dataset repo in one cache. */
export class RepoCache {
  readonly dir: string;

  constructor(
    readonly cacheDir: string,
    readonly id: string,
  ) {
    this.dir = join(cacheDir, repoFolderName(id));
  }

  blob(etag: string): string {
    return join(this.dir, "blobs", etag);
  }

  snapshot(commit: string): string {
    return join(this.dir, "snapshots", commit);
  }

  /** The commit `refs/<revision>` names, or null. A revision that is itself a commit needs no ref. */
  async readRef(revision: string): Promise<string | null> {
    try {
      const c = (await readFile(join(this.dir, "refs", ...revision.split("/")), "utf8")).trim();
      return COMMIT_RE.test(c) ? c : null;
    } catch {
      return null;
    }
  }

  /** Record that `revision` resolved to `commit` (huggingface_hub writes no ref for a commit). */
  async writeRef(revision: string, commit: string): Promise<void> {
    if (revision === commit) return;
    const file = join(this.dir, "refs", ...revision.split("/").map((p) => checkRepoPath(p, this.id)));
    await mkdir(dirname(file), { recursive: true });
    await writeFileAtomic(file, commit);
  }

  /** Whether a blob exists under its final name. */
  async hasBlob(etag: string): Promise<boolean> {
    return (await stat(this.blob(etag)).catch(() => null))?.isFile() ?? false;
  }

  /**
   * Write a blob from a stream of chunks: bytes go to a temp file beside it and are renamed to `blobs/<etag>`
   * only when size and hash match `expect`; otherwise the temp file is deleted and T7206 is thrown.
   */
  async writeBlob(etag: string, chunks: Chunks, expect: Expected, label: string): Promise<void> {
    const file = this.blob(etag);
    await mkdir(dirname(file), { recursive: true });
    await writeFileAtomic(file, verifying(chunks, expect, label));
    await markVerified(file);
  }

  /** Make `snapshots/<commit>/<path>` a relative symlink to its blob, replacing what was there atomically. */
  async link(commit: string, path: string, etag: string): Promise<string> {
    const pointer = join(this.snapshot(commit), ...checkRepoPath(path, this.id).split("/"));
    await mkdir(dirname(pointer), { recursive: true });
    const target = relative(dirname(pointer), this.blob(etag)).split(sep).join("/");
    if ((await readlink(pointer).catch(() => null)) === target) return pointer;
    const tmp = tempPathFor(pointer);
    await symlink(target, tmp);
    try {
      await rename(tmp, pointer);
    } catch (e) {
      await unlink(tmp).catch(() => undefined);
      throw e;
    }
    return pointer;
  }

  /** Repo paths present in a snapshot (whose symlinks resolve to an existing file), sorted; [] when absent. */
  async snapshotFiles(commit: string): Promise<string[]> {
    const root = this.snapshot(commit);
    const out: string[] = [];
    const walk = async (dir: string, prefix: string): Promise<void> => {
      const names = await readdir(dir).catch(() => [] as string[]);
      for (const name of names) {
        const full = join(dir, name);
        const s = await stat(full).catch(() => null);
        if (s?.isDirectory()) await walk(full, `${prefix}${name}/`);
        else if (s?.isFile()) out.push(`${prefix}${name}`);
      }
    };
    await walk(root, "");
    return out.sort();
  }
}

// ---- verification

/** What a file's bytes must hash to: the LFS sha256, or the git blob sha1 (which covers the size too). */
export type Expected = { readonly size: number; readonly sha256: string } | { readonly size: number; readonly gitSha1: string };

/** The expectation a blob's own name implies (the HF cache names blobs by etag), or null when it implies none. */
export function expectedFromBlobName(name: string, size: number): Expected | null {
  if (SHA256_RE.test(name)) return { size, sha256: name };
  if (COMMIT_RE.test(name)) return { size, gitSha1: name };
  return null;
}

/** sha256, or git's blob hash: sha1 over `blob <size>\0` followed by the bytes. */
function hasher(expect: Expected): { update(b: Uint8Array): void; digest(): string } {
  const h = createHash("sha256" in expect ? "sha256" : "sha1");
  if (!("sha256" in expect)) h.update(`blob ${expect.size}\0`);
  return { update: (b) => void h.update(b), digest: () => h.digest("hex") };
}

function mismatch(label: string, expect: Expected, size: number, got: string): HubDatasetError {
  const want = "sha256" in expect ? `sha256 ${expect.sha256}` : `git blob sha1 ${expect.gitSha1}`;
  const what = size !== expect.size ? `${size} bytes instead of ${expect.size}` : `${"sha256" in expect ? "sha256" : "git blob sha1"} ${got}, the Hub lists ${want}`;
  return new HubDatasetError("T7206", `${label} fails verification: ${what}`, "the file was not used; run again (a download is retried from scratch), and if it persists check HF_ENDPOINT or a proxy in between");
}

/** Pass chunks through while hashing them; throws T7206 at the end when size or hash differ. */
async function* verifying(chunks: Chunks, expect: Expected, label: string): AsyncGenerator<Uint8Array> {
  const h = hasher(expect);
  let size = 0;
  for await (const c of chunks) {
    size += c.byteLength;
    if (size > expect.size) throw mismatch(label, expect, size, "");
    h.update(c);
    yield c;
  }
  const got = h.digest();
  if (size !== expect.size || got !== ("sha256" in expect ? expect.sha256 : expect.gitSha1)) throw mismatch(label, expect, size, got);
}

/** Hashes already checked in this process, by path and (size, mtime, inode), so a blob is hashed once per run. */
const checked = new Map<string, string>();

/** Note a blob whose bytes were just verified while written, so it is not hashed again in this process. */
async function markVerified(blob: string): Promise<void> {
  const real = await realpath(blob);
  const s = await lstat(real);
  checked.set(real, `${s.size}:${s.mtimeMs}:${s.ino}`);
}

/**
 * Check a cached snapshot file against its blob's name. Throws T7206 naming the blob to delete when it differs.
 * Returns the absolute path of the snapshot file (the symlink, as huggingface_hub returns it).
 */
export async function verifyCachedFile(pointer: string, label: string): Promise<string> {
  const blob = await realpath(pointer);
  const s = await lstat(blob);
  const stamp = `${s.size}:${s.mtimeMs}:${s.ino}`;
  if (checked.get(blob) === stamp) return pointer;
  const expect = expectedFromBlobName(basename(blob), s.size);
  if (expect) {
    const h = hasher(expect);
    for await (const c of createReadStream(blob)) h.update(c as Buffer);
    const got = h.digest();
    if (got !== ("sha256" in expect ? expect.sha256 : expect.gitSha1)) {
      throw new HubDatasetError("T7206", `${label} in the cache is corrupted: its content hashes to ${got}, not to its blob name`, `delete ${blob} and run again to download it afresh`);
    }
  }
  checked.set(blob, stamp);
  return pointer;
}

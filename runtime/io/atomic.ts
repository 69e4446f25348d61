// Atomic file writes: temp file in the same directory, fsync, rename, then fsync the directory.
//
// Why this exists: checkpoints and adapters are written while training runs; a crash or a full disk must never
// leave a half-written `adapter_model.safetensors` under the final name (a reader would then fail later, far from
// the cause). rename(2) within one directory is atomic on POSIX file systems.

import { randomBytes } from "node:crypto";
import { open, rename, unlink } from "node:fs/promises";
import { basename, dirname, join } from "node:path";

export type Chunks = Iterable<Uint8Array> | AsyncIterable<Uint8Array>;

/** A temp file name beside `path` (same folder, so the final rename is atomic). */
export function tempPathFor(path: string): string {
  const tag = `${process.pid}-${randomBytes(4).toString("hex")}`;
  return join(dirname(path), `.${basename(path)}.tmp-${tag}`);
}

/** fsync a directory so a rename in it survives a crash; a no-op where the platform cannot. */
export async function syncDir(dir: string): Promise<void> {
  try {
    const fh = await open(dir, "r");
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
  } catch {
    // Some platforms (Windows, some network file systems) cannot fsync a directory; the rename still happened.
  }
}

/** Write `data` (bytes, a string, or a stream of byte chunks) to `path` atomically. */
export async function writeFileAtomic(path: string, data: Uint8Array | string | Chunks): Promise<void> {
  const tmp = tempPathFor(path);
  const fh = await open(tmp, "w");
  let ok = false;
  try {
    if (typeof data === "string" || data instanceof Uint8Array) {
      await fh.writeFile(data);
    } else {
      for await (const chunk of data) await writeAll(fh, chunk);
    }
    await fh.sync();
    ok = true;
  } finally {
    await fh.close();
    if (!ok) await unlink(tmp).catch(() => undefined);
  }
  try {
    await rename(tmp, path);
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
  await syncDir(dirname(path));
}

async function writeAll(fh: import("node:fs/promises").FileHandle, chunk: Uint8Array): Promise<void> {
  let off = 0;
  while (off < chunk.length) {
    const { bytesWritten } = await fh.write(chunk, off, chunk.length - off);
    off += bytesWritten;
  }
}

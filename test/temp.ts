// Temporary directories for tests, removed by cleanupTemps() (call it in afterAll).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const made: string[] = [];

/** A fresh directory under the OS temp folder, named tune-<tag>-…. */
export function tempDir(tag: string): string {
  return removeLater(mkdtempSync(join(tmpdir(), `tune-${tag}-`)));
}

/** Remove `path` (a file or directory made elsewhere) in the next cleanupTemps(). */
export function removeLater(path: string): string {
  made.push(path);
  return path;
}

export function cleanupTemps(): void {
  for (const d of made.splice(0)) rmSync(d, { recursive: true, force: true });
}

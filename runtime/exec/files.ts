// Writing run-directory files: parent folders created, then an atomic write
// (temp file + fsync + rename, runtime/io/atomic.ts), so a killed run never
// leaves a half-written file behind.
import { mkdir } from "node:fs/promises";
import { dirname } from "node:path";
import { writeFileAtomic } from "../io/atomic.js";

export async function writeRunFile(path: string, data: string | Uint8Array): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFileAtomic(path, data);
}

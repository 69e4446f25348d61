// Atomic file writes for the CLI (fmt, registry lockfile, init): a crash or kill at
// any moment leaves either the old file or the new one, never a half-written file.
// One implementation serves the whole project: runtime/store/fsx.ts (temp file in
// the same folder + fsync + rename + directory fsync).
import { writeFileAtomicSync } from "../runtime/store/fsx.js";

export function atomicWrite(path: string, text: string): void {
  writeFileAtomicSync(path, text);
}

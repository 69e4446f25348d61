// Deterministic test content shared by the child scripts and the tests: `size` bytes from sha256 blocks of `seed`.
import { createHash } from "node:crypto";

export function gen(seed, size) {
  const out = Buffer.alloc(size);
  for (let off = 0, i = 0; off < size; off += 32, i++) createHash("sha256").update(`${seed}/${i}`).digest().copy(out, off);
  return out;
}

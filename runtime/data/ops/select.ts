// Exact-size random selection shared by sample (fraction), split and mix.
//
// Why this exists: "10% of 52,002 rows" must mean exactly round(0.1 · 52,002) rows, chosen reproducibly and
// without holding the rows in memory. Knuth's Algorithm S (TAOCP vol. 2, §3.4.2, selection sampling) does
// that: walking the N positions in order, position t is taken with probability (k − m)/(N − t), where m is the
// number taken so far; every k-subset is equally likely and the output keeps the input order. We use the exact
// integer form `rng.int(N − t) < k − m`, so results depend only on the seed and (N, k).

import { DataError } from "../errors.js";
import type { Rng } from "../rng.js";

/** How many rows to take: a count, or a fraction of the input. */
export type SampleSize = { n: number } | { fraction: number };

/** Streaming selector for exactly k of n positions (Algorithm S). Call `take()` once per position, in order. */
export class Selector {
  private t = 0;
  private m = 0;

  constructor(
    private readonly n: number,
    private readonly k: number,
    private readonly rng: Rng,
  ) {}

  take(): boolean {
    if (this.t >= this.n) return false;
    const pick = this.rng.int(this.n - this.t) < this.k - this.m;
    this.t++;
    if (pick) this.m++;
    return pick;
  }
}

/** The set of k chosen positions out of n, as a bitmap (1 byte per position). */
export function choosePositions(n: number, k: number, rng: Rng): Uint8Array {
  const chosen = new Uint8Array(n);
  const sel = new Selector(n, k, rng);
  for (let i = 0; i < n; i++) chosen[i] = sel.take() ? 1 : 0;
  return chosen;
}

/** Round half up (documented rounding for every declared proportion). */
export function roundCount(x: number): number {
  return Math.floor(x + 0.5);
}

/** Rows to take for `size` out of `total`; T5520 for a bad fraction, T5521 for n > total. */
export function targetCount(size: SampleSize, total: number, what: string): number {
  if ("fraction" in size) {
    const f = size.fraction;
    if (!(f >= 0 && f <= 1)) {
      throw new DataError({ code: "T5520", message: `${what}: fraction ${f} is not in [0, 1]`, hint: "write a fraction such as 0.1 (or 10%)" });
    }
    return roundCount(f * total);
  }
  const n = size.n;
  if (!Number.isSafeInteger(n) || n < 0) {
    throw new DataError({ code: "T5520", message: `${what}: n = ${n} is not a non-negative integer`, hint: "give a row count such as 1000" });
  }
  if (n > total) {
    throw new DataError({
      code: "T5521",
      message: `${what}: asks for ${n} rows but its input has ${total}`,
      hint: "lower n, or use a fraction",
    });
  }
  return n;
}

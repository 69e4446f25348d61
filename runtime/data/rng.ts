// Seeded pseudo-random numbers for tune: one generator, reused everywhere a recipe's `seed` matters.
//
// Why this exists: sampling, shuffling, splitting and mixing must be reproducible byte for byte from the
// recipe's seed, on every platform and Node version. Math.random() is neither seedable nor specified, so we
// implement a small, well-known generator exactly.
//
// Algorithm: xoshiro128** 1.0 (D. Blackman and S. Vigna, "Scrambled linear pseudorandom number generators",
// 2018; reference C at https://prng.di.unimi.it/xoshiro128starstar.c). 128-bit state, period 2^128 − 1,
// 32-bit output: result = rotl(s1 · 5, 7) · 9; t = s1 << 9; s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3; s2 ^= t;
// s3 = rotl(s3, 11). All arithmetic is mod 2^32 (Math.imul, >>> 0).
//
// Seeding (ours, documented so other implementations can reproduce it): a seed is an integer in [0, 2^32) or
// a string; a string is first reduced to a u32 with FNV-1a (32-bit) over its UTF-8 bytes. The four state words
// are the first four outputs of SplitMix32 started at that u32: state += 0x9E3779B9; out = fmix32(state),
// where fmix32 is MurmurHash3's finaliser (x ^= x>>>16; x *= 0x85EBCA6B; x ^= x>>>13; x *= 0xC2B2AE35;
// x ^= x>>>16). An all-zero state is impossible here (fmix32 is a bijection and the four inputs differ).
//
// Derived streams: `rng.fork(label)` = new Rng(fmix32(seedU32 ^ fnv1a(label))) — independent of how many
// numbers the parent has drawn, so adding a draw in one op never shifts another op's randomness.

import { DataError } from "./errors.js";

export type Seed = number | string;

/** MurmurHash3 32-bit finaliser: a bijection on u32 with good avalanche. */
export function fmix32(x: number): number {
  x ^= x >>> 16;
  x = Math.imul(x, 0x85ebca6b);
  x ^= x >>> 13;
  x = Math.imul(x, 0xc2b2ae35);
  x ^= x >>> 16;
  return x >>> 0;
}

/** FNV-1a 32-bit over the UTF-8 bytes of `s`. */
export function fnv1a32(s: string): number {
  let h = 0x811c9dc5;
  for (const byte of Buffer.from(s, "utf8")) {
    h ^= byte;
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** Reduce a seed to a u32, validating numbers. */
export function seedToU32(seed: Seed): number {
  if (typeof seed === "string") return fnv1a32(seed);
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
    throw new DataError({
      code: "T5520",
      message: `seed ${seed} is not an integer in [0, 4294967295]`,
      hint: "use a non-negative 32-bit integer such as 42, or a string",
    });
  }
  return seed >>> 0;
}

const rotl = (x: number, k: number): number => ((x << k) | (x >>> (32 - k))) >>> 0;

export class Rng {
  /** The u32 this generator was seeded with (after string hashing). */
  readonly seed: number;
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;

  constructor(seed: Seed) {
    this.seed = seedToU32(seed);
    let sm = this.seed;
    const next = (): number => {
      sm = (sm + 0x9e3779b9) >>> 0;
      return fmix32(sm);
    };
    this.s0 = next();
    this.s1 = next();
    this.s2 = next();
    this.s3 = next();
  }

  /** Build a generator from an explicit xoshiro128** state (for test vectors). */
  static fromState(s0: number, s1: number, s2: number, s3: number): Rng {
    const r = new Rng(0);
    r.s0 = s0 >>> 0;
    r.s1 = s1 >>> 0;
    r.s2 = s2 >>> 0;
    r.s3 = s3 >>> 0;
    return r;
  }

  /** The four xoshiro128** state words (for training checkpoints; `Rng.fromState(...)` restores them). */
  state(): [number, number, number, number] {
    return [this.s0, this.s1, this.s2, this.s3];
  }

  /** Continue from a saved `state()` (checkpoint resume). */
  restore(words: readonly number[]): void {
    if (words.length !== 4 || words.some((w) => !Number.isInteger(w) || w < 0 || w > 0xffffffff) || words.every((w) => w === 0)) {
      throw new DataError({ code: "T5520", message: `RNG state ${JSON.stringify(words)} is not four u32 words (not all zero)`, hint: "the checkpoint's rng_state.json is damaged; resume from an earlier checkpoint" });
    }
    [this.s0, this.s1, this.s2, this.s3] = words.map((w) => w >>> 0) as [number, number, number, number];
  }

  /** Next 32-bit output of xoshiro128**, as an unsigned integer. */
  nextU32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5) >>> 0, 7), 9) >>> 0;
    const t = (this.s1 << 9) >>> 0;
    this.s2 = (this.s2 ^ this.s0) >>> 0;
    this.s3 = (this.s3 ^ this.s1) >>> 0;
    this.s1 = (this.s1 ^ this.s2) >>> 0;
    this.s0 = (this.s0 ^ this.s3) >>> 0;
    this.s2 = (this.s2 ^ t) >>> 0;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** Uniform float in [0, 1) with 53 random bits (two outputs: 27 high bits, then 26). */
  nextFloat(): number {
    const a = this.nextU32() >>> 5;
    const b = this.nextU32() >>> 6;
    return (a * 67108864 + b) / 9007199254740992;
  }

  /** Uniform integer in [0, n), exactly unbiased (rejection sampling); n ≤ 2^53. */
  int(n: number): number {
    if (!Number.isInteger(n) || n <= 0 || n > Number.MAX_SAFE_INTEGER) {
      throw new DataError({ code: "T5520", message: `Rng.int(${n}): bound must be a positive safe integer`, hint: "internal error" });
    }
    if (n <= 0x100000000) {
      const limit = 0x100000000 - (0x100000000 % n);
      let x = this.nextU32();
      while (x >= limit) x = this.nextU32();
      return x % n;
    }
    const span = 9007199254740992; // 2^53
    const limit = span - (span % n);
    let x = (this.nextU32() >>> 5) * 67108864 + (this.nextU32() >>> 6);
    while (x >= limit) x = (this.nextU32() >>> 5) * 67108864 + (this.nextU32() >>> 6);
    return x % n;
  }

  /** In-place Fisher–Yates shuffle (Durstenfeld: i from the end, j = int(i + 1)). */
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const tmp = items[i];
      items[i] = items[j];
      items[j] = tmp;
    }
    return items;
  }

  /** An independent generator for a named sub-task (see header). */
  fork(label: string | number): Rng {
    return new Rng(fmix32((this.seed ^ fnv1a32(String(label))) >>> 0));
  }
}

// Python-compatible randomness.
//
// lm-evaluation-harness picks few-shot examples with `random.Random(1234).sample(docs, n)` and keeps one
// generator per task that advances across eval documents. To choose the very same shots we re-implement
// CPython 3.11's `random.Random`: MT19937 seeded from an int through init_by_array (Modules/_randommodule.c),
// `getrandbits`, `_randbelow_with_getrandbits`, `random()`, and the `sample`, `shuffle`, `choices`,
// `randint` algorithms of Lib/random.py. Checked against test/fixtures/eval/pyrandom_fixture.json, which
// make_pyrandom_fixture.py writes with plain CPython.

const N = 624;
const M = 397;
const MATRIX_A = 0x9908b0df;
const UPPER_MASK = 0x80000000;
const LOWER_MASK = 0x7fffffff;

/** A Mersenne Twister state that produces the same stream as CPython's `random.Random(seed)`. */
export class PyRandom {
  private readonly mt = new Uint32Array(N);
  private mti = N + 1;

  constructor(seed: number | bigint = 0) {
    this.seed(seed);
  }

  /** `Random.seed(int)`: the absolute value split into 32-bit little-endian words, fed to init_by_array. */
  seed(seed: number | bigint): void {
    if (typeof seed === "number" && !Number.isSafeInteger(seed)) {
      throw new Error(`PyRandom seed must be an integer, got ${seed}`);
    }
    let n = BigInt(seed);
    if (n < 0n) n = -n;
    const key: number[] = [];
    while (n > 0n) {
      key.push(Number(n & 0xffffffffn));
      n >>= 32n;
    }
    if (key.length === 0) key.push(0);
    this.initByArray(key);
  }

  private initGenrand(s: number): void {
    const mt = this.mt;
    mt[0] = s >>> 0;
    for (let i = 1; i < N; i++) {
      const prev = mt[i - 1] ^ (mt[i - 1] >>> 30);
      mt[i] = (Math.imul(1812433253, prev) + i) >>> 0;
    }
    this.mti = N;
  }

  private initByArray(key: number[]): void {
    const mt = this.mt;
    this.initGenrand(19650218);
    let i = 1;
    let j = 0;
    for (let k = Math.max(N, key.length); k > 0; k--) {
      const prev = mt[i - 1] ^ (mt[i - 1] >>> 30);
      mt[i] = ((mt[i] ^ Math.imul(prev, 1664525)) + key[j] + j) >>> 0;
      i++;
      j++;
      if (i >= N) {
        mt[0] = mt[N - 1];
        i = 1;
      }
      if (j >= key.length) j = 0;
    }
    for (let k = N - 1; k > 0; k--) {
      const prev = mt[i - 1] ^ (mt[i - 1] >>> 30);
      mt[i] = ((mt[i] ^ Math.imul(prev, 1566083941)) - i) >>> 0;
      i++;
      if (i >= N) {
        mt[0] = mt[N - 1];
        i = 1;
      }
    }
    mt[0] = 0x80000000;
    this.mti = N;
  }

  private twist(): void {
    const mt = this.mt;
    let kk = 0;
    for (; kk < N - M; kk++) {
      const y = (mt[kk] & UPPER_MASK) | (mt[kk + 1] & LOWER_MASK);
      mt[kk] = (mt[kk + M] ^ (y >>> 1) ^ (y & 1 ? MATRIX_A : 0)) >>> 0;
    }
    for (; kk < N - 1; kk++) {
      const y = (mt[kk] & UPPER_MASK) | (mt[kk + 1] & LOWER_MASK);
      mt[kk] = (mt[kk + (M - N)] ^ (y >>> 1) ^ (y & 1 ? MATRIX_A : 0)) >>> 0;
    }
    const y = (mt[N - 1] & UPPER_MASK) | (mt[0] & LOWER_MASK);
    mt[N - 1] = (mt[M - 1] ^ (y >>> 1) ^ (y & 1 ? MATRIX_A : 0)) >>> 0;
    this.mti = 0;
  }

  /** genrand_uint32: the next tempered 32-bit output. */
  nextUint32(): number {
    if (this.mti >= N) this.twist();
    let y = this.mt[this.mti++];
    y ^= y >>> 11;
    y ^= (y << 7) & 0x9d2c5680;
    y ^= (y << 15) & 0xefc60000;
    y ^= y >>> 18;
    return y >>> 0;
  }

  /** `getrandbits(k)` for k <= 32, as a number. */
  getrandbits32(k: number): number {
    if (k < 0 || k > 32 || !Number.isInteger(k)) throw new Error(`getrandbits32: bad k ${k}`);
    if (k === 0) return 0;
    return this.nextUint32() >>> (32 - k);
  }

  /** `getrandbits(k)` for any k >= 0: 32-bit words from least to most significant, last word truncated. */
  getrandbits(k: number): bigint {
    if (k < 0 || !Number.isInteger(k)) throw new Error(`getrandbits: bad k ${k}`);
    if (k <= 32) return BigInt(this.getrandbits32(k));
    let result = 0n;
    let shift = 0n;
    for (let left = k; left > 0; left -= 32) {
      let r = this.nextUint32();
      if (left < 32) r >>>= 32 - left;
      result |= BigInt(r) << shift;
      shift += 32n;
    }
    return result;
  }

  /** `_randbelow_with_getrandbits(n)`: rejection sampling on n.bit_length() bits. */
  randbelow(n: number): number {
    if (!Number.isSafeInteger(n) || n < 0) throw new Error(`randbelow: bad n ${n}`);
    if (n === 0) return 0;
    const k = bitLength(n);
    if (k <= 32) {
      let r = this.getrandbits32(k);
      while (r >= n) r = this.getrandbits32(k);
      return r;
    }
    const bn = BigInt(n);
    let r = this.getrandbits(k);
    while (r >= bn) r = this.getrandbits(k);
    return Number(r);
  }

  /** `random()`: 53-bit float in [0, 1) from two outputs, as genrand_res53 does. */
  random(): number {
    const a = this.nextUint32() >>> 5;
    const b = this.nextUint32() >>> 6;
    return (a * 67108864.0 + b) * (1.0 / 9007199254740992.0);
  }

  /** `randint(a, b)` = a + _randbelow(b - a + 1). */
  randint(a: number, b: number): number {
    return a + this.randbelow(b - a + 1);
  }

  /** `sample(population, k)` of Python 3.11: pool-based for small populations, set-based otherwise. */
  sample<T>(population: readonly T[], k: number): T[] {
    return sampleIndices(this, population.length, k).map((i) => population[i]);
  }

  /** `shuffle(x)` in place: Fisher-Yates from the end with _randbelow(i + 1). */
  shuffle<T>(x: T[]): void {
    for (let i = x.length - 1; i > 0; i--) {
      const j = this.randbelow(i + 1);
      const tmp = x[i];
      x[i] = x[j];
      x[j] = tmp;
    }
  }

  /** `choices(population, k=k)` without weights: population[floor(random() * n)]. */
  choices<T>(population: readonly T[], k: number): T[] {
    const n = population.length;
    const out: T[] = [];
    for (let i = 0; i < k; i++) out.push(population[Math.floor(this.random() * n)]);
    return out;
  }
}

/** The indices `Random.sample(range(n), k)` returns: the exact draw order CPython 3.11 uses. */
export function sampleIndices(rng: PyRandom, n: number, k: number): number[] {
  if (!(k >= 0 && k <= n) || !Number.isInteger(k)) {
    throw new Error("Sample larger than population or is negative");
  }
  let setsize = 21; // size of a small set minus size of an empty list
  if (k > 5) setsize += 4 ** Math.ceil(Math.log(k * 3) / Math.log(4)); // table size for big sets
  const result: number[] = new Array(k);
  if (n <= setsize) {
    // An n-length list is smaller than a k-length set.
    const pool = Array.from({ length: n }, (_, i) => i);
    for (let i = 0; i < k; i++) {
      const j = rng.randbelow(n - i);
      result[i] = pool[j];
      pool[j] = pool[n - i - 1];
    }
  } else {
    const selected = new Set<number>();
    for (let i = 0; i < k; i++) {
      let j = rng.randbelow(n);
      while (selected.has(j)) j = rng.randbelow(n);
      selected.add(j);
      result[i] = j;
    }
  }
  return result;
}

/** Python's int.bit_length() for a non-negative safe integer. */
export function bitLength(n: number): number {
  if (n === 0) return 0;
  if (n < 2 ** 31) return 32 - Math.clz32(n);
  return n.toString(2).length;
}

import { describe, expect, it } from "vitest";
import { DataError, fmix32, fnv1a32, Rng } from "../../runtime/data/index.js";

/** Independent BigInt transcription of the reference C xoshiro128** (prng.di.unimi.it). */
function referenceXoshiro(state: [number, number, number, number], n: number): number[] {
  const M = 0xffffffffn;
  const s = state.map(BigInt);
  const rotl = (x: bigint, k: bigint) => ((x << k) | (x >> (32n - k))) & M;
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    out.push(Number((rotl((s[1] * 5n) & M, 7n) * 9n) & M));
    const t = (s[1] << 9n) & M;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 11n);
  }
  return out;
}

describe("rng (xoshiro128**)", () => {
  it("matches the reference algorithm, including hand-checked first outputs from state {1,2,3,4}", () => {
    const r = Rng.fromState(1, 2, 3, 4);
    const got = Array.from({ length: 1000 }, () => r.nextU32());
    expect(got.slice(0, 3)).toEqual([11520, 0, 5927040]);
    expect(got).toEqual(referenceXoshiro([1, 2, 3, 4], 1000));
  });

  it("is deterministic per seed and differs across seeds", () => {
    const a = Array.from({ length: 5 }, ((r) => () => r.nextU32())(new Rng(42)));
    const b = Array.from({ length: 5 }, ((r) => () => r.nextU32())(new Rng(42)));
    const c = Array.from({ length: 5 }, ((r) => () => r.nextU32())(new Rng(43)));
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
    // pinned values: changing the seeding rule is a breaking change for every recipe's reproducibility
    expect(a).toMatchInlineSnapshot(`
      [
        2837322924,
        544945897,
        479756282,
        3500138142,
        339756180,
      ]
    `);
  });

  it("int(n) stays in range and is roughly uniform; nextFloat is in [0, 1)", () => {
    const r = new Rng(7);
    const counts = new Array(6).fill(0);
    for (let i = 0; i < 60000; i++) counts[r.int(6)]++;
    for (const c of counts) expect(Math.abs(c - 10000)).toBeLessThan(500);
    for (let i = 0; i < 1000; i++) {
      const f = r.nextFloat();
      expect(f).toBeGreaterThanOrEqual(0);
      expect(f).toBeLessThan(1);
    }
    const big = r.int(2 ** 40);
    expect(big).toBeGreaterThanOrEqual(0);
    expect(big).toBeLessThan(2 ** 40);
  });

  it("fork is independent of draws from the parent", () => {
    const p1 = new Rng(1);
    const f1 = p1.fork("mix").nextU32();
    const p2 = new Rng(1);
    p2.nextU32();
    p2.nextU32();
    expect(p2.fork("mix").nextU32()).toBe(f1);
    expect(p1.fork("other").nextU32()).not.toBe(f1);
  });

  it("shuffle is a seeded permutation", () => {
    const a = new Rng(3).shuffle([...Array(50).keys()]);
    expect(new Rng(3).shuffle([...Array(50).keys()])).toEqual(a);
    expect([...a].sort((x, y) => x - y)).toEqual([...Array(50).keys()]);
    expect(a).not.toEqual([...Array(50).keys()]);
  });

  it("string seeds hash with FNV-1a; bad numeric seeds are T5520", () => {
    expect(fnv1a32("")).toBe(0x811c9dc5);
    expect(fnv1a32("a")).toBe(0xe40c292c);
    expect(new Rng("alpagasus").seed).toBe(fnv1a32("alpagasus"));
    expect(fmix32(0)).toBe(0);
    for (const bad of [-1, 1.5, 2 ** 32]) {
      expect(() => new Rng(bad)).toThrow(DataError);
    }
  });
});

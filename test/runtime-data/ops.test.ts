import { describe, expect, it } from "vitest";
import {
  collect,
  dedupExact,
  dedupNear,
  estimateJaccard,
  filter,
  fromValues,
  MinHasher,
  normaliseText,
  openSource,
  optimalBands,
  sample,
  shingles,
  shuffle,
  textKey,
  type RowStream,
} from "../../runtime/data/index.js";
import { DATA, ids, jsonl, numbered, rejection } from "./helpers.js";

describe("filter", () => {
  it("keeps rows the predicate accepts and counts", async () => {
    const s = filter(numbered(10), (r) => (r.values.id as number) % 3 === 0);
    expect(await ids(s)).toEqual([0, 3, 6, 9]);
    expect(s.stats).toEqual({ seen: 10, kept: 4 });
  });

  it("locates a predicate that throws (T5520)", async () => {
    const s = filter(numbered(3), (r) => (r.values.nope as string).length > 0, "where nope != ''");
    const e = await rejection(collect(s));
    expect(e.message).toMatch(/^mem \(row 0\): where nope != '' failed on this row: /);
  });

  it("applies an AlpaGasus-style threshold on real data", async () => {
    const src = await openSource(`${DATA}/alpaca/alpaca_tiny.json`);
    const s = filter(src.rows, (r) => (r.values.input as string) !== "");
    expect((await collect(s)).length).toBe(46);
  });
});

describe("dedup exact", () => {
  it("normalises NFKC, case and whitespace before hashing", () => {
    expect(normaliseText("  Ｈｅｌｌｏ\t\n  WORLD ")).toBe("hello world");
    expect(textKey("Hello  World")).toBe(textKey("hello world"));
    expect(textKey("Hello World!")).not.toBe(textKey("hello world"));
  });

  it("keeps the first occurrence and reports where duplicates were", async () => {
    const rows = fromValues("m", [
      { instruction: "Name a color.", input: "" },
      { instruction: "name a  COLOR.", input: "" },
      { instruction: "Name a color.", input: "red" },
      { instruction: "Name a colour.", input: "" },
    ]);
    const s = dedupExact(rows, { fields: ["instruction", "input"] });
    expect((await collect(s)).map((r) => r.origin.row)).toEqual([0, 2, 3]);
    expect(s.stats).toMatchObject({ seen: 4, kept: 3, dropped: 1 });
    expect(s.stats.examples).toEqual([{ dropped: "m (row 1)", duplicateOf: "m (row 0)" }]);
  });

  it("finds no exact duplicate instruction+input pairs in alpaca_tiny, and all of a doubled copy", async () => {
    const src = await openSource(`${DATA}/alpaca/alpaca_tiny.json`);
    const once = dedupExact(src.rows, { fields: ["instruction", "input"] });
    expect((await collect(once)).length).toBe(100);
    const rows = await collect(src.rows);
    const twice = dedupExact(fromValues("x", [...rows, ...rows].map((r) => r.values)), { fields: ["instruction", "input"] });
    expect((await collect(twice)).length).toBe(100);
  });
});

describe("dedup near (MinHash + LSH)", () => {
  const base =
    "Write a short story about a robot who learns to paint landscapes in the mountains and " +
    "becomes famous across the whole country for its unusual use of color and light";

  it("estimates Jaccard similarity of word 3-grams", () => {
    const words = base.split(" ");
    const edited = [...words.slice(0, 20), "sunsets", ...words.slice(21)].join(" ");
    const a = shingles(base, 3);
    const b = shingles(edited, 3);
    const inter = [...a].filter((x) => b.includes(x)).length;
    const exact = inter / (a.length + b.length - inter);
    const h = new MinHasher(256, 1);
    expect(Math.abs(estimateJaccard(h.signature(a), h.signature(b)) - exact)).toBeLessThan(0.1);
  });

  it("picks LSH bands like datasketch (b·r ≤ numPerm; steeper for higher thresholds)", () => {
    const p = optimalBands(0.8, 128);
    expect(p.bands * p.rows).toBeLessThanOrEqual(128);
    const lo = optimalBands(0.5, 128);
    expect(lo.rows).toBeLessThan(p.rows);
  });

  it("drops near-duplicates, keeps distinct rows, and is deterministic", async () => {
    const words = base.split(" ");
    const texts = [
      base,
      [...words.slice(0, 25), "brightness", ...words.slice(26)].join(" "), // one word changed
      base.toUpperCase() + " !", // casing + extra token
      "Explain the difference between a list and a tuple in Python with two examples of each",
      "Give three tips for staying healthy",
    ];
    const rows = fromValues("m", texts.map((t) => ({ instruction: t })));
    const s = dedupNear(rows, { threshold: 0.7, seed: 42, fields: ["instruction"] });
    expect((await collect(s)).map((r) => r.origin.row)).toEqual([0, 3, 4]);
    expect(s.stats).toMatchObject({ seen: 5, kept: 3, dropped: 2, droppedByReference: 0 });
    expect(s.stats.examples.map((e) => e.duplicateOf)).toEqual(["m (row 0)", "m (row 0)"]);
  });

  it("filters contamination against a reference set", async () => {
    const test = fromValues("test", [{ instruction: "What is the capital of France and why is it famous for art" }]);
    const train = fromValues("train", [
      { instruction: "what is the capital of france and why is it famous for art?" },
      { instruction: "Name three primary colors used in painting and printing" },
    ]);
    const s = dedupNear(train, { threshold: 0.6, seed: 1, fields: ["instruction"], reference: test });
    expect((await collect(s)).map((r) => r.origin.row)).toEqual([1]);
    expect(s.stats.droppedByReference).toBe(1);
  });

  it("on real AlpaGasus rows: finds perturbed copies (vs. brute-force Jaccard), no false drops, deterministic", async () => {
    const src = await openSource(`${DATA}/alpagasus/claude_t45.json`);
    const originals = (await collect(src.rows)).slice(0, 1000).map((r) => r.values);
    // perturbations of every 5th row: prepend a word (high Jaccard), swap a middle word (medium), keep half (low)
    const perturb = (s: string, k: number): string => {
      const w = s.split(" ");
      if (k % 3 === 0) return `Please ${s}`.toUpperCase();
      if (k % 3 === 1) return [...w.slice(0, w.length >> 1), "zebra", ...w.slice((w.length >> 1) + 1)].join(" ");
      return w.slice(0, Math.max(1, w.length >> 1)).join(" ");
    };
    const copies = originals.filter((_, i) => i % 5 === 0).map((v, k) => ({ ...v, instruction: perturb(v.instruction as string, k) }));
    const rows = fromValues("mix", [...originals, ...copies]);
    const opts = { threshold: 0.65, seed: 7, fields: ["instruction", "input"], examples: 10_000 };
    const s = dedupNear(rows, opts);
    const out = await jsonl(s);
    expect(await jsonl(dedupNear(rows, opts))).toBe(out);
    const keptRows = (await collect(dedupNear(rows, opts))).map((r) => r.origin.row);
    for (let i = 0; i < originals.length; i++) expect(keptRows).toContain(i); // no original dropped
    // brute force: exact Jaccard, over the same text the op hashes
    const all = [...originals, ...copies];
    const text = (v: Record<string, unknown>) => `${v.instruction} \u241f ${v.input}`;
    const jaccard = (x: Record<string, unknown>, y: Record<string, unknown>) => {
      const a = shingles(text(x), 3);
      const b = shingles(text(y), 3);
      const inter = [...a].filter((h) => b.includes(h)).length;
      return inter / (a.length + b.length - inter);
    };
    const high = copies.map((c, k) => k).filter((k) => jaccard(originals[k * 5], copies[k]) >= 0.8);
    expect(high.length).toBeGreaterThan(30);
    expect(high.filter((k) => keptRows.includes(originals.length + k))).toEqual([]); // recall on clear duplicates
    // every drop is justified: the pair it was matched with is similar by exact Jaccard too
    const rowOf = (o: string) => Number(/row (\d+)/.exec(o)![1]);
    const weak = s.stats.examples.filter((e) => jaccard(all[rowOf(e.dropped)], all[rowOf(e.duplicateOf)]) < 0.5);
    expect(s.stats.examples.length).toBe(s.stats.dropped);
    expect(weak).toEqual([]);
    expect(s.stats.dropped).toBeLessThanOrEqual(copies.length + 2);
  });
});

describe("sample", () => {
  it("n rows by reservoir: exact count, input order, seeded", async () => {
    const s = sample(numbered(1000), { n: 50 }, 42);
    const a = await ids(s);
    expect(a.length).toBe(50);
    expect([...a].sort((x, y) => x - y)).toEqual(a);
    expect(await ids(sample(numbered(1000), { n: 50 }, 42))).toEqual(a);
    expect(await ids(sample(numbered(1000), { n: 50 }, 43))).not.toEqual(a);
    expect(s.stats).toEqual({ seen: 1000, kept: 50, target: 50 });
  });

  it("fraction: exactly round(f·N) rows, two passes, O(1) memory", async () => {
    for (const [n, f] of [[1000, 0.1], [999, 0.01], [7, 0.5], [10, 0]] as const) {
      const s = sample(numbered(n), { fraction: f }, 3);
      expect((await ids(s)).length).toBe(Math.floor(f * n + 0.5));
    }
  });

  it("is roughly uniform over positions", async () => {
    const hits = new Array(10).fill(0);
    for (let seed = 0; seed < 200; seed++) for (const id of await ids(sample(numbered(10), { n: 3 }, seed))) hits[id]++;
    for (const h of hits) expect(Math.abs(h - 60)).toBeLessThan(25);
  });

  it("rejects asking for more rows than exist, bad fractions, one-shot inputs", async () => {
    expect((await rejection(collect(sample(numbered(5), { n: 6 }, 1)))).message).toBe("sample asks for 6 rows but its input has 5");
    expect(() => sample(numbered(5), { fraction: 1.5 }, 1)).toThrow(/fraction 1.5 is not in \[0, 1\]/);
    async function* gen() {
      yield* await collect(numbered(3));
    }
    expect(() => sample(gen() as RowStream, { fraction: 0.5 }, 1)).toThrow(/one-shot iterator/);
  });
});

describe("shuffle", () => {
  it("is a seeded permutation, byte-identical for the same seed", async () => {
    const a = await jsonl(shuffle(numbered(100), 9));
    expect(await jsonl(shuffle(numbered(100), 9))).toBe(a);
    expect(await jsonl(shuffle(numbered(100), 10))).not.toBe(a);
    const got = await ids(shuffle(numbered(100), 9));
    expect([...got].sort((x, y) => x - y)).toEqual([...Array(100).keys()]);
  });
});

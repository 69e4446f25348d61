import { describe, expect, it } from "vitest";
import { collect, largestRemainder, mix, openSource, split, type RowStream } from "../../runtime/data/index.js";
import { DATA, ids, jsonl, numbered, rejection } from "./helpers.js";

const within1 = (count: number, declared: number) => expect(Math.abs(count - declared)).toBeLessThan(1);

describe("split", () => {
  it("holds out exactly round(f·N) rows, disjoint and complete, in input order", async () => {
    for (const [n, f] of [[1000, 0.05], [101, 0.1], [9, 0.5], [1, 0.3]] as const) {
      const s = await split(numbered(n), { fraction: f }, 42);
      const train = await ids(s.train);
      const val = await ids(s.validation);
      within1(val.length, f * n);
      expect(val.length).toBe(s.validationCount);
      expect(train.length + val.length).toBe(n);
      expect([...train, ...val].sort((a, b) => a - b)).toEqual([...Array(n).keys()]);
      expect([...val].sort((a, b) => a - b)).toEqual(val);
      expect(s.train.stats.rows).toBe(train.length);
    }
  });

  it("holds out n rows, and is byte-identical for the same seed", async () => {
    const src = await openSource(`${DATA}/alpaca/alpaca_tiny.json`);
    const a = await split(src.rows, { n: 10 }, 7);
    const b = await split(src.rows, { n: 10 }, 7);
    const c = await split(src.rows, { n: 10 }, 8);
    expect(a.validationCount).toBe(10);
    expect(await jsonl(a.validation)).toBe(await jsonl(b.validation));
    expect(await jsonl(a.train)).toBe(await jsonl(b.train));
    expect(await jsonl(a.validation)).not.toBe(await jsonl(c.validation));
    expect((await rejection(split(src.rows, { n: 101 }, 7))).message).toBe("split(validation): asks for 101 rows but its input has 100");
  });
});

describe("mix", () => {
  // Platypus: "100% Open-Platypus + 1% Dolphin + 1% OpenOrca" — stand-ins of 300, 1,234 and 999 rows.
  const platypus = () => [
    { name: "open_platypus", rows: numbered(300, "platypus"), weight: 1.0 },
    { name: "dolphin", rows: numbered(1234, "dolphin"), weight: 0.01 },
    { name: "openorca", rows: numbered(999, "orca"), weight: 0.01 },
  ];

  it("of_source: each weight is a fraction of its own source", async () => {
    const m = await mix(platypus(), { mode: "of_source", seed: 1 });
    expect(m.plan.map((e) => e.count)).toEqual([300, 12, 10]);
    for (const e of m.plan) within1(e.count, e.declared);
    const rows = await collect(m.rows);
    expect(rows.length).toBe(322);
    expect(m.rows.stats.bySource).toEqual({ open_platypus: 300, dolphin: 12, openorca: 10 });
    // sources are interleaved, each in its own input order
    const dolphin = rows.filter((r) => r.origin.file === "dolphin").map((r) => r.values.id as number);
    expect([...dolphin].sort((a, b) => a - b)).toEqual(dolphin);
    expect(rows.slice(0, 300).every((r) => r.origin.file === "platypus")).toBe(false);
  });

  it("share: weights are shares of the final mix, within ±1 row, summing to the total", async () => {
    const parts = () => [
      { name: "a", rows: numbered(500, "a"), weight: 70 },
      { name: "b", rows: numbered(500, "b"), weight: 20 },
      { name: "c", rows: numbered(500, "c"), weight: 10 },
    ];
    const fixed = await mix(parts(), { mode: "share", seed: 3, total: 333 });
    expect(fixed.total).toBe(333);
    for (const e of fixed.plan) within1(e.count, e.declared);
    expect(fixed.plan.map((e) => e.count)).toEqual([233, 67, 33]);
    expect((await collect(fixed.rows)).length).toBe(333);
    // no total: the largest total that needs no repetition (source a limits it: 500 / 0.7 = 714)
    const auto = await mix(parts(), { mode: "share", seed: 3 });
    expect(auto.total).toBe(714);
    expect(auto.plan.map((e) => e.count)).toEqual([500, 143, 71]);
    for (const e of auto.plan) within1(e.count, e.declared);
  });

  it("same seed ⇒ byte-identical output; different seed ⇒ different", async () => {
    const run = async (seed: number) => jsonl((await mix(platypus(), { mode: "of_source", seed })).rows);
    const a = await run(11);
    expect(await run(11)).toBe(a);
    expect(await run(12)).not.toBe(a);
    const m = await mix(platypus(), { mode: "of_source", seed: 11 });
    expect(await jsonl(m.rows)).toBe(await jsonl(m.rows)); // replay
  });

  it("repeats a source when asked for more rows than it has", async () => {
    const m = await mix([{ name: "small", rows: numbered(4, "s"), weight: 2.5 }], { mode: "of_source", seed: 5 });
    const got = await ids(m.rows);
    expect(got.length).toBe(10);
    expect(got.slice(0, 8)).toEqual([0, 1, 2, 3, 0, 1, 2, 3]);
    const parts = [
      { name: "a", rows: numbered(10, "a"), weight: 0.5 },
      { name: "b", rows: numbered(100, "b"), weight: 0.5 },
    ];
    const e = await rejection(mix(parts, { mode: "share", seed: 1, total: 40 }));
    expect(e.message).toBe("mix source a has 10 rows but its share of 40 needs 20");
    const ok = await mix(parts, { mode: "share", seed: 1, total: 40, repeat: true });
    expect((await ids(ok.rows)).length).toBe(40);
  });

  it("mixes real files (AlpaGasus + 10% of the GPT-4 demo set)", async () => {
    const a = await openSource(`${DATA}/alpagasus/claude_t45.json`);
    const b = await openSource(`${DATA}/llamafactory_alpaca_en_demo/alpaca_en_demo.json`);
    const m = await mix([{ name: "alpagasus", rows: a.rows, weight: 1 }, { name: "gpt4", rows: b.rows, weight: 0.1 }], { mode: "of_source", seed: 2 });
    expect(m.plan.map((e) => e.count)).toEqual([5305, 100]);
    expect(m.total).toBe(5405);
    expect((await collect(m.rows)).length).toBe(5405);
  });

  it("rejects bad declarations (T5522/T5523)", async () => {
    const e1 = await rejection(mix([], { mode: "share", seed: 1 }));
    expect(e1.message).toBe("mix has no sources");
    const e2 = await rejection(mix([{ name: "a", rows: numbered(3), weight: -1 }], { mode: "share", seed: 1 }));
    expect(e2.message).toBe("mix source a has weight -1");
    async function* once() {
      yield* await collect(numbered(2));
    }
    const e3 = await rejection(mix([{ name: "g", rows: once() as RowStream, weight: 1 }], { mode: "of_source", seed: 1 }));
    expect(e3.message).toMatch(/one-shot iterator/);
  });

  it("largest remainder: counts sum to the total, each within 1 of its target", () => {
    const t = [33.3, 33.3, 33.4];
    const c = largestRemainder(t, 100);
    expect(c.reduce((a, b) => a + b, 0)).toBe(100);
    c.forEach((x, i) => within1(x, t[i]));
  });
});

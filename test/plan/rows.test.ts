import { describe, expect, test } from "vitest";
import type { Edge, Graph, GraphNode, Json, OpName } from "../../compiler/graph.js";
import { estimateGraph, stepsOf } from "../../compiler/plan/estimate.js";
import { describeCount, RowCounter, sizeOf, UNKNOWN, type Count } from "../../compiler/plan/rows.js";
import { compileText, sftRecipe } from "./helpers.js";

/** A graph from (id, op, params, inputs) rows; hashes are not checked by the row counter. */
function graph(nodes: [string, OpName, Record<string, Json>, Record<string, Edge>][]): Graph {
  const built: GraphNode[] = nodes.map(([id, op, params, inputs]) => ({ id, op, version: 1, params, inputs, hash: "0".repeat(64), origin: null }));
  return { format: "tune-graph", version: 1, recipe: "t", seed: 1, nodes: built };
}

const rows = (node: string, port = "rows"): Edge => ({ node, port });
const count = (g: Graph, node: string, port = "rows"): Count => new RowCounter(g).edge({ node, port });

describe("row counts through data nodes", () => {
  test("a declared source is exact; shuffle keeps it; split divides it with round-half-up", () => {
    const g = graph([
      ["load_data:a", "load_data", { rows: 1005 }, {}],
      ["shuffle:d#1", "shuffle", {}, { rows: rows("load_data:a") }],
      ["split:d#2", "split", { validation: { value: 5, unit: "%" } }, { rows: rows("shuffle:d#1") }],
    ]);
    expect(count(g, "shuffle:d#1")).toEqual({ bound: "exact", n: 1005 });
    // round(50.25) = 50 held out
    expect(count(g, "split:d#2", "validation")).toEqual({ bound: "exact", n: 50 });
    expect(count(g, "split:d#2", "train")).toEqual({ bound: "exact", n: 955 });
  });

  test("sample(n) is exact even from an unknown source; sample(%) rounds half up", () => {
    const g = graph([
      ["load_data:a", "load_data", {}, {}],
      ["sample:d#1", "sample", { n: 2000 }, { rows: rows("load_data:a") }],
      ["load_data:b", "load_data", { rows: 1005 }, {}],
      ["sample:e#1", "sample", { n: { value: 10, unit: "%" } }, { rows: rows("load_data:b") }],
    ]);
    expect(count(g, "load_data:a")).toEqual(UNKNOWN);
    expect(count(g, "sample:d#1")).toEqual({ bound: "exact", n: 2000 });
    expect(count(g, "sample:e#1")).toEqual({ bound: "exact", n: 101 }); // round(100.5)
  });

  test("filter, score and dedup turn a count into an upper bound that later ops keep", () => {
    const g = graph([
      ["load_data:a", "load_data", { rows: 52002 }, {}],
      ["score:d#1", "score", {}, { rows: rows("load_data:a") }],
      ["filter:d#2", "filter", {}, { rows: rows("score:d#1") }],
      ["dedup:d#3", "dedup", {}, { rows: rows("filter:d#2") }],
      ["split:d#4", "split", { validation: 500 }, { rows: rows("dedup:d#3") }],
    ]);
    expect(count(g, "score:d#1")).toEqual({ bound: "at_most", n: 52002 });
    expect(count(g, "split:d#4", "train")).toEqual({ bound: "at_most", n: 51502 });
    expect(count(g, "split:d#4", "validation")).toEqual({ bound: "exact", n: 500 });
    expect(describeCount(count(g, "split:d#4", "train"))).toBe("≤ 51,502 rows");
  });

  test("mix each_source takes round(p · N) of each; total takes the largest mix without repetition", () => {
    const src: [string, OpName, Record<string, Json>, Record<string, Edge>][] = [
      ["load_data:a", "load_data", { rows: 24926 }, {}],
      ["load_data:b", "load_data", { rows: 891857 }, {}],
    ];
    const each = graph([...src, ["mix:m", "mix", { relative_to: "each_source", percent: { a: 100, b: 1 } }, { a: rows("load_data:a"), b: rows("load_data:b") }]]);
    expect(count(each, "mix:m")).toEqual({ bound: "exact", n: 24926 + 8919 }); // round(8918.57)
    const total = graph([...src, ["mix:m", "mix", { relative_to: "total", percent: { a: 50, b: 50 } }, { a: rows("load_data:a"), b: rows("load_data:b") }]]);
    expect(count(total, "mix:m")).toEqual({ bound: "exact", n: 49852 }); // floor(24926 / 0.5)
    const unknown = graph([["load_data:a", "load_data", {}, {}], ["load_data:b", "load_data", { rows: 5 }, {}], ["mix:m", "mix", { relative_to: "each_source", percent: { a: 100, b: 100 } }, { a: rows("load_data:a"), b: rows("load_data:b") }]]);
    expect(count(unknown, "mix:m")).toEqual(UNKNOWN);
  });

  test("sizes: a percentage or a share below 1 is a fraction, anything else a count", () => {
    expect(sizeOf({ value: 5, unit: "%" })).toEqual({ fraction: 0.05 });
    expect(sizeOf(0.1)).toEqual({ fraction: 0.1 });
    expect(sizeOf(500)).toEqual({ count: 500 });
    expect(sizeOf("x")).toBeNull();
  });
});

describe("optimizer steps and tokens", () => {
  const sched = { epochs: 3, maxSteps: null, micro: 4, accum: 8, world: 1, packing: false };

  test("HF semantics: ceil(epochs · max(1, floor(ceil(rows / (micro · world)) / accum)))", () => {
    // ceil(1001 / 4) = 251 batches; floor(251 / 8) = 31 updates per epoch; × 3
    expect(stepsOf({ bound: "exact", n: 1001 }, sched, [])).toEqual({ bound: "exact", n: 93 });
    // 2 devices: ceil(1001 / 8) = 126; floor(126 / 8) = 15; × 2.5 epochs → ceil(37.5)
    expect(stepsOf({ bound: "exact", n: 1001 }, { ...sched, world: 2, epochs: 2.5 }, [])).toEqual({ bound: "exact", n: 38 });
    // fewer batches than one accumulation window still makes one update per epoch
    expect(stepsOf({ bound: "exact", n: 3 }, sched, [])).toEqual({ bound: "exact", n: 3 });
  });

  test("max_steps overrides; unknown rows give unknown steps; packing makes steps an upper bound", () => {
    expect(stepsOf(UNKNOWN, { ...sched, maxSteps: 500 }, [])).toEqual({ bound: "exact", n: 500 });
    expect(stepsOf(UNKNOWN, sched, [])).toEqual(UNKNOWN);
    expect(stepsOf({ bound: "exact", n: 1001 }, { ...sched, packing: true }, []).bound).toBe("at_most");
    expect(stepsOf({ bound: "at_most", n: 1001 }, sched, []).bound).toBe("at_most");
  });

  test("from a compiled recipe: rows, steps and the token upper bound", () => {
    const g = compileText(sftRecipe({ dataset: "rows = 10000", steps: "split(validation = 10%)", batch: 32, micro: 4, stage: "epochs = 2\n  cutoff = 512 tokens" }));
    const [e] = estimateGraph(g);
    expect(e!.rows).toEqual({ bound: "exact", n: 9000 });
    // ceil(9000 / 4) = 2250 batches, accumulation 8 → 281 per epoch, × 2
    expect(e!.gradAccum).toBe(8);
    expect(e!.steps).toEqual({ bound: "exact", n: 562 });
    expect(e!.tokens).toEqual({ bound: "at_most", n: 9000 * 2 * 512 });
    expect(e!.assumptions.some((a) => a.startsWith("tokens ≤ rows × epochs × cutoff"))).toBe(true);
  });
});

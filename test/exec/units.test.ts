// Executor building blocks: filter expressions, batching, progress lines, and
// the scheduler's handling of nodes that cannot run (blocked downstream).
import { describe, expect, it } from "vitest";
import { compilePredicate } from "../../runtime/exec/expr.js";
import { epochOrder, epochWindows, packExamples, padBatch } from "../../runtime/exec/batches.js";
import { createProgress, formatDuration } from "../../runtime/exec/progress.js";
import { executeGraph } from "../../runtime/exec/scheduler.js";
import { NotExecutable, type ExecEnv, type OpHandler } from "../../runtime/exec/types.js";
import { warmupOf } from "../../runtime/exec/ops/train.js";
import type { Graph, GraphNode } from "../../compiler/graph.js";
import type { Row } from "../../runtime/data/row.js";

const row = (values: Record<string, unknown>): Row => ({ values, origin: { file: "t", format: "memory", row: 0 } });

describe("filter expressions", () => {
  const len = { call: "len", args: [{ field: "output" }] };
  it("evaluates comparisons, and/or/not and len like Python", () => {
    const p = compilePredicate({ op: "and", left: { op: ">", left: len, right: { num: 2 } }, right: { op: "not", operand: { op: "==", left: { field: "input" }, right: { str: "x" } } } });
    expect(p(row({ output: "abc", input: "" }))).toBe(true);
    expect(p(row({ output: "ab", input: "" }))).toBe(false);
    expect(p(row({ output: "abc", input: "x" }))).toBe(false);
    // len counts code points, as Python does: one emoji is 1.
    expect(compilePredicate({ op: "==", left: len, right: { num: 1 } })(row({ output: "😀" }))).toBe(true);
  });
  it("treats a missing score as failing every ordering comparison", () => {
    const p = compilePredicate({ op: ">=", left: { field: "quality" }, right: { num: 4.5 } });
    expect(p(row({ quality: 4.5 }))).toBe(true);
    expect(p(row({ quality: null }))).toBe(false);
    expect(p(row({}))).toBe(false);
  });
  it("counts tokens with the supplied tokenizer and explains when there is none", () => {
    const expr = { op: "<", left: { call: "tokens", args: [{ field: "output" }] }, right: { num: 3 } };
    expect(compilePredicate(expr, { countTokens: (t) => t.split(" ").length })(row({ output: "a b" }))).toBe(true);
    expect(() => compilePredicate(expr)(row({ output: "a b" }))).toThrow(/needs a tokenizer/);
  });
});

describe("batching", () => {
  const ex = (n: number) => ({ inputIds: Array.from({ length: n }, (_, i) => i + 1), labels: Array.from({ length: n }, (_, i) => (i < 1 ? -100 : i + 1)), promptLength: 1, fullLength: n, truncated: false });
  it("pads to the longest row with −100 labels", () => {
    const b = padBatch([ex(2), ex(4)], 0);
    expect(b.seqLen).toBe(4);
    expect([...b.ids]).toEqual([1, 2, 0, 0, 1, 2, 3, 4]);
    expect([...b.labels]).toEqual([-100, 2, -100, -100, -100, 2, 3, 4]);
  });
  it("shuffles per epoch reproducibly and keeps a last partial window", () => {
    expect(epochOrder(10, 42, 0)).toEqual(epochOrder(10, 42, 0));
    expect(epochOrder(10, 42, 0)).not.toEqual(epochOrder(10, 42, 1));
    expect([...epochOrder(10, 42, 3)].sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const w = epochWindows(Array.from({ length: 10 }, () => ex(3)), 2, 2, 0, 1, 0);
    expect(w.map((x) => x.length)).toEqual([2, 2, 1]);
  });
  it("reads warmup as a ratio or as steps, the way HF does", () => {
    expect(warmupOf({ value: 3, unit: "%" }, 100)).toBe(3);
    expect(warmupOf({ value: 5, unit: "%" }, 30)).toBe(2); // ceil(1.5)
    expect(warmupOf({ value: 100, unit: "steps" }, 1000)).toBe(100);
    expect(warmupOf(0, 10)).toBe(0);
  });
});

describe("progress", () => {
  it("prints plain lines with ETA when not a TTY", () => {
    let t = 0;
    let out = "";
    const p = createProgress({ isTTY: false, write: (s) => (out += s) }, "train sft", 4, "steps", () => t);
    for (let i = 0; i < 4; i++) {
      t += 5000;
      p.tick(1, { loss: 2.5 - i * 0.1 });
    }
    p.done("loss 2.5 → 2.2");
    expect(out).toContain("train sft 2/4 steps  loss 2.4000  elapsed 10s eta 10s");
    expect(out).toContain("4/4 steps");
    expect(out.trim().split("\n").at(-1)).toBe("train sft 4/4 steps  loss 2.2000  in 20s  loss 2.5 → 2.2");
    expect(formatDuration(3723000)).toBe("1h02m");
  });
});

describe("scheduler", () => {
  const node = (id: string, op: string, inputs: Record<string, string> = {}): GraphNode =>
    ({ id, op, version: 1, params: {}, inputs: Object.fromEntries(Object.entries(inputs).map(([k, v]) => [k, { node: v, port: "out" }])), hash: id, origin: null }) as unknown as GraphNode;
  const graph = (nodes: GraphNode[]): Graph => ({ format: "tune-graph", version: 1, recipe: "t", seed: 1, nodes });
  const env = {} as ExecEnv;
  const value = { kind: "result" as const, data: {}, files: [] };
  it("runs what it can, blocks what depends on a node that could not run, and reports both", async () => {
    const handlers: Record<string, OpHandler> = {
      ok: async () => ({ out: value }),
      nope: async () => {
        throw new NotExecutable("judge endpoint unreachable", "set OPENAI_API_KEY");
      },
    };
    const g = graph([node("a", "ok"), node("b", "nope", { x: "a" }), node("c", "ok", { x: "b" }), node("d", "ok", { x: "a" }), node("e", "missing_op")]);
    const r = await executeGraph(g, handlers, env);
    expect(r.outcomes.map((o) => [o.id, o.state])).toEqual([
      ["a", "done"],
      ["b", "not_executed"],
      ["c", "blocked"],
      ["d", "done"],
      ["e", "not_executed"],
    ]);
    expect(r.outcomes[1]!.hint).toBe("set OPENAI_API_KEY");
    expect(r.outcomes[2]!.reason).toContain("needs b");
  });
  it("records failures with their code and keeps going with independent nodes", async () => {
    const err = Object.assign(new Error("bad row 7"), { code: "T5501", hint: "fix the file" });
    const handlers: Record<string, OpHandler> = { ok: async () => ({ out: value }), bad: async () => Promise.reject(err) };
    const r = await executeGraph(graph([node("a", "bad"), node("b", "ok")]), handlers, env);
    expect(r.outcomes[0]).toMatchObject({ state: "failed", code: "T5501", reason: "bad row 7", hint: "fix the file" });
    expect(r.outcomes[1]!.state).toBe("done");
  });
});

describe("packing", () => {
  const ex = (n: number, start: number) => ({ inputIds: Array.from({ length: n }, (_, i) => start + i), labels: Array.from({ length: n }, (_, i) => (i === 0 ? -100 : start + i)) });
  it("packs best-fit decreasing, never splits an example, masks each example's first label", () => {
    const rows = packExamples([ex(5, 10), ex(3, 20), ex(2, 30), ex(4, 40)], 8);
    expect(rows.map((r) => r.inputIds)).toEqual([
      [10, 11, 12, 13, 14, 20, 21, 22],
      [40, 41, 42, 43, 30, 31],
    ]);
    expect(rows[0]!.labels).toEqual([-100, 11, 12, 13, 14, -100, 21, 22]);
    expect(rows[0]!.segments).toEqual([0, 0, 0, 0, 0, 1, 1, 1]);
  });
  it("gives the same loss packed as unpacked on the tiny model (attention stays inside each example)", async () => {
    const { loadModelDir } = await import("../../runtime/checkpoint/index.js");
    const { causalLmLossSum } = await import("../../runtime/train/loss.js");
    const { initBackend } = await import("../../runtime/backend/index.js");
    await initBackend("wasm");
    const { model } = await loadModelDir("models/tiny-llama", { tokenizer: false });
    const examples = [ex(7, 100), ex(4, 300), ex(5, 500)];
    const sum = (b: ReturnType<typeof padBatch>) => {
      const r = causalLmLossSum(model, b);
      const v = r.sum.dataSync()[0]!;
      r.sum.dispose();
      return { v, n: r.count };
    };
    const separate = examples.map((e) => sum(padBatch([e], 0)));
    const packed = packExamples(examples, 16);
    expect(packed).toHaveLength(1);
    const together = sum(padBatch(packed, 0));
    expect(together.n).toBe(separate.reduce((a, s) => a + s.n, 0));
    expect(together.v).toBeCloseTo(separate.reduce((a, s) => a + s.v, 0), 3);
  });
});

describe("report", () => {
  it("tabulates per model, says when a judge could score nothing, and lists what did not run", async () => {
    const { mkdtempSync, readFileSync } = await import("node:fs");
    const { tmpdir } = await import("node:os");
    const { join } = await import("node:path");
    const { reportOp } = await import("../../runtime/exec/ops/report.js");
    const runDir = mkdtempSync(join(tmpdir(), "tune-report-"));
    const env = { graph: { recipe: "r" }, runDir, smoke: null, log: () => {} } as unknown as ExecEnv;
    const res = (node: string, model: string, value: number | null, extra: Record<string, unknown> = {}) => ({ kind: "result" as const, data: { node, task: "win rate vs output", model, metric: "win rate", value, stderr: null, n: 20, ...extra }, files: [] });
    const node = { id: "report:r", inputs: { r0: { node: "w@base", port: "result" }, r1: { node: "w@sft", port: "result" }, r2: { node: "eval_task:piqa@sft", port: "result" } } } as unknown as GraphNode;
    await reportOp(node, { r0: res("w@base", "base", null, { unparseable: 20 }), r1: res("w@sft", "sft", 0.55) }, env);
    const md = readFileSync(join(runDir, "report.md"), "utf8");
    expect(md).toContain("| Task | base | sft |");
    expect(md).toContain("| win rate vs output (win rate) | n/a: 20 unparseable judge replies (n=20) | 0.5500 (n=20) |");
    expect(md).toContain("Not run (see run.log for why): eval_task:piqa@sft.");
  });
});

describe("tune eval's subgraph", () => {
  it("keeps the evaluation and everything it needs, without exports", async () => {
    const { readFileSync } = await import("node:fs");
    const { compile } = await import("../../compiler/compile.js");
    const { fsHost } = await import("../../cli/host.js");
    const { evalSubgraph } = await import("../../runtime/exec/subgraph.js");
    const c = compile("recipes/quickstart.tune", readFileSync("recipes/quickstart.tune", "utf8"), fsHost());
    const sub = evalSubgraph(c.graph!);
    const ids = sub.nodes.map((n) => n.id);
    expect(ids).toContain("train:sft");
    expect(ids).toContain("eval_task:arc_easy@tiny");
    expect(ids).toContain("report:quickstart");
    expect(ids.some((id) => id.startsWith("export:"))).toBe(false);
    expect(sub.nodes.length).toBe(c.graph!.nodes.length - 1);
  });
});

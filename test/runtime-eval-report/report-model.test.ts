// The report's numbers: which model is the base (found in real compiled graphs of shipped recipes), each
// fine-tuned model's Δ and its combined stderr, the better/worse verdict in the metric's direction, averages,
// unscored judge results and inputs that never ran. Expected values are computed here by hand from the inputs.
import { reportMarkdown } from "../../runtime/eval/report-md.js";
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { compile } from "../../compiler/compile.js";
import { fsHost } from "../../cli/host.js";
import { buildReport, chooseBase, delta, metricDirection, trainedModels, type ResultData } from "../../runtime/eval/report-model.js";
import { evalResult } from "./results.js";

function graphOf(recipe: string) {
  const c = compile(recipe, readFileSync(recipe, "utf8"), fsHost());
  expect(c.graph, recipe).toBeTruthy();
  return c.graph!;
}

describe("which model is the base", () => {
  it("finds the stage outputs in the quickstart graph: sft is trained, tiny is the base", () => {
    const g = graphOf("recipes/quickstart.tune");
    const evals = g.nodes.filter((n) => n.op === "eval_task").map((n) => n.id);
    expect(evals.length).toBeGreaterThanOrEqual(2);
    const trained = trainedModels(g, evals);
    expect([...trained]).toEqual(["sft"]);
    expect(chooseBase(["tiny", "sft"], trained)).toEqual({ base: "tiny", compared: ["sft"] });
  });

  it("follows judged results through their generations (instruction-eval: two loaded checkpoints, none trained)", () => {
    const g = graphOf("recipes/instruction-eval.tune");
    const report = g.nodes.find((n) => n.op === "report")!;
    const trained = trainedModels(g, Object.values(report.inputs).map((e) => e.node));
    expect(trained.size).toBe(0);
    // Without a stage output, every other model is compared with the first one.
    expect(chooseBase(["base", "finetuned"], trained)).toEqual({ base: "base", compared: ["finetuned"] });
  });

  it("gives one Δ column per trained model when a recipe trains several (iterative DPO vs SamPO)", () => {
    const g = graphOf("recipes/llama3-8b-instruct-iterative-sampo.tune");
    const report = g.nodes.find((n) => n.op === "report")!;
    const inputs = Object.values(report.inputs).map((e) => e.node);
    const trained = trainedModels(g, inputs);
    expect([...trained].sort()).toEqual(["dpo", "sampo"]);
    // win_rate and response_length are found through generate → model as well.
    expect(trainedModels(g, inputs.filter((id) => id.startsWith("response_length:"))).size).toBe(2);
    expect(chooseBase(["instruct", "dpo", "sampo"], trained)).toEqual({ base: "instruct", compared: ["dpo", "sampo"] });
  });

  it("has no base with a single model", () => {
    expect(chooseBase(["only"], new Set())).toEqual({ base: null, compared: [] });
  });
});

describe("directions", () => {
  it("knows lm-eval's lower-is-better metrics and the neutral response length", () => {
    for (const m of ["perplexity", "word_perplexity", "byte_perplexity", "bits_per_byte"]) expect(metricDirection(m, true)).toBe("lower");
    expect(metricDirection("response_length")).toBe("neutral");
    expect(metricDirection("acc", true)).toBe("higher");
    expect(metricDirection("my_loss", false)).toBe("lower");
    expect(metricDirection("win rate")).toBe("higher");
  });
});

describe("deltas", () => {
  it("is fine-tuned − base with stderr sqrt(a² + b²), better when it goes the metric's way", () => {
    const cells = { base: { value: 0.25, stderr: 0.03, n: 200 }, sft: { value: 0.31, stderr: 0.04, n: 200 } };
    const d = delta({ cells, direction: "higher" }, "sft", "base")!;
    expect(d.value).toBeCloseTo(0.06, 12);
    expect(d.stderr).toBeCloseTo(0.05, 12); // sqrt(0.03² + 0.04²)
    expect(d.verdict).toBe("better");
    expect(d.exceedsStderr).toBe(true);
  });

  it("calls a lower perplexity better although the difference is negative", () => {
    const cells = { base: { value: 80, stderr: null, n: 50 }, sft: { value: 60, stderr: 2, n: 50 } };
    const d = delta({ cells, direction: "lower" }, "sft", "base")!;
    expect(d.value).toBe(-20);
    expect(d.verdict).toBe("better");
    expect(d.stderr).toBeNull();
    expect(d.exceedsStderr).toBeNull();
    expect(delta({ cells, direction: "higher" }, "sft", "base")!.verdict).toBe("worse");
    expect(delta({ cells, direction: "neutral" }, "sft", "base")!.verdict).toBe("neutral");
  });

  it("has no delta where either model has no number", () => {
    const cells = { base: { value: null, stderr: null, n: 20, note: "20 unparseable judge replies" }, sft: { value: 0.5, stderr: 0.1, n: 20 } };
    expect(delta({ cells, direction: "higher" }, "sft", "base")).toBeNull();
    expect(delta({ cells, direction: "higher" }, "sft", "other")).toBeNull();
  });
});

describe("buildReport", () => {
  const results: ResultData[] = [
    evalResult("eval_task:arc_easy@tiny", "arc_easy", "tiny", [{ metric: "acc", value: 0.28, stderr: 0.032 }, { metric: "acc_norm", value: 0.3, stderr: 0.0324 }]),
    evalResult("eval_task:alpaca_heldout@tiny", "alpaca_heldout", "tiny", [{ metric: "acc", value: 0.4, stderr: 0.035 }, { metric: "perplexity", value: 90, stderr: 3, higherIsBetter: false }]),
    evalResult("eval_task:arc_easy@sft", "arc_easy", "sft", [{ metric: "acc", value: 0.27, stderr: 0.0314 }, { metric: "acc_norm", value: 0.31, stderr: 0.0327 }]),
    evalResult("eval_task:alpaca_heldout@sft", "alpaca_heldout", "sft", [{ metric: "acc", value: 0.5, stderr: 0.0354 }, { metric: "perplexity", value: 70, stderr: 2, higherIsBetter: false }]),
    { node: "judge:x@sft", task: "judge litgpt_0_100", model: "sft", metric: "mean score", value: null, stderr: null, n: 20, unparseable: 20 },
  ];
  const rep = buildReport({ recipe: "quickstart", results, expected: [...results.map((r) => String(r.node)), "eval_task:piqa@sft"], trained: new Set(["sft"]), smoke: false });

  it("records which eval template each model's prompts went through", () => {
    const withTpl = buildReport({
      recipe: "q",
      results: [{ ...results[0]!, template: null }, { ...results[2]!, template: "alpaca_blank" }],
      expected: [],
      trained: new Set(["sft"]),
      smoke: false,
    });
    expect(withTpl.templates).toEqual({ tiny: null, sft: "alpaca_blank" });
    expect(reportMarkdown(withTpl)).toContain("Eval prompts: tiny as the tasks build them (no chat template); sft wrapped in its training template `alpaca_blank`.");
  });

  it("puts the headline metric of each task in the summary, every metric in the detail", () => {
    expect(rep.models).toEqual(["tiny", "sft"]);
    expect(rep.base).toBe("tiny");
    expect(rep.compared).toEqual(["sft"]);
    expect(rep.summary.map((r) => `${r.task}/${r.metric}`)).toEqual(["arc_easy/acc", "alpaca_heldout/acc", "judge litgpt_0_100/mean score"]);
    expect(rep.detail.map((r) => `${r.task}/${r.metric}/${r.direction}`)).toEqual([
      "arc_easy/acc/higher",
      "arc_easy/acc_norm/higher",
      "alpaca_heldout/acc/higher",
      "alpaca_heldout/perplexity/lower",
      "judge litgpt_0_100/mean score/higher",
    ]);
  });

  it("computes each delta from the two cells", () => {
    const ppl = rep.detail.find((r) => r.metric === "perplexity")!;
    expect(ppl.deltas).toHaveLength(1);
    expect(ppl.deltas[0]).toMatchObject({ model: "sft", base: "tiny", value: -20, verdict: "better", exceedsStderr: true });
    expect(ppl.deltas[0]!.stderr).toBeCloseTo(Math.sqrt(13), 12);
    const arc = rep.summary[0]!;
    expect(arc.deltas[0]!.value).toBeCloseTo(-0.01, 12);
    expect(arc.deltas[0]!.verdict).toBe("worse");
    expect(arc.deltas[0]!.exceedsStderr).toBe(false);
  });

  it("keeps judge results that scored nothing as n/a, without a delta, and lists what did not run", () => {
    const judge = rep.summary[2]!;
    expect(judge.cells["sft"]).toEqual({ value: null, stderr: null, n: 20, note: "20 unparseable judge replies" });
    expect(judge.cells["tiny"]).toBeUndefined();
    expect(judge.deltas).toEqual([]);
    expect(rep.notRun).toEqual(["eval_task:piqa@sft"]);
  });

  it("averages the ↑ headline metrics that every model reports", () => {
    const avg = rep.average!;
    expect(avg.task).toBe("Average of 2 tasks");
    expect(avg.cells["tiny"]!.value).toBeCloseTo((0.28 + 0.4) / 2, 12);
    expect(avg.cells["sft"]!.value).toBeCloseTo((0.27 + 0.5) / 2, 12);
    expect(avg.cells["sft"]!.stderr).toBeCloseTo(Math.sqrt(0.0314 ** 2 + 0.0354 ** 2) / 2, 12);
    expect(avg.deltas[0]!.value).toBeCloseTo(0.045, 12);
  });

  it("lists group members below their group in the detail, keeping their depth", () => {
    const member = { name: "mmlu_philosophy", kind: "task", version: 1, numFewshot: 0, n: 50, depth: 1, metrics: [{ metric: "acc", filter: "none", value: 0.3, stderr: 0.06, higherIsBetter: true }] };
    const g = (model: string, v: number) => ({ ...evalResult(`eval_task:mmlu@${model}`, "mmlu", model, [{ metric: "acc", value: v, stderr: 0.06 }], 50, [{ ...member, metrics: [{ ...member.metrics[0], value: v }] }]) });
    const r = buildReport({ recipe: "g", results: [g("base", 0.3), g("sft", 0.36)], expected: [], trained: new Set(["sft"]), smoke: false });
    expect(r.detail.map((x) => [x.task, x.depth])).toEqual([["mmlu", 0], ["mmlu_philosophy", 1]]);
    expect(r.detail[1]!.deltas[0]!.value).toBeCloseTo(0.06, 12);
    expect(r.summary).toHaveLength(1);
  });
});

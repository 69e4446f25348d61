// Whole-task runs through evaluate() with TEST DOUBLES for the EvalModel interface (not models): one
// scores a continuation by its length only, one always answers the same number. Expected values are
// recomputed here from the data with the same rule, independently of the engine. Also: the request
// cache, groups, and the report formats.
import { describe, expect, it } from "vitest";
import {
  comparisonTable,
  evaluate,
  loadRegistry,
  loadTask,
  markdownTable,
  MemoryCache,
  resultsJson,
  type Doc,
  type EvalModel,
} from "../../runtime/eval/index.js";
import { pyLen } from "../../runtime/eval/pystr.js";

const reg = loadRegistry();

/** Test double: log p = −0.1 per character of the continuation (shorter is likelier). */
function lengthModel(id = "length-double"): EvalModel & { calls: number } {
  const m = {
    id,
    calls: 0,
    loglikelihood: async (reqs: { context: string; continuation: string }[]) => {
      m.calls += reqs.length;
      return reqs.map((r) => ({ logprob: -0.1 * pyLen(r.continuation), isGreedy: false }));
    },
    generate: async (reqs: { context: string }[]) => {
      m.calls += reqs.length;
      return reqs.map(() => "I think it is 18.\n#### 18\n\nQuestion: more");
    },
  };
  return m;
}

function shortestIndex(choices: string[]): number {
  let best = 0;
  choices.forEach((c, i) => {
    if (-0.1 * pyLen(` ${c}`) > -0.1 * pyLen(` ${choices[best]}`)) best = i;
  });
  return best;
}

describe("evaluate with test doubles", () => {
  it("arc_easy: acc = the shortest choice is gold; acc_norm = the longest one is", async () => {
    const docs = loadTask(reg, "arc_easy", { limit: 40 }).evalDocs as (Doc & { choices: { text: string[]; label: string[] }; answerKey: string })[];
    const gold = docs.map((d) => d.choices.label.indexOf(d.answerKey));
    const acc = docs.filter((d, i) => shortestIndex(d.choices.text) === gold[i]).length / docs.length;
    // acc_norm divides −0.1·(len + 1) (the continuation has the leading space) by len: the longest choice wins
    const longest = (c: string[]) => c.reduce((b, x, i) => (pyLen(x) > pyLen(c[b]) ? i : b), 0);
    const accNorm = docs.filter((d, i) => longest(d.choices.text) === gold[i]).length / docs.length;
    const run = await evaluate(lengthModel(), ["arc_easy"], { registry: reg, limit: 40 });
    const r = run.results[0];
    expect(r).toMatchObject({ name: "arc_easy", n: 40, nOriginal: 2376, numFewshot: 0, version: 1 });
    expect(r.metrics.find((m) => m.metric === "acc")!.value).toBeCloseTo(acc, 12);
    expect(r.metrics.find((m) => m.metric === "acc_norm")!.value).toBeCloseTo(accNorm, 12);
    const se = Math.sqrt((acc * (1 - acc) * 40) / 39 / 40); // Bernoulli: sample variance n/(n−1)·p(1−p)
    expect(r.metrics.find((m) => m.metric === "acc")!.stderr).toBeCloseTo(se, 12);
  });

  it("gsm8k: '#### 18' is right exactly when the gold answer is 18, under both filters", async () => {
    const docs = loadTask(reg, "gsm8k", { limit: 30 }).evalDocs;
    const want = docs.filter((d) => (d.answer as string).endsWith("#### 18")).length / docs.length;
    const run = await evaluate(lengthModel(), ["gsm8k"], { registry: reg, limit: 30, numFewshot: 5, logSamples: true });
    const r = run.results[0];
    expect(r.metrics.map((m) => `${m.metric},${m.filter}`)).toEqual(["exact_match,strict-match", "exact_match,flexible-extract"]);
    for (const m of r.metrics) expect(m.value).toBeCloseTo(want, 12);
    expect(want).toBeGreaterThan(0);
    expect(r.samples![0].filtered).toEqual({ "strict-match": "18", "flexible-extract": "18" });
    // generation was cut at the stop string "Question:"
    expect((r.samples![0].responses[0] as string).endsWith("#### 18\n\n")).toBe(true);
  });

  it("the request cache answers repeated runs without calling the model", async () => {
    const cache = new MemoryCache();
    const m1 = lengthModel();
    const first = await evaluate(m1, ["piqa", "truthfulqa_mc2"], { registry: reg, limit: 10, cache });
    const m2 = lengthModel();
    const again = await evaluate(m2, ["piqa", "truthfulqa_mc2"], { registry: reg, limit: 10, cache });
    expect(m1.calls).toBeGreaterThan(0);
    expect(m2.calls).toBe(0);
    expect(again.results).toEqual(first.results);
    const other = lengthModel("another-model");
    await evaluate(other, ["piqa"], { registry: reg, limit: 10, cache });
    expect(other.calls).toBe(20); // a different model id never hits
  });

  it("tags expand to their tasks; name-only tasks are refused", async () => {
    const run = await evaluate(lengthModel(), ["ai2_arc"], { registry: reg, limit: { arc_easy: 5, arc_challenge: 7 } });
    expect(run.results.map((r) => [r.name, r.n])).toEqual([["arc_easy", 5], ["arc_challenge", 7]]);
    await expect(evaluate(lengthModel(), ["agieval_lsat_ar"], { registry: reg })).rejects.toThrow(/known by name only/);
  });
});

describe("reports", () => {
  it("Markdown table, comparison with deltas, and lm-eval results JSON", async () => {
    const base = await evaluate(lengthModel("base"), ["arc_challenge", "gsm8k"], { registry: reg, limit: 20, numFewshot: { gsm8k: 5 } });
    const tunedModel: EvalModel = {
      id: "tuned",
      loglikelihood: async (reqs) => reqs.map((r) => ({ logprob: -0.05 * pyLen(r.continuation) - (r.continuation.length % 3), isGreedy: false })),
      generate: async (reqs) => reqs.map(() => "#### 18"),
    };
    const tuned = await evaluate(tunedModel, ["arc_challenge", "gsm8k"], { registry: reg, limit: 20, numFewshot: { gsm8k: 5 } });

    const md = markdownTable(base);
    const lines = md.split("\n");
    expect(lines[0]).toBe("| Task | Version | Filter | n-shot | Metric | Value | ± Stderr |");
    const acc = base.results[0].metrics[0];
    expect(lines[2]).toBe(`| arc_challenge | 1 | none | 0 | acc | ${acc.value.toFixed(4)} | ${acc.stderr!.toFixed(4)} |`);
    expect(md).toContain("| gsm8k | 3 | strict-match | 5 | exact_match |");
    expect(md).toContain("- arc_challenge: 20 of 1172 docs");

    const cmp = comparisonTable(base, tuned);
    const tunedAcc = tuned.results[0].metrics[0].value;
    const delta = tunedAcc - acc.value;
    expect(cmp.split("\n")[0]).toBe("| Task | Version | Filter | n-shot | Metric | Base | ± | Finetuned | ± | Δ |");
    expect(cmp.split("\n")[2]).toContain(`| ${acc.value.toFixed(4)} | ${acc.stderr!.toFixed(4)} | ${tunedAcc.toFixed(4)} |`);
    expect(cmp.split("\n")[2].endsWith(`| ${delta > 0 ? "+" : ""}${delta.toFixed(4)} |`)).toBe(true);

    const json = resultsJson(base) as Record<string, Record<string, Record<string, unknown>>>;
    expect(json.results.arc_challenge["acc,none"]).toBe(acc.value);
    expect(json.results.arc_challenge["acc_stderr,none"]).toBe(acc.stderr);
    expect(json["n-samples"].arc_challenge).toEqual({ original: 1172, effective: 20 });
    expect(json["n-shot"].gsm8k).toBe(5);
    expect(json.versions.gsm8k).toBe(3);
  });

  it("groups print above their members, indented; n/a stderr prints N/A", async () => {
    const run = await evaluate(lengthModel(), ["mmlu_humanities"], { registry: reg, skipUnavailable: true, limit: 1 });
    const md = markdownTable(run);
    expect(md.split("\n")[2]).toMatch(/^\| humanities \| 2 \| none \|  \| acc \| [01]\.0000 \| N\/A \|$/);
    expect(md).toContain("|  - philosophy | 1 | none | 0 | acc |");
  });
});

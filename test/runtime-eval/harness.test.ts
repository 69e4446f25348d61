// Parity with the real lm-evaluation-harness (0.4.13). test/fixtures/eval/make_harness_fixture.py ran the
// harness's own task code on the same documents (shots drawn from the full original splits) and recorded
// prompts, model requests, filtered generations and scores under a fake model; here the TS engine must
// reproduce all of it from the shipped subsets.
//
// The fake model below is a TEST DOUBLE for the EvalModel interface: a string hash standing in for
// log-likelihoods and a fixed rule for generations, identical to fake_loglikelihood / fake_generate in the
// Python script. It exists only so both implementations score the same "model outputs".
import { readFileSync } from "node:fs";
import { beforeAll, describe, expect, it } from "vitest";
import {
  buildRequests,
  eqBenchProcessResults,
  evaluate,
  ifeval,
  loadRegistry,
  loadTask,
  runTask,
  type Doc,
  type EvalModel,
  type TaskRegistry,
} from "../../runtime/eval/index.js";
import { pyLen } from "../../runtime/eval/pystr.js";

interface Prompt {
  doc_id: number;
  /** A list for multiple-input tasks (winogrande): one context per choice. */
  context: string | string[];
  loglikelihood?: [string, string][];
  generate?: { context: string; until: string[]; max_gen_toks: number };
}
interface Metric {
  value: number;
  stderr: number | null;
}
interface Case {
  name: string;
  task: string;
  num_fewshot: number;
  n: number;
  prompts: Prompt[];
  metrics: Record<string, Metric>;
  filtered?: Record<string, string>[];
  docs?: Record<string, Doc[]>;
}
interface Fixture {
  lm_eval: string;
  cases: Case[];
  mmlu_groups: Record<string, { n: number; metrics: Record<string, Metric> }>;
  ifeval: ({ key: number; response: string } & Record<string, unknown>)[];
  eq_bench: { id: string; response: string; eqbench: number; percent_parseable: number }[];
}

const fixture = JSON.parse(readFileSync(new URL("../fixtures/eval/harness_fixture.json", import.meta.url), "utf8")) as Fixture;

// ---- test double (see header)
function fakeHash(s: string): number {
  let h = 0;
  for (const ch of s) h = (h * 31 + ch.codePointAt(0)!) % 1000003;
  return h;
}
function fakeLoglikelihood(context: string, continuation: string): { logprob: number; isGreedy: boolean } {
  const h = fakeHash(continuation);
  const tail = [...context].slice(-40).join("");
  return { logprob: -((h + fakeHash(tail)) % 997) / 100.0 - 0.02 * pyLen(continuation), isGreedy: h % 4 === 0 };
}
function fakeGenerate(context: string): string {
  const at = context.lastIndexOf("Question:");
  const seg = at >= 0 ? context.slice(at) : context.slice(-1);
  const total = (seg.match(/[0-9]+/g) ?? []).reduce((a, x) => a + Number(x), 0);
  const mode = pyLen(context) % 3;
  if (mode === 0) return `We add them up.\nSo the result is ${total}.\n#### ${total}\n\nQuestion: next one`;
  if (mode === 1) return `It comes to $${total}.00 in total, not ${total + 1}.`;
  return "I am not sure.";
}
const fakeModel: EvalModel = {
  id: "fake-hash-model",
  loglikelihood: async (reqs) => reqs.map((r) => fakeLoglikelihood(r.context, r.continuation)),
  generate: async (reqs) => reqs.map((r) => fakeGenerate(r.context)),
};

let reg: TaskRegistry;
beforeAll(() => {
  reg = loadRegistry();
});

function expectMetrics(got: { metric: string; filter: string; value: number; stderr: number | null }[], want: Record<string, Metric>): void {
  const byKey = new Map(got.map((m) => [`${m.metric},${m.filter}`, m]));
  expect([...byKey.keys()].sort()).toEqual(Object.keys(want).sort());
  for (const [key, w] of Object.entries(want)) {
    const g = byKey.get(key)!;
    expect(g.value, key).toBeCloseTo(w.value, 12);
    if (w.stderr === null) expect(g.stderr, key).toBeNull();
    else expect(g.stderr!, key).toBeCloseTo(w.stderr, 12);
  }
}

describe(`prompts, requests and scores match lm-eval ${fixture.lm_eval}`, () => {
  for (const c of fixture.cases) {
    it(c.name, async () => {
      const task = loadTask(reg, c.task, { limit: c.n, docs: c.docs });
      const reqs = buildRequests(task, { numFewshot: c.num_fewshot });
      for (const p of c.prompts) {
        const r = reqs[p.doc_id];
        if (Array.isArray(p.context)) expect(p.context.every((x) => x.startsWith(r.context))).toBe(true);
        else expect(r.context).toBe(p.context);
        if (p.loglikelihood) expect(r.loglikelihood.map((x) => [x.context, x.continuation])).toEqual(p.loglikelihood);
        if (p.generate) {
          expect(r.generate).toEqual({ context: p.generate.context, until: p.generate.until, maxNewTokens: p.generate.max_gen_toks });
        }
      }
      const fresh = loadTask(reg, c.task, { limit: c.n, docs: c.docs });
      const result = await runTask(fakeModel, fresh, { numFewshot: c.num_fewshot, logSamples: true });
      expect(result.n).toBe(c.n);
      expectMetrics(result.metrics, c.metrics);
      if (c.filtered) expect(result.samples!.map((s) => s.filtered)).toEqual(c.filtered);
    });
  }

  it("mmlu groups: size-weighted mean and pooled stderr over the shipped subjects", async () => {
    const run = await evaluate(fakeModel, ["mmlu"], { registry: reg, numFewshot: 5, skipUnavailable: true });
    for (const [name, want] of Object.entries(fixture.mmlu_groups)) {
      const g = run.results.find((r) => r.name === name && r.kind === "group")!;
      expect(g.n, name).toBe(want.n);
      expectMetrics(g.metrics, want.metrics);
    }
    expect(run.results[0].name).toBe("mmlu");
    expect(run.results.find((r) => r.name === "mmlu_stem")!.notes![0]).toMatch(/skipped \(no local data\): mmlu_anatomy/);
  });
});

describe("IFEval checkers match the harness on crafted responses", () => {
  const docs = new Map(
    readFileSync(new URL("../../data/eval/ifeval/train.jsonl", import.meta.url), "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as Doc)
      .map((d) => [d.key as number, d]),
  );
  it(`${fixture.ifeval.length} prompts (exact checkers only), strict and loose`, () => {
    for (const e of fixture.ifeval) {
      const got = ifeval.ifevalProcessResults(docs.get(e.key)!, e.response);
      const want = {
        prompt_level_strict_acc: e.prompt_level_strict_acc,
        inst_level_strict_acc: e.inst_level_strict_acc,
        prompt_level_loose_acc: e.prompt_level_loose_acc,
        inst_level_loose_acc: e.inst_level_loose_acc,
      };
      expect(got, `key ${e.key}`).toEqual(want);
    }
  });
});

describe("EQ-Bench per-question scores match the harness", () => {
  const rows = readFileSync(new URL("../../data/eval/eq_bench/validation.jsonl", import.meta.url), "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as Doc);
  for (const e of fixture.eq_bench) {
    it(`question ${e.id}`, () => {
      const doc = rows.find((r) => r.id === e.id)!;
      const got = eqBenchProcessResults(doc, e.response);
      expect(got.percent_parseable).toBe(e.percent_parseable);
      expect(got.eqbench).toBeCloseTo(e.eqbench, 12);
    });
  }
});

// Judged evals end to end with the shipped recipes' nodes: the pointwise 0–100 judge of instruction-eval.tune and
// the AlpacaEval-style win rate of llama3-8b-instruct-iterative-sampo.tune, answered by a loopback server (and by a
// local generator). Numbers are compared with fixtures/judge_fixture.json, which make_judge_fixture.py computes
// with plain CPython (random.Random for the order, statistics for mean and stderr).

import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fsHost } from "../../cli/host.js";
import { compile } from "../../compiler/compile.js";
import type { Row } from "../../runtime/data/index.js";
import { buildJudge, judgeResponses, winRate, type JudgePrompt, type LocalGenerator, type ResponseItem } from "../../runtime/judge/index.js";
import { judgeRule, startJudgeServer, type JudgeServer } from "./judge-server.js";

interface Fixture {
  pointwise_items: { instruction: string; input: string; output: string; response: string }[];
  pointwise: { scores: (number | null)[]; mean: number; stderr: number; scored: number };
  pairwise_items: { instruction: string; output: string; response: string }[];
  pairwise: { seed: number; candidate_second: boolean[]; points: (number | null)[]; win_rate: number; stderr: number }[];
}
const FIX = JSON.parse(readFileSync("test/runtime-judge/fixtures/judge_fixture.json", "utf8")) as Fixture;
const KEY = "sk-test-0123456789abcdef";
const ENV = { OPENAI_API_KEY: KEY };

function nodeParams(recipe: string, op: string): Record<string, unknown> {
  const path = `recipes/${recipe}.tune`;
  const c = compile(path, readFileSync(path, "utf8"), fsHost());
  const node = c.graph!.nodes.find((n) => n.op === op);
  expect(node, `${recipe} has a ${op} node`).toBeDefined();
  return node!.params as Record<string, unknown>;
}

function items<T extends { response: string }>(xs: T[], file: string): ResponseItem[] {
  return xs.map(({ response, ...values }, i): ResponseItem => ({ row: { values, origin: { file, format: "jsonl", line: i + 1, row: i } } as Row, response }));
}

let server: JudgeServer;
let dir: string;
beforeAll(async () => {
  server = await startJudgeServer({ apiKey: KEY, models: ["llama3-judge", "gpt-4-1106-preview"] });
  dir = mkdtempSync(join(tmpdir(), "tune-judge-evals-"));
});
afterAll(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("judgeResponses (pointwise, LitGPT 0–100)", () => {
  const p = nodeParams("instruction-eval", "judge");
  const prompt = p.prompt as JudgePrompt;
  const endpointParams = { ...(p.judge as object), model: null, api_model: "llama3-judge", api_key_env: "OPENAI_API_KEY" };

  it("scores as the book does: empty responses 0 unsent, int(reply), unparseable and out-of-range shown, mean ± stderr", async () => {
    const judge = buildJudge({ ...endpointParams, endpoint: server.base }, { env: ENV });
    const before = server.requests.length;
    const r = await judgeResponses(items(FIX.pointwise_items, "test_set.jsonl"), { judge, prompt, range: p.range as [number, number], cacheDir: dir });
    expect(r.items.map((x) => x.score)).toEqual(FIX.pointwise.scores);
    expect(r.mean).toBeCloseTo(FIX.pointwise.mean, 10);
    expect(r.stderr).toBeCloseTo(FIX.pointwise.stderr, 10);
    expect(r).toMatchObject({ kind: "pointwise", n: 8, scored: FIX.pointwise.scored, emptyResponses: 1, unparseable: 1, outOfRange: 1, requests: 7, cacheHits: 0, prompt: "litgpt_0_100" });
    expect(r.unparseableItems).toEqual([
      { origin: expect.objectContaining({ line: 5 }), where: "test_set.jsonl:5", reason: "unparseable", reply: "The response is great!" },
      { origin: expect.objectContaining({ line: 6 }), where: "test_set.jsonl:6", reason: "out_of_range", value: 150, reply: "150" },
    ]);
    expect(r.items[2]).toEqual({ where: "test_set.jsonl:3", response: "", reply: null, score: 0 });
    // The LitGPT prompt, seed 123 and max_tokens 50 from the recipe's judge block.
    const sent = server.requests.slice(before);
    expect(sent).toHaveLength(7);
    const first = sent.find((q) => q.body.messages[0].content.includes("Name a primary color."))!;
    expect(first.body).toMatchObject({ seed: 123, max_tokens: 50, temperature: 0 });
    expect(first.body.messages).toEqual([
      {
        role: "user",
        content:
          "Given the input `Below is an instruction that describes a task. Write a response that appropriately completes the request.\n\n### Instruction:\nName a primary color.` " +
          "and correct output `Red.`, score the model response `Blue is a primary color.` on a scale from 0 to 100, where 100 is the best score. Respond with the integer number only.",
      },
    ]);
    expect(JSON.parse(JSON.stringify(r))).toEqual(r); // JSON-able, no NaN
  });

  it("with the recipe's local judge model: same numbers, its own cache entries", async () => {
    const gen: LocalGenerator = { id: "sha256:llama3-8b-instruct", generate: async (messages) => judgeRule(messages[messages.length - 1].content) };
    const judge = buildJudge(p.judge, { generator: gen });
    const r = await judgeResponses(items(FIX.pointwise_items, "test_set.jsonl"), { judge, prompt, range: p.range as [number, number], cacheDir: dir });
    expect(r.judge).toBe("local:sha256:llama3-8b-instruct");
    expect(r.mean).toBeCloseTo(FIX.pointwise.mean, 10);
    expect(r).toMatchObject({ requests: 7, cacheHits: 0 });
    const again = await judgeResponses(items(FIX.pointwise_items, "test_set.jsonl"), { judge, prompt, range: p.range as [number, number], cacheDir: dir });
    expect(again).toMatchObject({ requests: 0, cacheHits: 7, mean: r.mean });
  });
});

describe("winRate (pairwise, AlpacaEval style)", () => {
  const p = nodeParams("llama3-8b-instruct-iterative-sampo", "win_rate");
  const prompt = p.prompt as JudgePrompt;

  function judge() {
    return buildJudge({ ...(p.judge as object), endpoint: server.base }, { env: ENV });
  }

  it("matches the CPython reference for each seed: order, per-item points, win rate and stderr", async () => {
    expect(p.seed).toBe(42);
    for (const ref of FIX.pairwise) {
      const before = server.requests.length;
      const r = await winRate(items(FIX.pairwise_items, "alpaca_eval.jsonl"), { judge: judge(), prompt, seed: ref.seed, baselineField: p.baseline_field as string, cacheDir: dir, countTokens: (t) => t.split(/\s+/).filter(Boolean).length });
      expect(r.items.map((x) => x.candidateSecond)).toEqual(ref.candidate_second);
      expect(r.items.map((x) => x.points)).toEqual(ref.points);
      expect(r.winRate).toBeCloseTo(ref.win_rate, 10);
      expect(r.stderr).toBeCloseTo(ref.stderr, 10);
      expect(r).toMatchObject({ kind: "pairwise", n: 15, identical: 1, unparseable: 1, seed: ref.seed, baselineField: "output" });
      expect(r.unparseableItems).toEqual([{ where: "alpaca_eval.jsonl:5", reply: "Both are fine." }]);
      expect(r.wins + r.ties + r.losses + r.unparseable).toBe(15);

      // What the judge saw: the candidate in position 2 exactly when the seeded order says so.
      for (const q of server.requests.slice(before)) {
        const user = q.body.messages[0].content;
        const i = FIX.pairwise_items.findIndex((it) => user.includes(`### Instruction:\n${it.instruction}\n\n`));
        const it = FIX.pairwise_items[i];
        const [o1, o2] = ref.candidate_second[i] ? [it.output, it.response] : [it.response, it.output];
        expect(user).toContain(`### Response 1:\n${o1}\n\n### Response 2:\n${o2}\n\n`);
        expect(q.body).toMatchObject({ model: "gpt-4-1106-preview", max_tokens: 1, temperature: 0 });
      }
    }
  });

  it("is reproducible: the same seed re-runs from the cache with no request; another seed only re-asks reordered items", async () => {
    const xs = items(FIX.pairwise_items, "alpaca_eval.jsonl");
    const d = mkdtempSync(join(tmpdir(), "tune-judge-wr-"));
    try {
      const a = await winRate(xs, { judge: judge(), prompt, seed: 42, cacheDir: d });
      expect(a.requests).toBe(14); // 15 items, one with identical outputs is a tie without a request
      const before = server.requests.length;
      const b = await winRate(xs, { judge: judge(), prompt, seed: 42, cacheDir: d });
      expect(server.requests.length).toBe(before);
      expect(b.items).toEqual(a.items);
      expect(b.winRate).toBe(a.winRate);
      const [s42, s7] = FIX.pairwise;
      const reordered = s42.candidate_second.filter((x, i) => x !== s7.candidate_second[i] && FIX.pairwise_items[i].output !== FIX.pairwise_items[i].response).length;
      const c = await winRate(xs, { judge: judge(), prompt, seed: 7, cacheDir: d });
      expect(c.requests).toBe(reordered);
      expect(reordered).toBeGreaterThan(0);
    } finally {
      rmSync(d, { recursive: true, force: true });
    }
  });

  it("reports mean lengths in characters and, given a tokenizer, in tokens", async () => {
    const r = await winRate(items(FIX.pairwise_items, "alpaca_eval.jsonl"), { judge: judge(), prompt, seed: 42, cacheDir: dir, countTokens: (t) => t.split(/\s+/).filter(Boolean).length });
    const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
    expect(r.length.candidateChars).toBeCloseTo(mean(FIX.pairwise_items.map((x) => [...x.response].length)), 10);
    expect(r.length.baselineChars).toBeCloseTo(mean(FIX.pairwise_items.map((x) => [...x.output].length)), 10);
    expect(r.length.candidateTokens).toBeCloseTo(mean(FIX.pairwise_items.map((x) => x.response.split(/\s+/).filter(Boolean).length)), 10);
  });

  it("names the row when the baseline field is missing", async () => {
    const xs = items([{ instruction: "a", reference: "b", response: "c" }], "alpaca_eval.jsonl");
    await expect(winRate(xs, { judge: judge(), prompt, seed: 1, cacheDir: dir })).rejects.toThrow(/^alpaca_eval\.jsonl:1: the baseline field "output" is missing/);
  });
});

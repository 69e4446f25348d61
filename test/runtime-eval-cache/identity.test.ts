// Model identity keys the request cache, never the stage name (the lm-eval bug: one cache shared by two models
// returns model A's answers for model B). Two copies of the tiny model with LoRA adapters that differ in one
// weight, both named "sft", are evaluated by the real eval op into one cache root: the second is never
// answered from the first's entries, each file holds exactly its own model's answers, and re-evaluating the
// first is answered entirely from its own file.
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Graph, GraphNode } from "../../compiler/graph.js";
import { initBackend } from "../../runtime/backend/index.js";
import { cacheKey, JsonlFileCache } from "../../runtime/eval/cache.js";
import { loadRegistry, loadTask, buildRequests, type LoglikelihoodRequest, type LoglikelihoodResult } from "../../runtime/eval/index.js";
import { IdentityMemo } from "../../runtime/exec/cache-identity.js";
import { evalModelIdentity } from "../../runtime/exec/eval-identity.js";
import { InProcessEvalModel, type EvalTemplate } from "../../runtime/exec/eval-model.js";
import { evalRequestFile } from "../../runtime/exec/eval-request-cache.js";
import { evalTaskOp } from "../../runtime/exec/ops/eval.js";
import type { ModelValue, ResultValue } from "../../runtime/exec/types.js";
import { cleanupTemps, compileRecipe, execEnv, recipe, sandbox, tinyModel, withAdapter, type Sandbox } from "./helpers.js";

const Q0 = "model.layers.0.self_attn.q_proj";
let sb: Sandbox;
let graph: Graph;
let sftNode: GraphNode;
let base: ModelValue;
let a: ModelValue;
let b: ModelValue;

beforeAll(async () => {
  await initBackend("wasm");
  sb = sandbox();
  graph = compileRecipe(sb, recipe(4)).graph;
  sftNode = graph.nodes.find((n) => n.id === "eval_task:arc_easy@sft")!;
  base = await tinyModel();
  a = withAdapter(base, "sft", 5);
  b = withAdapter(base, "sft", 5, { module: Q0, index: 0, delta: 0.5 }); // one weight of one adapter factor differs
}, 60_000);
afterAll(cleanupTemps);

/** One eval node run by the real op; returns its log lines and the task result. */
async function evalNode(node: GraphNode, m: ModelValue, cache: boolean): Promise<{ lines: string[]; run: unknown }> {
  const lines: string[] = [];
  const out = await evalTaskOp(node, { model: m }, execEnv(graph, sb.dir, cache, lines));
  return { lines, run: (out["result"] as ResultValue).data["run"] };
}

const memo = new IdentityMemo();

describe("identity", () => {
  it("differs for two adapters that differ in one weight, and is stable for the same weights", async () => {
    const ia = await evalModelIdentity(a, { asLoaded: false, memo });
    const ib = await evalModelIdentity(b, { asLoaded: false, memo });
    expect(ia.id).not.toBe(ib.id);
    expect(ia.parts["weights"]).toBe(ib.parts["weights"]); // same base tensors…
    expect(ia.parts["adapter"]).not.toBe(ib.parts["adapter"]); // …one adapter weight apart
    expect((await evalModelIdentity(withAdapter(base, "other-name", 5), { asLoaded: false, memo })).id).toBe(ia.id); // the name plays no part
  });

  it("of a model as loaded is its files'; of the same tensors in memory, another (weights hashed)", async () => {
    const files = await evalModelIdentity(base, { asLoaded: true, memo });
    expect(files.parts["model:model.safetensors"]).toMatch(/^file:[0-9a-f]{64}:\d+$/);
    expect(files.parts["model:tokenizer.json"]).toMatch(/^file:/);
    expect((await evalModelIdentity(await tinyModel("again"), { asLoaded: true, memo })).id).toBe(files.id);
    const mem = await evalModelIdentity(base, { asLoaded: false, memo });
    expect(mem.parts["weights"]).toMatch(/^tensors:[0-9a-f]{64}$/);
    expect(mem.parts["model:tokenizer.json"]).toBe(files.parts["model:tokenizer.json"]);
  });

  it("the eval model id also covers the template and the generation cap", () => {
    const t: EvalTemplate = { name: "alpaca", prompt: "### Instruction:\n{{instruction}}\n\n### Response:" };
    const ids = [new InProcessEvalModel(a, null), new InProcessEvalModel(a, t), new InProcessEvalModel(a, null, 32), new InProcessEvalModel(b, null)].map((m) => m.id);
    expect(new Set(ids).size).toBe(4);
    expect(new InProcessEvalModel(a, null).id).toBe(ids[0]);
  });
});

describe("two adapters named sft, one cache root", () => {
  let reqs: LoglikelihoodRequest[];
  let freshA: LoglikelihoodResult[];
  let freshB: LoglikelihoodResult[];
  const template = (): EvalTemplate | null => sftNode.params["template"] as EvalTemplate | null;

  beforeAll(async () => {
    const task = loadTask(loadRegistry(), "arc_easy", { limit: 4 });
    reqs = buildRequests(task, { numFewshot: 0 }).flatMap((r) => r.loglikelihood);
    freshA = await new InProcessEvalModel(a, template()).loglikelihood(reqs);
    freshB = await new InProcessEvalModel(b, template()).loglikelihood(reqs);
  });

  it("the adapters answer differently", () => {
    expect(Math.max(...freshA.map((x, i) => Math.abs(x.logprob - freshB[i].logprob)))).toBeGreaterThan(1e-4);
  });

  it("B is never answered from A's entries; A again is answered from its own", async () => {
    const first = await evalNode(sftNode, a, true);
    expect(first.lines).toContain("eval arc_easy@sft: 16 requests, 0 cached");
    const other = await evalNode(sftNode, b, true);
    expect(other.lines).toContain("eval arc_easy@sft: 16 requests, 0 cached");
    const again = await evalNode(sftNode, a, true);
    expect(again.lines).toContain("eval arc_easy@sft: 16 requests, 16 cached");
    expect(again.run).toEqual(first.run);
    expect(other.run).toEqual((await evalNode(sftNode, b, false)).run); // B with the cache = B without it
  });

  it("each model's file holds exactly its own answers under its own keys", async () => {
    for (const [m, fresh] of [[a, freshA], [b, freshB]] as const) {
      const identity = await evalModelIdentity(m, { asLoaded: false, memo });
      const file = new JsonlFileCache(evalRequestFile(sb.cacheRoot, identity.id));
      expect(file.size).toBe(16);
      const id = new InProcessEvalModel(m, template(), null, { weightsIdentity: identity.id }).id;
      reqs.forEach((r, i) => {
        const v = file.get(cacheKey(id, "ll", { task: "arc_easy", version: 1, request: r })) as LoglikelihoodResult;
        expect(v.isGreedy).toBe(fresh[i].isGreedy);
        expect(Math.abs(v.logprob - fresh[i].logprob)).toBeLessThan(1e-9); // the same batched computation
      });
      expect(readFileSync(file.path, "utf8").split("\n").filter(Boolean)).toHaveLength(16);
    }
  });
});

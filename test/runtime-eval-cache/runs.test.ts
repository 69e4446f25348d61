// The eval request cache in whole runs of a real recipe (the tiny model, a LoRA stage trained 2 steps here,
// arc_easy on 4 documents for the base model and the stage): a `tune eval` whose eval nodes re-run (their
// node-cache entries gone) asks the model nothing and gives the same results; raising the limit computes only
// the new documents' requests; `--no-cache` computes everything and writes no request file; the base model and
// the trained stage have separate files whose answers differ and never mix.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { initBackend } from "../../runtime/backend/index.js";
import { InProcessEvalModel } from "../../runtime/exec/eval-model.js";
import type { LoglikelihoodRequest } from "../../runtime/eval/index.js";
import type { ModelValue } from "../../runtime/exec/types.js";
import { cleanupTemps, recipe, sandbox, taskRequests, tune, type Sandbox, type TuneRun } from "./helpers.js";

/** Requests the model was asked to score (every InProcessEvalModel, counted at the prototype). */
const asked = { calls: 0, requests: 0 };
const original = InProcessEvalModel.prototype.loglikelihood;
InProcessEvalModel.prototype.loglikelihood = function (this: InProcessEvalModel, reqs: LoglikelihoodRequest[]) {
  asked.calls++;
  asked.requests += reqs.length;
  return original.call(this, reqs);
};
function counted<T>(f: () => Promise<T>): Promise<{ value: T; calls: number; requests: number }> {
  asked.calls = asked.requests = 0;
  return f().then((value) => ({ value, calls: asked.calls, requests: asked.requests }));
}

let sb: Sandbox;
let first: { value: TuneRun; calls: number; requests: number };
let off: TuneRun | undefined;
const resultOf = (run: TuneRun, model: string): unknown => JSON.parse(readFileSync(join(run.summary.runDir, "eval", `arc_easy@${model}.json`), "utf8")).run;

beforeAll(async () => {
  await initBackend("wasm");
  sb = sandbox();
  first = await counted(() => tune(sb, recipe(4), "first", { cache: true }));
}, 120_000);
afterAll(() => {
  InProcessEvalModel.prototype.loglikelihood = original;
  cleanupTemps();
});

describe("tune run, then tune eval", () => {
  it("the first run asks the model every request and logs the counts per eval node", () => {
    expect(first.value.summary.ok, first.value.out).toBe(true);
    expect(first.value.out).toContain("eval arc_easy@tiny: 16 requests, 0 cached");
    expect(first.value.out).toContain("eval arc_easy@sft: 16 requests, 0 cached");
    expect(first.requests).toBe(32);
  });

  it("a second tune eval whose eval nodes re-run asks the model nothing and gives the same results", async () => {
    const again = await counted(() => tune(sb, recipe(4), "again", { cache: true, evalOnly: true, evictEvals: true }));
    expect(again.value.summary.ok, again.value.out).toBe(true);
    expect(again.value.summary.outcomes.filter((o) => o.op === "eval_task").map((o) => o.state)).toEqual(["done", "done"]);
    expect(again.value.summary.outcomes.find((o) => o.id === "train:sft")!.state).toBe("cached");
    expect(again.value.out).toContain("eval arc_easy@tiny: 16 requests, 16 cached");
    expect(again.value.out).toContain("eval arc_easy@sft: 16 requests, 16 cached");
    expect(again).toMatchObject({ calls: 0, requests: 0 });
    for (const m of ["tiny", "sft"]) expect(resultOf(again.value, m)).toEqual(resultOf(first.value, m));
  });

  it("raising the limit from 4 to 6 documents computes only the 2 new documents' requests", async () => {
    const more = await counted(() => tune(sb, recipe(6), "more", { cache: true, evalOnly: true }));
    expect(more.value.summary.ok, more.value.out).toBe(true);
    expect(more.value.out).toContain("eval arc_easy@tiny: 24 requests, 16 cached");
    expect(more.value.out).toContain("eval arc_easy@sft: 24 requests, 16 cached");
    expect(more.requests).toBe(16);
  });

  it("--no-cache asks the model every request, writes no request file, and gets the same numbers", async () => {
    const files = readdirSync(join(sb.cacheRoot, "eval-requests")).sort();
    const sizes = files.map((f) => readFileSync(join(sb.cacheRoot, "eval-requests", f)).length);
    const run = await counted(() => tune(sb, recipe(4), "off", { cache: false, evalOnly: true }));
    off = run.value;
    expect(off.summary.ok, off.out).toBe(true);
    expect(off.out).toContain("eval arc_easy@tiny: 16 requests, request cache off");
    expect(off.out).toContain("eval arc_easy@sft: 16 requests, request cache off");
    expect(run.requests).toBe(32);
    expect(readdirSync(join(sb.cacheRoot, "eval-requests")).sort()).toEqual(files);
    expect(files.map((f) => readFileSync(join(sb.cacheRoot, "eval-requests", f)).length)).toEqual(sizes);
    for (const m of ["tiny", "sft"]) expect(resultOf(off, m)).toEqual(resultOf(first.value, m));
  });
});

describe("base model and trained stage", () => {
  it("have one request file each, named by their weights' identity", () => {
    const files = readdirSync(join(sb.cacheRoot, "eval-requests"));
    expect(files).toHaveLength(2);
    for (const f of files) expect(f).toMatch(/^[0-9a-f]{64}\.jsonl$/);
  });

  it("answer differently, and the trained stage's answers are its own", async () => {
    const values = first.value.summary.values;
    const base = values.get("load_model:tiny")!["model"] as ModelValue;
    const sft = values.get("train:sft")!["model"] as ModelValue;
    const reqs = taskRequests("arc_easy", 4);
    const a = await new InProcessEvalModel(base, null).loglikelihood(reqs);
    const b = await new InProcessEvalModel(sft, null).loglikelihood(reqs);
    const diff = Math.max(...a.map((x, i) => Math.abs(x.logprob - b[i].logprob)));
    expect(diff).toBeGreaterThan(1e-3); // training moved the answers: a shared cache would have been wrong
    const files = readdirSync(join(sb.cacheRoot, "eval-requests")).map((f) => readFileSync(join(sb.cacheRoot, "eval-requests", f), "utf8"));
    const keys = files.map((t) => new Set(t.split("\n").filter(Boolean).map((l) => (JSON.parse(l) as { k: string }).k)));
    expect(keys.map((k) => k.size)).toEqual([24, 24]);
    expect([...keys[0]].filter((k) => keys[1].has(k))).toEqual([]);
  });

});

describe("wiring", () => {
  // Needs runtime/exec/run.ts to put RunOptions.cache into the ExecEnv it builds (`cache: o.cache === true`);
  // until then the tests above hand the flag to the eval op themselves (helpers.ts, evalWithCacheFlag).
  it("runGraph gives every eval node ExecEnv.cache = RunOptions.cache (`tune run` true, `--no-cache` false)", () => {
    expect(first.value.envCache).toEqual([true, true]);
    expect(off?.envCache).toEqual([false, false]);
  });
});

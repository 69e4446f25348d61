// Shared set-up for the eval request-cache and batching tests: the shipped tiny model as a ModelValue (what
// load_model gives), a copy with a LoRA adapter whose weights are set from a seed, and real requests of
// shipped tasks, tokenized as the in-process eval model tokenizes them.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs";
import { fsHost, packageRoot } from "../../cli/host.js";
import { loadModelDir } from "../../runtime/checkpoint/index.js";
import { buildRequests, loadRegistry, loadTask, type LoglikelihoodRequest } from "../../runtime/eval/index.js";
import { LoraAdapter } from "../../runtime/lora/adapter.js";
import { LlamaModel } from "../../runtime/model/llama.js";
import { Rng } from "../../runtime/data/rng.js";
import { compile } from "../../compiler/compile.js";
import type { Graph } from "../../compiler/graph.js";
import { createNodeCache } from "../../runtime/exec/cache.js";
import { runGraph, type RunSummary } from "../../runtime/exec/run.js";
import { memoryEnv } from "../../runtime/exec/scratch-env.js";
import { evalSubgraph } from "../../runtime/exec/subgraph.js";
import { evalTaskOp } from "../../runtime/exec/ops/eval.js";
import type { NodeCache } from "../../runtime/exec/scheduler.js";
import type { ExecEnv, ModelValue, OpHandler } from "../../runtime/exec/types.js";
import { CacheStore } from "../../runtime/store/index.js";
export const ROOT = packageRoot();
export const TINY_DIR = join(ROOT, "models", "tiny-llama");

import { cleanupTemps, tempDir } from "../temp.js";
export { cleanupTemps, tempDir };

/** The tiny model as load_model returns it. */
export async function tinyModel(name = "tiny"): Promise<ModelValue> {
  const loaded = await loadModelDir(TINY_DIR);
  const tok = loaded.tokenizer!;
  return {
    kind: "model",
    name,
    config: loaded.config,
    model: loaded.model,
    tokenizer: { encode: (t) => tok.encode(t), decode: (ids) => tok.decode(ids), bosId: loaded.generation.bosTokenId, eosId: loaded.generation.eosTokenIds[0] ?? null },
    baseDir: TINY_DIR,
    adapter: null,
    adapterParams: null,
    standsInFor: null,
  };
}

/**
 * A stage-like copy of `base` with a LoRA adapter on q_proj/v_proj whose B factors are filled from `seed`
 * (PEFT starts B at zero, which would make the adapter a no-op). `perturb` then adds `delta` to one weight.
 */
export function withAdapter(base: ModelValue, name: string, seed: number, perturb?: { module: string; index: number; delta: number }): ModelValue {
  const model = LlamaModel.fromHfWeights(base.config, base.model.exportHfWeights(), false);
  const adapter = LoraAdapter.attach(model, { r: 4, alpha: 8, dropout: 0, targetModules: ["q_proj", "v_proj"], useRslora: false, seed });
  const rng = new Rng(seed);
  for (const m of adapter.modules.values()) {
    const data = Float32Array.from({ length: m.B.size }, () => (rng.nextFloat() - 0.5) * 0.2);
    if (perturb && m.name === perturb.module) data[perturb.index] += perturb.delta;
    m.B.assign(tf.tensor(data, m.B.shape));
  }
  return { ...base, name, model, adapter, adapterParams: { method: "lora", r: 4, alpha: 8 } };
}

/** Loglikelihood requests of the first `limit` docs of a shipped task. */
export function taskRequests(task: string, limit: number, numFewshot = 0): LoglikelihoodRequest[] {
  const t = loadTask(loadRegistry(), task, { limit });
  return buildRequests(t, { numFewshot }).flatMap((r) => r.loglikelihood);
}

// ---- whole runs

/** A LoRA SFT recipe over rows.json (8 training rows, 2 optimizer steps) evaluated on arc_easy, base and sft. */
export function recipe(evalLimit = 4): string {
  return `import { alpaca } from "std/templates"
import { tiny_llama } from "std/models"
import { arc_easy } from "std/evals"

recipe evalcache {
  seed = 7
}

model tiny {
  path = "${TINY_DIR}"
  arch = tiny_llama
}

dataset rows {
  path = "rows.json"
  fields {
    instruction: string
    input: string = ""
    output: string
  }
}

data train {
  from = rows
  sample(12)
  split(validation = 4)
}

adapter lora {
  method = lora
  r = 4
  alpha = 8
  targets = [q_proj, v_proj]
}

stage sft {
  method = sft
  from = tiny
  data = train
  template = alpaca
  adapter = lora
  batch = 4
  micro_batch = 2
  lr = 1e-2
  epochs = 1
  cutoff = 96 tokens
}

eval gain {
  models = [tiny, sft]
  limit = ${evalLimit}
  task(arc_easy, shots = 0, metric = acc)
}
`;
}

export interface Sandbox {
  dir: string;
  cacheRoot: string;
}

export function sandbox(): Sandbox {
  const dir = tempDir("eval-cache");
  const rows = (JSON.parse(readFileSync(join(ROOT, "data", "alpaca", "alpaca_tiny.json"), "utf8")) as { instruction: string; input: string; output: string }[]).slice(0, 30);
  writeFileSync(join(dir, "rows.json"), JSON.stringify(rows.map(({ instruction, input, output }) => ({ instruction, input, output }))));
  const cacheRoot = join(dir, "cache");
  process.env["TUNE_CACHE"] = cacheRoot;
  return { dir, cacheRoot };
}

export function compileRecipe(sb: Sandbox, text: string): { graph: Graph; path: string } {
  const path = join(sb.dir, "evalcache.tune");
  writeFileSync(path, text);
  const c = compile(path, text, fsHost());
  const errors = c.diagnostics.filter((d) => d.severity === "error");
  if (errors.length > 0 || !c.graph) throw new Error(`recipe does not compile: ${errors.map((d) => `${d.code} ${d.message}`).join("; ")}`);
  return { graph: c.graph, path };
}

/**
 * ExecEnv.cache mirrors RunOptions.cache. Until runtime/exec/run.ts sets it, this handler gives the eval op the
 * value the run was started with; once run.ts sets it, the env already has it and this passes it through.
 */
function evalWithCacheFlag(cache: boolean): OpHandler {
  return (node, inputs, env) => evalTaskOp(node, inputs, "cache" in env ? env : { ...env, cache });
}

export interface TuneRun {
  summary: RunSummary;
  out: string;
  envCache: unknown[];
}

/**
 * One `tune run` (or `tune eval`: evalOnly) of `text` with the caches on or off (`--no-cache`). `evictEvals`: the
 * node cache never answers eval nodes (their entries gone), so evaluation runs and only the request cache can help.
 */
export async function tune(sb: Sandbox, text: string, tag: string, o: { cache: boolean; evalOnly?: boolean; evictEvals?: boolean }): Promise<TuneRun> {
  const { graph, path } = compileRecipe(sb, text);
  let out = "";
  const envCache: unknown[] = [];
  let hookCache: NodeCache | undefined;
  const runDir = join(sb.dir, "runs", tag);
  if (o.cache && o.evictEvals) {
    const store = new CacheStore({ root: sb.cacheRoot });
    const real = createNodeCache({ store, smoke: null, env: { recipeDir: sb.dir, packageRoot: ROOT, runDir, log: () => undefined, graph, seed: graph.seed } });
    hookCache = { get: (n) => (n.op === "eval_task" ? Promise.resolve(null) : real.get(n)), put: (n, v) => real.put(n, v) };
  }
  const flagged = evalWithCacheFlag(o.cache);
  const summary = await runGraph({
    graph: o.evalOnly ? evalSubgraph(graph) : graph,
    recipePath: path,
    recipeText: text,
    packageRoot: ROOT,
    runsDir: join(sb.dir, "runs"),
    runDir,
    smoke: false,
    cache: o.cache,
    out: { isTTY: false, write: (t) => void (out += t) },
    handlers: { eval_task: (n, i, e) => (envCache.push((e as { cache?: unknown }).cache), flagged(n, i, e)) },
    hooks: hookCache ? { cache: hookCache } : undefined,
  });
  return { summary, out, envCache };
}

/** An ExecEnv for calling the eval op directly, log lines kept in `lines`. */
export function execEnv(graph: Graph, runDir: string, cache: boolean, lines: string[]): ExecEnv & { cache: boolean } {
  return { ...memoryEnv({ graph, recipeDir: runDir, runDir, packageRoot: ROOT, log: lines }), cache };
}

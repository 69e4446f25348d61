// Shared set-up for the node-output cache tests: a sandbox directory with its
// own cache root ($TUNE_CACHE), a copy of a few Alpaca rows the tests may edit,
// the tiny model (the shipped one, or one built here when the checkout has
// none), a small recipe, and one real `runGraph` with the cache plugged in.
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { compile } from "../../compiler/compile.js";
import type { Graph } from "../../compiler/graph.js";
import { fsHost, packageRoot } from "../../cli/host.js";
import { saveModelDir } from "../../runtime/checkpoint/index.js";
import { parseHfConfig } from "../../runtime/io/hf-config.js";
import { LlamaModel } from "../../runtime/model/llama.js";
import { TINY_SPECIAL_TOKENS, trainByteLevelBpe, writeTokenizerFiles } from "../../runtime/tokenizer/index.js";
import { CacheStore, type StoreWarning } from "../../runtime/store/index.js";
import { createNodeCache, type ExecNodeCache } from "../../runtime/exec/cache.js";
import { runGraph, type RunSummary } from "../../runtime/exec/run.js";
import { memoryEnv } from "../../runtime/exec/scratch-env.js";
import type { ExecEnv, SmokeLimits } from "../../runtime/exec/types.js";

export const ROOT = packageRoot();
export const SHIPPED_TINY = join(ROOT, "models", "tiny-llama");

import { cleanupTemps, tempDir } from "../temp.js";
export { cleanupTemps, tempDir };

interface AlpacaRow {
  instruction: string;
  input: string;
  output: string;
}

/** The first `n` rows of the shipped Alpaca sample. */
export function alpacaRows(n: number): AlpacaRow[] {
  const all = JSON.parse(readFileSync(join(ROOT, "data", "alpaca", "alpaca_tiny.json"), "utf8")) as AlpacaRow[];
  return all.slice(0, n).map(({ instruction, input, output }) => ({ instruction, input, output }));
}

/**
 * A model directory for the tests: models/tiny-llama when the checkout has it, else a random model of the same
 * architecture with a byte-level BPE trained here on the Alpaca rows, written into `dir/models/tiny-llama`
 * (recipes resolve paths next to the recipe first, so they pick it up).
 */
export async function tinyModelDir(dir: string): Promise<string> {
  if (existsSync(join(SHIPPED_TINY, "config.json"))) return SHIPPED_TINY;
  const out = join(dir, "models", "tiny-llama");
  const config = parseHfConfig(JSON.parse(readFileSync(join(ROOT, "test", "exec-cache", "fixtures", "tiny-config.json"), "utf8")));
  const texts = alpacaRows(100).map((r) => `${r.instruction}\n${r.input}\n${r.output}`);
  const bpe = trainByteLevelBpe(texts, { vocabSize: 600, specialTokens: [...TINY_SPECIAL_TOKENS] });
  await saveModelDir(out, LlamaModel.random(config, 0), config);
  await writeTokenizerFiles(out, bpe, { bosToken: "<|begin_of_text|>", eosToken: "<|end_of_text|>", padToken: "<pad>" });
  return out;
}

export interface RecipeKnobs {
  template?: string;
  evalLimit?: number;
  method?: "lora" | "qlora" | "full";
  /** The data block's filter condition (default `len(output) > 0`). */
  filter?: string;
}

/** A small LoRA SFT recipe over `rows.json` next to it: 8 training rows, 2 optimizer steps, eval on 4 documents. */
export function recipe(k: RecipeKnobs = {}): string {
  const template = k.template ?? "alpaca";
  const method = k.method ?? "lora";
  const adapter =
    method === "full"
      ? ""
      : `adapter lora {
  method = ${method}
  r = 4
  alpha = 8
  targets = [q_proj, v_proj]
}
`;
  return `import { ${template} } from "std/templates"
import { tiny_llama } from "std/models"
import { arc_easy } from "std/evals"

recipe cached {
  seed = 7
}

model tiny {
  path = "models/tiny-llama"
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
  filter(${k.filter ?? "len(output) > 0"})
  sample(12)
  split(validation = 4)
}

${adapter}
stage sft {
  method = ${method === "full" ? "full" : "sft"}
  from = tiny
  data = train
  template = ${template}
  ${method === "full" ? "" : "adapter = lora"}
  batch = 4
  micro_batch = 2
  lr = 1e-3
  epochs = 1
  cutoff = 128 tokens
}

export {
  from = sft
}

eval gain {
  models = [tiny, sft]
  limit = ${k.evalLimit ?? 4}
  task(arc_easy, shots = 0, metric = acc)
}
`;
}

export interface Sandbox {
  readonly dir: string;
  readonly cacheRoot: string;
  readonly warnings: StoreWarning[];
}

export async function sandbox(rows = 30): Promise<Sandbox> {
  const dir = tempDir("exec-cache");
  writeFileSync(join(dir, "rows.json"), JSON.stringify(alpacaRows(rows), null, 1));
  await tinyModelDir(dir);
  const cacheRoot = join(dir, "cache");
  process.env["TUNE_CACHE"] = cacheRoot;
  return { dir, cacheRoot, warnings: [] };
}

export function compileRecipe(sb: Sandbox, text: string): { graph: Graph; path: string } {
  const path = join(sb.dir, "cached.tune");
  writeFileSync(path, text);
  const c = compile(path, text, fsHost());
  const errors = c.diagnostics.filter((d) => d.severity === "error");
  if (errors.length > 0 || !c.graph) throw new Error(`recipe does not compile: ${errors.map((d) => `${d.code} ${d.message}`).join("; ")}`);
  return { graph: c.graph, path };
}

export interface CachedRun {
  summary: RunSummary;
  cache: ExecNodeCache;
  out: string;
  states: Record<string, string>;
}

/**
 * One real run of `text` in `sb` with the cache on (a fresh CacheStore, as a new `tune run` process has).
 * `stopAt`: a node id at whose start a stop is requested, as the first Ctrl-C does.
 */
export async function runCached(sb: Sandbox, text: string, tag: string, smoke: SmokeLimits | null = null, stopAt?: string): Promise<CachedRun> {
  const { graph, path } = compileRecipe(sb, text);
  const runDir = join(sb.dir, "runs", tag);
  let out = "";
  let stop = false;
  const log = (line: string): void => {
    out += line + "\n";
  };
  const stopRequested = (): boolean => stop;
  const store = new CacheStore({ root: sb.cacheRoot, warn: (w) => sb.warnings.push(w) });
  const cache = createNodeCache({ store, smoke, env: { recipeDir: sb.dir, packageRoot: ROOT, runDir, log, graph, seed: graph.seed, stopRequested } });
  const summary = await runGraph({
    graph,
    recipePath: path,
    recipeText: text,
    packageRoot: ROOT,
    runsDir: join(sb.dir, "runs"),
    runDir,
    smoke: smoke !== null,
    out: { isTTY: false, write: (t) => (out += t) },
    hooks: { cache, stopRequested, onStart: (node) => void (stop ||= node.id === stopAt) },
  });
  const states = Object.fromEntries(summary.outcomes.map((o) => [o.id, o.state]));
  return { summary, cache, out, states };
}

/** Node ids by state, for readable assertions. */
export function byState(run: CachedRun): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const o of run.summary.outcomes) (out[o.state] ??= []).push(o.id);
  return out;
}

/** A complete ExecEnv for calling op handlers directly (log and metrics kept in memory). */
export function execEnv(graph: Graph, runDir: string, recipeDir: string, lines: string[] = []): ExecEnv {
  return memoryEnv({ graph, recipeDir, runDir, packageRoot: ROOT, log: lines });
}

// load_model: a Hugging Face model directory from a local path or the local
// HF hub cache (the standard layout, so models downloaded with
// `huggingface-cli download` are found). Under --smoke the shipped tiny model
// stands in for any other model, and the run says so. With `init = random`
// (pretraining from scratch) only config.json and the tokenizer are read and
// the weights are initialised as transformers does (N(0, 0.02), norms 1),
// seeded by the node's `seed`: the same recipe and seed give the same start.
import { join } from "node:path";
import type { GraphNode } from "../../../compiler/graph.js";
import { CheckpointError, loadModelDir } from "../../checkpoint/index.js";
import { readHfConfig } from "../../io/hf-config.js";
import { hubCacheDir, hubModelSnapshot } from "../../data/hub/settings.js";
import { LlamaModel } from "../../model/llama.js";
import { loadTokenizer, type Tokenizer } from "../../tokenizer/load.js";
import { resolveRecipePath } from "../paths.js";
import { ExecError, NotExecutable, type ExecEnv, type ExecTokenizer, type ModelValue, type OpHandler } from "../types.js";

export const TINY_MODEL_DIR = join("models", "tiny-llama");
/** Above this many parameters the in-process (single-threaded CPU) executor refuses and points to the torch executor. */
const IN_PROCESS_MAX_PARAMS = 2e9;

function paramCount(arch: Record<string, number> | undefined): number | null {
  if (!arch || !arch["hidden"]) return null;
  const { vocab, hidden: d, intermediate: i, layers, heads, kv_heads } = arch as Record<string, number>;
  const hd = d / heads;
  const kv = (kv_heads ?? heads) * hd;
  return vocab * d * 2 + layers * (2 * d * d + 2 * d * kv + 3 * d * i);
}

function locate(node: GraphNode, env: ExecEnv): { dir: string; standsInFor: string | null } {
  const p = node.params;
  const arch = p["arch"] as Record<string, number> & { name?: string } | undefined;
  const what = typeof p["hub"] === "string" ? p["hub"] : String(p["path"] ?? node.id);
  if (env.smoke && arch?.name !== "tiny_llama") {
    env.substitute(node.id, `the tiny model (${TINY_MODEL_DIR}) stands in for ${what}`);
    return { dir: resolveRecipePath(env, TINY_MODEL_DIR, "tiny model"), standsInFor: what };
  }
  const n = paramCount(arch);
  if (n !== null && n > IN_PROCESS_MAX_PARAMS) {
    throw new NotExecutable(`${what} has ~${(n / 1e9).toFixed(1)}B parameters: too large for the in-process CPU executor`, "run it on GPUs with `--executor torch`, or try the pipeline first with `--smoke`");
  }
  if (typeof p["path"] === "string") return { dir: resolveRecipePath(env, p["path"], "model directory"), standsInFor: null };
  const repo = String(p["hub"]);
  const snap = hubModelSnapshot(repo, String(p["revision"] ?? "main"));
  if (snap) return { dir: snap, standsInFor: null };
  throw new NotExecutable(`model ${repo} is not in the local Hugging Face cache (${hubCacheDir()})`, `download it first (\`huggingface-cli download ${repo}\`), or set \`path = "…"\` to a local directory`);
}

export async function loadTinyModel(env: ExecEnv): Promise<ModelValue> {
  return openModel(resolveRecipePath(env, TINY_MODEL_DIR, "tiny model"), "tiny", "tiny", env);
}

export const loadModelOp: OpHandler = async (node, _inputs, env) => {
  const { dir, standsInFor } = locate(node, env);
  const name = node.id.slice(node.id.indexOf(":") + 1);
  if (node.params["init"] === "random") return { model: await randomModel(dir, name, standsInFor, Number(node.params["seed"] ?? env.seed), env) };
  return { model: await openModel(dir, name, standsInFor, env) };
};

function execTokenizer(tok: Tokenizer, bosId: number | null, eosId: number | null): ExecTokenizer {
  return { encode: (t) => tok.encode(t), decode: (ids) => tok.decode(ids), bosId, eosId };
}

/** `init = random`: config.json + tokenizer of `dir`, fresh seeded weights; weight files in `dir` are not read. */
async function randomModel(dir: string, name: string, standsInFor: string | null, seed: number, env: ExecEnv): Promise<ModelValue> {
  const config = await readHfConfig(dir);
  const tok = await loadTokenizer(dir);
  if (tok.vocabSize > config.vocabSize) {
    // The same check (and code) as loading a model with weights (runtime/checkpoint/load.ts).
    throw new CheckpointError("T6094", join(dir, "tokenizer.json"), `the tokenizer has ${tok.vocabSize} ids but config.json vocab_size is ${config.vocabSize}`, "use the tokenizer the config was made for, or raise vocab_size in config.json");
  }
  const model = LlamaModel.random(config, seed);
  // BOS/EOS from config.json: a model without weights has no generation_config.json to defer to.
  const tokenizer = execTokenizer(tok, config.bosTokenId, config.eosTokenIds[0] ?? null);
  env.log(`load_model:${name}: random initialisation (seed ${seed}) of ${dir}/config.json (${config.numLayers} layers, hidden ${config.hiddenSize}, vocab ${config.vocabSize}); weights not read`);
  return { kind: "model", name, config, model, tokenizer, baseDir: dir, adapter: null, adapterParams: null, standsInFor };
}

async function openModel(dir: string, name: string, standsInFor: string | null, env: ExecEnv): Promise<ModelValue> {
  const node = { id: `load_model:${name}` };
  const loaded = await loadModelDir(dir);
  if (!loaded.tokenizer) throw new ExecError("T7109", `${dir} has no tokenizer.json`, "copy the tokenizer files of the base model into the directory");
  const tokenizer = execTokenizer(loaded.tokenizer, loaded.generation.bosTokenId, loaded.generation.eosTokenIds[0] ?? null);
  env.log(`${node.id}: ${dir} (${loaded.config.numLayers} layers, hidden ${loaded.config.hiddenSize}, vocab ${loaded.config.vocabSize})`);
  return { kind: "model", name, config: loaded.config, model: loaded.model, tokenizer, baseDir: dir, adapter: null, adapterParams: null, standsInFor };
}

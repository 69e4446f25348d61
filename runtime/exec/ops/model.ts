// load_model: a Hugging Face model directory from a local path or the local
// HF hub cache (the standard layout, so models downloaded with
// `huggingface-cli download` are found). Under --smoke the shipped tiny model
// stands in for any other model, and the run says so.
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import type { GraphNode } from "../../../compiler/graph.js";
import { loadModelDir } from "../../checkpoint/index.js";
import { resolveRecipePath } from "../paths.js";
import { ExecError, NotExecutable, type ExecEnv, type ExecTokenizer, type ModelValue, type OpHandler } from "../types.js";

export const TINY_MODEL_DIR = join("models", "tiny-llama");
/** Above this many parameters the in-process (single-threaded CPU) executor refuses and points to the torch executor. */
const IN_PROCESS_MAX_PARAMS = 2e9;

function hubCacheDir(): string {
  const env = process.env;
  if (env["HF_HUB_CACHE"]) return env["HF_HUB_CACHE"];
  if (env["HF_HOME"]) return join(env["HF_HOME"], "hub");
  return join(homedir(), ".cache", "huggingface", "hub");
}

/** The snapshot directory of `repo` at `revision` in the local HF cache, or null. */
export function hubSnapshot(repo: string, revision: string, cache = hubCacheDir()): string | null {
  const base = join(cache, `models--${repo.replace(/\//g, "--")}`);
  if (!existsSync(base)) return null;
  let commit = revision;
  const ref = join(base, "refs", revision);
  if (existsSync(ref)) commit = readFileSync(ref, "utf8").trim();
  const snap = join(base, "snapshots", commit);
  if (existsSync(snap)) return snap;
  const snaps = existsSync(join(base, "snapshots")) ? readdirSync(join(base, "snapshots")) : [];
  const prefix = snaps.find((s) => s.startsWith(revision));
  return prefix ? join(base, "snapshots", prefix) : null;
}

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
  const snap = hubSnapshot(repo, String(p["revision"] ?? "main"));
  if (snap) return { dir: snap, standsInFor: null };
  throw new NotExecutable(`model ${repo} is not in the local Hugging Face cache (${hubCacheDir()})`, `download it first (\`huggingface-cli download ${repo}\`), or set \`path = "…"\` to a local directory`);
}

export async function loadTinyModel(env: ExecEnv): Promise<ModelValue> {
  return openModel(resolveRecipePath(env, TINY_MODEL_DIR, "tiny model"), "tiny", "tiny", env);
}

export const loadModelOp: OpHandler = async (node, _inputs, env) => {
  const { dir, standsInFor } = locate(node, env);
  return { model: await openModel(dir, node.id.slice(node.id.indexOf(":") + 1), standsInFor, env) };
};

async function openModel(dir: string, name: string, standsInFor: string | null, env: ExecEnv): Promise<ModelValue> {
  const node = { id: `load_model:${name}` };
  const loaded = await loadModelDir(dir);
  if (!loaded.tokenizer) throw new ExecError("T7109", `${dir} has no tokenizer.json`, "copy the tokenizer files of the base model into the directory");
  const tok = loaded.tokenizer;
  const tokenizer: ExecTokenizer = {
    encode: (t) => tok.encode(t),
    decode: (ids) => tok.decode(ids),
    bosId: loaded.generation.bosTokenId,
    eosId: loaded.generation.eosTokenIds[0] ?? null,
  };
  env.log(`${node.id}: ${dir} (${loaded.config.numLayers} layers, hidden ${loaded.config.hiddenSize}, vocab ${loaded.config.vocabSize})`);
  return { kind: "model", name, config: loaded.config, model: loaded.model, tokenizer, baseDir: dir, adapter: null, adapterParams: null, standsInFor };
}

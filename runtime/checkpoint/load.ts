// Load a Hugging Face Llama model directory: config.json + safetensors weights (single or sharded) + tokenizer.
//
// Why this exists: users bring real checkpoints; `tune generate`, `tune logprobs`, evaluation and training all
// start from "a directory transformers would load". Every header is read and checked against the config (names,
// shapes, float dtypes) *before* any tensor data, so a wrong or partial download fails in milliseconds with the
// tensor and file named, instead of after gigabytes of reads or inside a forward pass. F32/F16/BF16 (and F64) are
// converted to float32 by runtime/io; integer weights (bitsandbytes, GPTQ exports) are refused with a hint.

import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { readHfConfig, type LlamaConfig } from "../io/hf-config.js";
import { readSafetensorsHeader, readTensorF32, type StHeader } from "../io/safetensors.js";
import { planHfWeights } from "../io/sharded.js";
import { llamaWeightNames, llamaWeightShape } from "../model/config.js";
import { LlamaModel } from "../model/llama.js";
import type { HostWeights } from "../model/weights.js";
import { loadTokenizer, type Tokenizer } from "../tokenizer/load.js";
import { CheckpointError } from "./errors.js";

export const GENERATION_CONFIG_FILE = "generation_config.json";
const FLOAT_DTYPES = new Set(["F32", "F16", "BF16", "F64"]);

export interface GenerationDefaults {
  /** Ids that end generation: generation_config.json's eos_token_id, else config.json's. */
  eosTokenIds: number[];
  bosTokenId: number | null;
  padTokenId: number | null;
}

export interface LoadedModelDir {
  dir: string;
  config: LlamaConfig;
  model: LlamaModel;
  /** null when loaded with `{ tokenizer: false }`. */
  tokenizer: Tokenizer | null;
  generation: GenerationDefaults;
}

export interface LoadModelDirOptions {
  /** Make the base weights trainable (full fine-tuning). Default false (frozen). */
  trainable?: boolean;
  /** Load tokenizer.json too (default true). */
  tokenizer?: boolean;
}

interface Located {
  file: string;
  header: StHeader;
}

/** Read every shard header and map tensor name → (file, header). */
async function locateTensors(dir: string): Promise<Map<string, Located>> {
  const plan = await planHfWeights(dir);
  const out = new Map<string, Located>();
  for (const [file, names] of plan.files) {
    const header = await readSafetensorsHeader(join(dir, file));
    const have = new Set(header.tensors.map((t) => t.name));
    for (const name of plan.sharded ? names : header.tensors.map((t) => t.name)) {
      if (!have.has(name)) {
        throw new CheckpointError("T6090", join(dir, file), `tensor \`${name}\` is listed in the index but absent from this shard`, "re-download the shard and its index");
      }
      out.set(name, { file, header });
    }
  }
  return out;
}

const isIgnorable = (name: string): boolean => name.endsWith("rotary_emb.inv_freq");

/** Check names, shapes and dtypes of every weight against the config, from the headers alone. */
export function checkAgainstConfig(config: LlamaConfig, located: Map<string, Located>, dir: string): void {
  const expected = llamaWeightNames(config);
  const fileOf = (name: string): string => join(dir, located.get(name)!.file);
  const anyFile = located.size > 0 ? fileOf([...located.keys()][0]) : dir;
  for (const name of expected) {
    if (!located.has(name)) {
      const tiedHint = name === "lm_head.weight" ? "; if the model shares input and output embeddings, set \"tie_word_embeddings\": true in config.json" : "";
      throw new CheckpointError("T6090", anyFile, `weight \`${name}\` is missing (config.json describes ${config.numLayers} layers)`,
        `the weights do not match config.json${tiedHint}`);
    }
    const info = located.get(name)!.header.tensors.find((t) => t.name === name)!;
    const want = llamaWeightShape(config, name);
    if (want.length !== info.shape.length || want.some((d, i) => d !== info.shape[i])) {
      throw new CheckpointError("T6091", fileOf(name), `tensor \`${name}\` has shape [${info.shape}], config.json implies [${want}]`,
        "config.json and the weights come from different models");
    }
    if (!FLOAT_DTYPES.has(info.dtype)) {
      throw new CheckpointError("T6093", fileOf(name), `tensor \`${name}\` is stored as ${info.dtype}, not a float type`,
        "quantized checkpoints (bitsandbytes, GPTQ, AWQ) are not loaded directly; use the full-precision weights");
    }
  }
  const known = new Set(expected);
  if (config.tieWordEmbeddings) known.add("lm_head.weight");
  const extra = [...located.keys()].filter((n) => !known.has(n) && !isIgnorable(n));
  if (extra.length > 0) {
    throw new CheckpointError("T6092", fileOf(extra[0]), `unexpected tensor \`${extra[0]}\`${extra.length > 1 ? ` (and ${extra.length - 1} more)` : ""}`,
      "this is not a plain LlamaForCausalLM checkpoint (a PEFT adapter directory? a different architecture?)");
  }
}

async function readGenerationDefaults(dir: string, config: LlamaConfig): Promise<GenerationDefaults> {
  const base: GenerationDefaults = { eosTokenIds: config.eosTokenIds.slice(), bosTokenId: config.bosTokenId, padTokenId: config.padTokenId };
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(join(dir, GENERATION_CONFIG_FILE), "utf8"));
  } catch {
    return base; // optional file: absent or unreadable means "use config.json"
  }
  const g = raw as Record<string, unknown>;
  const ids = (v: unknown): number[] | null =>
    Number.isInteger(v) ? [v as number] : Array.isArray(v) && v.every(Number.isInteger) ? (v as number[]).slice() : null;
  return {
    eosTokenIds: ids(g["eos_token_id"]) ?? base.eosTokenIds,
    bosTokenId: Number.isInteger(g["bos_token_id"]) ? (g["bos_token_id"] as number) : base.bosTokenId,
    padTokenId: Number.isInteger(g["pad_token_id"]) ? (g["pad_token_id"] as number) : base.padTokenId,
  };
}

/** Load config.json, the weights and (by default) the tokenizer of a HF Llama directory. */
export async function loadModelDir(dir: string, opts: LoadModelDirOptions = {}): Promise<LoadedModelDir> {
  const config = await readHfConfig(dir);
  const located = await locateTensors(dir);
  checkAgainstConfig(config, located, dir);
  const tokenizer = opts.tokenizer === false ? null : await loadTokenizer(dir);
  if (tokenizer && tokenizer.vocabSize > config.vocabSize) {
    throw new CheckpointError("T6094", join(dir, "tokenizer.json"), `the tokenizer has ${tokenizer.vocabSize} ids but config.json vocab_size is ${config.vocabSize}`,
      "the tokenizer belongs to a different model");
  }
  const wanted = new Set(llamaWeightNames(config));
  const weights: HostWeights = new Map();
  for (const [name, { file, header }] of located) {
    if (!wanted.has(name)) continue; // tied lm_head copies, rotary buffers
    weights.set(name, await readTensorF32(join(dir, file), header, name));
  }
  const model = LlamaModel.fromHfWeights(config, weights, opts.trainable ?? false);
  const generation = await readGenerationDefaults(dir, config);
  return { dir, config, model, tokenizer, generation };
}

// Save a LlamaModel as a Hugging Face model directory that transformers loads unchanged.
//
// Why this exists: full fine-tuning, merged adapters and the shipped tiny model all end as `save_pretrained`-style
// directories: config.json (transformers v4 keys, read by v5 too), model.safetensors with HF tensor names and
// [out, in] layout (tied embeddings stored once, as transformers does), generation_config.json, and the tokenizer
// files copied from the source model. The directory is assembled under a temporary sibling name and renamed into
// place, so a crash leaves either the old directory or the complete new one, never a mix.

import { randomBytes } from "node:crypto";
import { copyFile, mkdir, rename, rm, stat } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import { writeFileAtomic } from "../io/atomic.js";
import { writeHfConfig, type LlamaConfig } from "../io/hf-config.js";
import { writeSafetensors, type StWriteTensor } from "../io/safetensors.js";
import { SINGLE_FILE } from "../io/sharded.js";
import { llamaWeightNames } from "../model/config.js";
import type { LlamaModel } from "../model/llama.js";
import { CheckpointError } from "./errors.js";
import { GENERATION_CONFIG_FILE } from "./load.js";

/** Tokenizer files copied from `tokenizerFrom` when present (tokenizer.json is required there). */
export const TOKENIZER_FILES = ["tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "tokenizer.model", "chat_template.jinja"];

export interface SaveModelDirOptions {
  /** Directory whose tokenizer files (and generation_config.json, if any) are copied. */
  tokenizerFrom?: string;
  /** Weight dtype in model.safetensors (default F32). */
  dtype?: "F32" | "BF16";
  /** Extra `__metadata__` entries for model.safetensors ("format": "pt" is always set). */
  metadata?: Record<string, string>;
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

/** generation_config.json as transformers writes it for a model config. */
export function generationConfigJson(config: LlamaConfig): Record<string, unknown> {
  const eos = config.eosTokenIds.length === 1 ? config.eosTokenIds[0] : config.eosTokenIds.slice();
  const out: Record<string, unknown> = { _from_model_config: true, bos_token_id: config.bosTokenId, eos_token_id: eos };
  if (config.padTokenId !== null) out["pad_token_id"] = config.padTokenId;
  out["transformers_version"] = "4.46.0";
  return out;
}

/** The model's weights as safetensors tensors (HF names and layout, tied lm_head omitted). */
export function modelTensors(model: LlamaModel, dtype: "F32" | "BF16"): StWriteTensor[] {
  const hf = model.exportHfWeights();
  return llamaWeightNames(model.config).map((name) => {
    const t = hf.get(name);
    if (!t) throw new CheckpointError("T6090", "<model>", `the model has no weight \`${name}\``, "the model does not match its config");
    return { name, dtype, shape: t.shape, data: t.data };
  });
}

async function copyTokenizer(from: string, to: string): Promise<void> {
  if (!(await exists(join(from, "tokenizer.json")))) {
    throw new CheckpointError("T6095", join(from, "tokenizer.json"), "tokenizerFrom has no tokenizer.json", "copy the tokenizer from the base model directory");
  }
  for (const f of [...TOKENIZER_FILES, GENERATION_CONFIG_FILE]) {
    if (await exists(join(from, f))) await copyFile(join(from, f), join(to, f));
  }
}

/** Move `tmp` to `dir`, replacing an existing directory (old one renamed aside, then removed). */
async function swapInto(tmp: string, dir: string): Promise<void> {
  let aside: string | null = null;
  if (await exists(dir)) {
    if (!(await stat(dir)).isDirectory()) {
      throw new CheckpointError("T6095", dir, "exists and is not a directory", "choose another output path");
    }
    aside = `${tmp}.old`;
    await rename(dir, aside);
  }
  try {
    await rename(tmp, dir);
  } catch (err) {
    if (aside) await rename(aside, dir).catch(() => undefined);
    throw new CheckpointError("T6095", dir, `cannot move the saved model into place (${(err as Error).message})`, "check permissions and free space");
  }
  if (aside) await rm(aside, { recursive: true, force: true });
}

/**
 * Write `model` (with `config`) as a HF model directory at `dir`, atomically. `config` is written as given
 * (dtype set from `opts.dtype`); its shapes must match the model's.
 */
export async function saveModelDir(dir: string, model: LlamaModel, config: LlamaConfig, opts: SaveModelDirOptions = {}): Promise<void> {
  const target = resolve(dir);
  const dtype = opts.dtype ?? "F32";
  for (const key of ["vocabSize", "hiddenSize", "intermediateSize", "numLayers", "numHeads", "numKvHeads", "headDim"] as const) {
    if (config[key] !== model.config[key]) {
      throw new CheckpointError("T6091", join(target, "config.json"), `config ${key} = ${config[key]} but the model has ${model.config[key]}`, "pass the model's own config");
    }
  }
  await mkdir(dirname(target), { recursive: true });
  const tmp = join(dirname(target), `.${basename(target)}.tmp-${process.pid}-${randomBytes(4).toString("hex")}`);
  await mkdir(tmp);
  try {
    const torchDtype = dtype === "BF16" ? "bfloat16" : "float32";
    await writeFileAtomic(join(tmp, "config.json"), JSON.stringify(writeHfConfig(config, { dtype: torchDtype }), null, 2) + "\n");
    await writeSafetensors(join(tmp, SINGLE_FILE), modelTensors(model, dtype), { format: "pt", ...opts.metadata });
    if (opts.tokenizerFrom) await copyTokenizer(opts.tokenizerFrom, tmp);
    if (!(await exists(join(tmp, GENERATION_CONFIG_FILE)))) {
      await writeFileAtomic(join(tmp, GENERATION_CONFIG_FILE), JSON.stringify(generationConfigJson(config), null, 2) + "\n");
    }
    await swapInto(tmp, target);
  } catch (err) {
    await rm(tmp, { recursive: true, force: true });
    throw err;
  }
}


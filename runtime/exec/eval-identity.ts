// The identity of a model as evaluation sees it: what keys the eval request cache (runtime/eval/cache.ts).
//
// Why this exists: a request cache keyed by a model's *name* returns model A's answers for model B when two
// models share a name or a cache (a known lm-eval bug). The key must be the weights actually used:
//   - a model exactly as load_model gave it: the sha256 of its directory's files (weights, config, tokenizer);
//     memoised by IdentityMemo, so a multi-GB file is hashed once per process;
//   - a trained model (LoRA/QLoRA/DPO stage, full fine-tune): the sha256 of every base tensor as it sits in
//     memory (which also covers QLoRA's NF4 rounding and a predecessor merged into the base), plus the sha256
//     of the adapter's tensors and the settings that scale them (r, alpha, rsLoRA, merged or not);
//   - the tokenizer and config files of the base directory in every case (they decide the tokens).
import { existsSync, readFileSync } from "node:fs";
import { createHash } from "node:crypto";
import { join } from "node:path";
import type { LoraAdapter } from "../lora/adapter.js";
import type { LlamaModel } from "../model/llama.js";
import { identitySalt } from "../store/index.js";
import { sha256Hex, stableJson } from "../store/fsx.js";
import type { IdentityMemo } from "./cache-identity.js";
import type { ModelValue } from "./types.js";

/** Bump when the recipe of an identity changes. */
const IDENTITY_VERSION = 1;

/** Files besides the weights that decide what a model answers. */
const SIDE_FILES = ["config.json", "generation_config.json", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"];

export interface ModelIdentity {
  /** 64 hex digits: names the model's request-cache file. */
  readonly id: string;
  /** What went into it (for logs and tests). */
  readonly parts: Readonly<Record<string, string>>;
}

/** sha256 over every tensor of the model (name, shape, float32 bytes), in name order. */
export function weightsDigest(model: LlamaModel): string {
  const h = createHash("sha256");
  for (const name of [...model.weights.keys()].sort()) {
    const v = model.weights.get(name)!;
    const data = v.dataSync() as Float32Array;
    h.update(`${name}:${v.shape.join("x")}:${v.dtype}\n`);
    h.update(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  }
  return h.digest("hex");
}

/** sha256 over an adapter's factors and the settings that scale them. */
export function adapterDigest(adapter: LoraAdapter): string {
  const h = createHash("sha256");
  const { r, alpha, useRslora } = adapter.settings;
  h.update(JSON.stringify({ r, alpha, useRslora, merged: adapter.merged }) + "\n");
  for (const name of [...adapter.modules.keys()].sort()) {
    const m = adapter.modules.get(name)!;
    for (const [part, t] of [["A", m.A], ["B", m.B]] as const) {
      const data = t.dataSync() as Float32Array;
      h.update(`${name}.${part}:${t.shape.join("x")}\n`);
      h.update(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    }
  }
  return h.digest("hex");
}

function sideFilesSync(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const n of SIDE_FILES) {
    const p = join(dir, n);
    if (!existsSync(p)) continue;
    const bytes = readFileSync(p);
    out[`model:${n}`] = `file:${sha256Hex(bytes)}:${bytes.length}`; // identitySalt's form

  }
  return out;
}

function identityOf(parts: Record<string, string>): ModelIdentity {
  return { id: sha256Hex(stableJson({ version: IDENTITY_VERSION, ...parts })), parts };
}

/** Identity from the tensors in memory (base and adapter) and the base directory's tokenizer/config files. */
export function memoryIdentity(m: ModelValue): string {
  return identityOf(memoryParts(m, sideFilesSync(m.baseDir))).id;
}

function memoryParts(m: ModelValue, side: Record<string, string>): Record<string, string> {
  return { ...side, weights: `tensors:${weightsDigest(m.model)}`, adapter: m.adapter ? `tensors:${adapterDigest(m.adapter)}` : "none" };
}

/**
 * The identity of `m`. `asLoaded`: the model is load_model's output, untouched, so the files of its directory
 * are the weights; otherwise the tensors in memory are hashed.
 */
export async function evalModelIdentity(m: ModelValue, o: { asLoaded: boolean; memo: IdentityMemo }): Promise<ModelIdentity> {
  if (o.asLoaded && m.adapter === null) {
    const files = identitySalt(await o.memo.modelDir(m.baseDir));
    return identityOf({ ...files, weights: "files", adapter: "none" });
  }
  const known = inMemory.get(m);
  if (known) return known;
  const side: Record<string, string> = {};
  for (const n of SIDE_FILES) {
    const p = join(m.baseDir, n);
    if (existsSync(p)) Object.assign(side, identitySalt({ [`model:${n}`]: await o.memo.file(p) }));
  }
  const id = identityOf(memoryParts(m, side));
  inMemory.set(m, id);
  return id;
}

/**
 * Identities hashed from tensors, per model value: every eval node of a stage reads the same value, whose
 * weights no later node changes (each stage trains its own copy), so its tensors are hashed once.
 */
const inMemory = new WeakMap<ModelValue, ModelIdentity>();

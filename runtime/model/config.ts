// The Llama architecture parameters the in-process model needs.
//
// Why this exists: the model must not depend on how a config is read (config.json, transformers v4 or v5
// keys); `runtime/io/hf-config.ts` parses those into `LlamaConfig`, re-exported here with the weight-name and
// shape helpers the model and adapters need.

export type { LlamaConfig, RopeScaling } from "../io/hf-config.js";
import type { LlamaConfig } from "../io/hf-config.js";

/** Reject configs the model cannot run (shapes that do not divide). */
export function validateConfig(c: LlamaConfig): void {
  const positive = ["vocabSize", "hiddenSize", "intermediateSize", "numLayers", "numHeads", "numKvHeads", "headDim"] as const;
  for (const key of positive) {
    if (!Number.isInteger(c[key]) || c[key] <= 0) throw new Error(`LlamaConfig.${key} must be a positive integer, got ${c[key]}`);
  }
  if (c.numHeads % c.numKvHeads !== 0) {
    throw new Error(`LlamaConfig: numHeads (${c.numHeads}) must be a multiple of numKvHeads (${c.numKvHeads})`);
  }
  if (c.headDim % 2 !== 0) throw new Error(`LlamaConfig: headDim (${c.headDim}) must be even for RoPE`);
}

/** HF Llama weight names for one model (layout [out, in] for linears, as in the checkpoint). */
export function llamaWeightNames(c: LlamaConfig): string[] {
  const names = ["model.embed_tokens.weight"];
  for (let i = 0; i < c.numLayers; i++) {
    const p = `model.layers.${i}`;
    names.push(`${p}.input_layernorm.weight`);
    for (const m of ["q_proj", "k_proj", "v_proj", "o_proj"]) names.push(`${p}.self_attn.${m}.weight`);
    names.push(`${p}.post_attention_layernorm.weight`);
    for (const m of ["gate_proj", "up_proj", "down_proj"]) names.push(`${p}.mlp.${m}.weight`);
  }
  names.push("model.norm.weight");
  if (!c.tieWordEmbeddings) names.push("lm_head.weight");
  return names;
}

/** HF shape [out, in] (or [V, D], [D]) of each weight. */
export function llamaWeightShape(c: LlamaConfig, name: string): number[] {
  const D = c.hiddenSize;
  const q = c.numHeads * c.headDim;
  const kv = c.numKvHeads * c.headDim;
  if (name === "model.embed_tokens.weight" || name === "lm_head.weight") return [c.vocabSize, D];
  if (name.endsWith("layernorm.weight") || name === "model.norm.weight") return [D];
  const shapes: Record<string, number[]> = {
    q_proj: [q, D], k_proj: [kv, D], v_proj: [kv, D], o_proj: [D, q],
    gate_proj: [c.intermediateSize, D], up_proj: [c.intermediateSize, D], down_proj: [D, c.intermediateSize],
  };
  const m = /\.(\w+_proj)\.weight$/.exec(name);
  const s = m ? shapes[m[1]] : undefined;
  if (!s) throw new Error(`not a Llama weight name: ${name}`);
  return s;
}

/** The linear module names ("model.layers.0.self_attn.q_proj", …) in forward order; lm_head excluded. */
export function llamaLinearModules(c: LlamaConfig): string[] {
  const out: string[] = [];
  for (let i = 0; i < c.numLayers; i++) {
    for (const m of ["q_proj", "k_proj", "v_proj", "o_proj"]) out.push(`model.layers.${i}.self_attn.${m}`);
    for (const m of ["gate_proj", "up_proj", "down_proj"]) out.push(`model.layers.${i}.mlp.${m}`);
  }
  return out;
}

/** Parameter count of the base model (tied embeddings counted once). */
export function llamaParamCount(c: LlamaConfig): number {
  return llamaWeightNames(c).reduce((n, name) => n + llamaWeightShape(c, name).reduce((a, b) => a * b, 1), 0);
}

// Shared loading of the PyTorch reference fixture (test/fixtures/llama, made by make_llama_fixture.py).
//
// Why this exists: every parity test needs the same tiny config variants, weights, adapter and expected
// numbers; this keeps the JSON's snake_case shapes out of the tests.

import { readFileSync } from "node:fs";
import path from "node:path";
import { readAllF32 } from "../../runtime/io/safetensors.js";
import type { LlamaConfig, RopeScaling } from "../../runtime/model/config.js";
import type { HostWeights } from "../../runtime/model/weights.js";

const DIR = path.join(path.dirname(new URL(import.meta.url).pathname), "..", "fixtures", "llama");

/** The fixture's Python config dict. */
interface PyConfig {
  vocab_size: number;
  hidden_size: number;
  intermediate_size: number;
  num_layers: number;
  num_heads: number;
  num_kv_heads: number;
  head_dim: number;
  rms_norm_eps: number;
  rope_theta: number;
  rope_scaling: null | Record<string, number | string>;
  tie_word_embeddings: boolean;
}

interface SftLog {
  losses: number[];
  grad_norms: number[];
  lrs: number[];
}

export interface Expected {
  config: Record<string, PyConfig>;
  input_ids: number[][];
  labels: number[][];
  lora: { r: number; alpha: number; targets: string[] };
  logits: Record<string, number[]>;
  logits_merged: number[];
  loss: number;
  loss_lora: number;
  lora_grads: Record<string, number[]>;
  adamw: { losses: number[]; params: Record<string, number[]> };
  sft: {
    input_ids: number[][];
    labels: number[][];
    micro_batch_rows: number;
    lr: number;
    weight_decay: number;
    warmup_steps: number;
    total_steps: number;
    max_grad_norm: number;
    lora: SftLog;
    full: SftLog & { final: Record<string, number[]> };
  };
}

export function loadExpected(): Expected {
  return JSON.parse(readFileSync(path.join(DIR, "expected.json"), "utf8")) as Expected;
}

export function loadWeights(): Promise<HostWeights> {
  return readAllF32(path.join(DIR, "tiny-llama.safetensors"));
}

export function loadAdapter(): Promise<HostWeights> {
  return readAllF32(path.join(DIR, "tiny-adapter.safetensors"));
}

function ropeScaling(rs: PyConfig["rope_scaling"]): RopeScaling {
  if (rs == null) return null;
  if (rs["rope_type"] === "linear") return { type: "linear", factor: Number(rs["factor"]) };
  return {
    type: "llama3",
    factor: Number(rs["factor"]),
    lowFreqFactor: Number(rs["low_freq_factor"]),
    highFreqFactor: Number(rs["high_freq_factor"]),
    originalMaxPositionEmbeddings: Number(rs["original_max_position_embeddings"]),
  };
}

export function toConfig(c: PyConfig): LlamaConfig {
  return {
    vocabSize: c.vocab_size,
    hiddenSize: c.hidden_size,
    intermediateSize: c.intermediate_size,
    numLayers: c.num_layers,
    numHeads: c.num_heads,
    numKvHeads: c.num_kv_heads,
    headDim: c.head_dim,
    rmsNormEps: c.rms_norm_eps,
    ropeTheta: c.rope_theta,
    ropeScaling: ropeScaling(c.rope_scaling),
    maxPositionEmbeddings: 128,
    tieWordEmbeddings: c.tie_word_embeddings,
    bosTokenId: 1,
    eosTokenIds: [2],
    padTokenId: 0,
  };
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/** max |a − b| / max |b|: a scale-aware error for gradients and parameters. */
export function relMaxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let scale = 0;
  for (let i = 0; i < b.length; i++) scale = Math.max(scale, Math.abs(b[i]));
  return maxAbsDiff(a, b) / Math.max(scale, 1e-30);
}

export function flatIds(rows: number[][]): Int32Array {
  return Int32Array.from(rows.flat());
}

// Conversion between HF checkpoint tensors and the model's in-memory variables.
//
// Why this exists: HF stores a Linear weight as [out, in]; the model keeps it as [in, out] so the forward
// matmul x·W needs no transpose (transposed operands are what make the wasm backend slow). Everything that
// crosses the checkpoint boundary (loading, saving merged weights, parity tests) goes through here.

import * as tf from "@tensorflow/tfjs";
import { Rng } from "../data/rng.js";
import { type LlamaConfig, llamaWeightNames, llamaWeightShape } from "./config.js";

/** One dense float32 tensor in row-major order, as `runtime/io/safetensors.ts` `readAllF32` returns it. */
export interface HostTensor {
  shape: number[];
  data: Float32Array;
}

export type HostWeights = Map<string, HostTensor>;

/** True for names stored transposed in memory: every projection and an untied lm_head. */
export function isTransposedInMemory(name: string): boolean {
  return name.endsWith("_proj.weight") || name === "lm_head.weight";
}

/** Transpose a row-major [rows, cols] matrix. */
export function transpose2d(data: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(data.length);
  for (let r = 0; r < rows; r++) {
    const base = r * cols;
    for (let c = 0; c < cols; c++) out[c * rows + r] = data[base + c];
  }
  return out;
}

/** HF tensor → tfjs tensor in the in-memory layout. */
export function toMemoryLayout(name: string, t: HostTensor): tf.Tensor {
  if (!isTransposedInMemory(name)) return tf.tensor(t.data, t.shape, "float32");
  const [rows, cols] = t.shape;
  return tf.tensor2d(transpose2d(t.data, rows, cols), [cols, rows]);
}

/** In-memory tensor → HF layout host copy. */
export function toHfLayout(name: string, t: tf.Tensor): HostTensor {
  const data = t.dataSync() as Float32Array;
  if (!isTransposedInMemory(name)) return { shape: t.shape.slice(), data: Float32Array.from(data) };
  const [rows, cols] = t.shape;
  return { shape: [cols, rows], data: transpose2d(data, rows, cols) };
}

/** Check that `weights` holds every tensor of `config` with the right shape; extra names are an error too. */
export function checkWeights(config: LlamaConfig, weights: HostWeights): void {
  const expected = llamaWeightNames(config);
  const missing = expected.filter((n) => !weights.has(n));
  if (missing.length > 0) throw new Error(`checkpoint lacks ${missing.length} tensor(s), e.g. ${missing.slice(0, 3).join(", ")}`);
  for (const name of expected) {
    const want = llamaWeightShape(config, name);
    const got = weights.get(name)!.shape;
    if (want.length !== got.length || want.some((d, i) => d !== got[i])) {
      throw new Error(`tensor ${name} has shape [${got}], config expects [${want}]`);
    }
  }
  const known = new Set(expected);
  if (config.tieWordEmbeddings) known.add("lm_head.weight"); // some tied checkpoints still store a copy
  const extra = [...weights.keys()].filter((n) => !known.has(n) && !n.endsWith("rotary_emb.inv_freq"));
  if (extra.length > 0) throw new Error(`checkpoint has unexpected tensor(s): ${extra.slice(0, 3).join(", ")}`);
}

/** Standard normal via Box–Muller from a seeded generator. */
export function normalSampler(rng: Rng): () => number {
  let spare: number | null = null;
  return () => {
    if (spare !== null) {
      const s = spare;
      spare = null;
      return s;
    }
    let u = 0;
    while (u === 0) u = rng.nextFloat();
    const v = rng.nextFloat();
    const r = Math.sqrt(-2 * Math.log(u));
    spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  };
}

/** HF `_init_weights` for Llama: N(0, initializer_range) for linears and embeddings, ones for norms. */
export function randomHfWeights(config: LlamaConfig, seed: number | string, std = 0.02): HostWeights {
  const normal = normalSampler(new Rng(seed));
  const out: HostWeights = new Map();
  for (const name of llamaWeightNames(config)) {
    const shape = llamaWeightShape(config, name);
    const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
    if (shape.length === 1) data.fill(1);
    else for (let i = 0; i < data.length; i++) data[i] = normal() * std;
    out.set(name, { shape, data });
  }
  return out;
}

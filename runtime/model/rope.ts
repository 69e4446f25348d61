// Rotary position embeddings exactly as HF transformers computes them for Llama.
//
// Why this exists: RoPE frequencies decide every attention score; a model fine-tuned here must see the same
// angles as HF (`modeling_rope_utils.py` `_compute_default_rope_parameters`, `_compute_llama3_parameters`,
// linear scaling; `modeling_llama.py` `rotate_half`, half-split layout). Values are rounded to float32 at the
// same points as torch does (inv_freq, angle = position × inv_freq, cos/sin).

import type { LlamaConfig } from "./config.js";

const f32 = Math.fround;

/** inv_freq_i = θ^(−2i/d) for i < d/2, then llama3 or linear scaling; float32 like torch. */
export function ropeInvFreq(cfg: Pick<LlamaConfig, "headDim" | "ropeTheta" | "ropeScaling">): Float32Array {
  const half = cfg.headDim / 2;
  const inv = new Float32Array(half);
  for (let i = 0; i < half; i++) {
    const exponent = f32((2 * i) / cfg.headDim);
    inv[i] = f32(1 / f32(Math.pow(cfg.ropeTheta, exponent)));
  }
  const s = cfg.ropeScaling;
  if (s == null) return inv;
  if (s.type === "linear") return inv.map((x) => f32(x / s.factor));
  return llama3Scale(inv, s.factor, s.lowFreqFactor, s.highFreqFactor, s.originalMaxPositionEmbeddings);
}

/** Llama 3.1 frequency-dependent scaling (algorithms.md §3). */
function llama3Scale(inv: Float32Array, factor: number, low: number, high: number, oldLen: number): Float32Array {
  const lowWavelen = oldLen / low;
  const highWavelen = oldLen / high;
  return inv.map((x) => {
    const wavelen = f32((2 * Math.PI) / x);
    if (wavelen > lowWavelen) return f32(x / factor);
    if (wavelen < highWavelen) return x;
    const t = f32(f32(f32(oldLen / wavelen) - low) / (high - low));
    return f32(f32(f32(f32(1 - t) * x) / factor) + f32(t * x));
  });
}

export interface RopeTables {
  /** cos(angle) laid out [rows, headDim] with emb = concat(φ, φ). */
  cos: Float32Array;
  /** sin(angle) with the first half negated: rotate_half(x)·sin = swap_halves(x)·sinSigned. */
  sinSigned: Float32Array;
}

/** cos/sin rows for the given absolute positions. */
export function ropeTables(invFreq: Float32Array, positions: ArrayLike<number>, headDim: number): RopeTables {
  const half = headDim / 2;
  const cos = new Float32Array(positions.length * headDim);
  const sinSigned = new Float32Array(positions.length * headDim);
  for (let r = 0; r < positions.length; r++) {
    const base = r * headDim;
    for (let i = 0; i < half; i++) {
      const angle = f32(positions[r] * invFreq[i]);
      const c = f32(Math.cos(angle));
      const s = f32(Math.sin(angle));
      cos[base + i] = c;
      cos[base + half + i] = c;
      sinSigned[base + i] = -s;
      sinSigned[base + half + i] = s;
    }
  }
  return { cos, sinSigned };
}

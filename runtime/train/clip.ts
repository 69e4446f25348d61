// Gradient-norm clipping as `torch.nn.utils.clip_grad_norm_` and the weight-decay split of HF Trainer.
//
// Why this exists: the logged `grad_norm` is the pre-clip global L2 norm, and clipping scales every gradient
// by min(1, max_norm / (total + 1e-6)) (algorithms.md §5). Which parameters get weight decay follows
// `Trainer.get_decay_parameter_names`: none for biases and norm weights.

import { nativeKernels } from "../backend/native.js";

const f32 = Math.fround;

/** Global L2 norm: per-tensor norms (float32), then the norm of those norms, as torch does. */
export function globalGradNorm(grads: readonly Float32Array[]): number {
  let total = 0;
  const native = nativeKernels();
  for (const g of grads) {
    let s = 0;
    if (native) s = native.sumSquares(g);
    else for (let i = 0; i < g.length; i++) s += g[i] * g[i];
    const n = f32(Math.sqrt(s));
    total += n * n;
  }
  return f32(Math.sqrt(total));
}

/**
 * Scale `grads` in place so their global norm is at most `maxNorm`; returns the pre-clip norm (what HF logs)
 * and the factor applied. maxNorm ≤ 0 or non-finite disables clipping (HF: max_grad_norm 0/None).
 */
export function clipGradNorm(grads: readonly Float32Array[], maxNorm: number): { norm: number; scale: number } {
  const norm = globalGradNorm(grads);
  if (!(maxNorm > 0) || !Number.isFinite(maxNorm)) return { norm, scale: 1 };
  const coef = f32(maxNorm / f32(norm + 1e-6));
  if (coef >= 1) return { norm, scale: 1 };
  const native = nativeKernels();
  for (const g of grads) {
    if (native) native.scale(g, coef);
    else for (let i = 0; i < g.length; i++) g[i] = f32(g[i] * coef);
  }
  return { norm, scale: coef };
}

/**
 * HF (transformers ≥ 4.4x) `get_decay_parameter_names`: a parameter gets weight decay unless its lower-cased
 * name matches "bias", "layernorm", "rmsnorm", "(^|.)norm($|.)" or "_norm($|.)". [V] older versions exempted
 * only nn.LayerNorm modules and biases, so Llama's RMSNorm weights were decayed there.
 */
export function isDecayed(name: string): boolean {
  const n = name.toLowerCase();
  return !/bias|layernorm|rmsnorm|(?:^|\.)norm(?:$|\.)|_norm(?:$|\.)/.test(n);
}

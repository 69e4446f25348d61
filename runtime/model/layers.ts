// The tensor building blocks of a Llama decoder layer as tfjs op chains: RMSNorm, SiLU, GQA attention.
//
// Why this exists: these are the pieces whose numerics must match HF `modeling_llama.py` (algorithms.md §3);
// keeping them as small pure functions over tfjs tensors lets the model, the KV-cache path and the tests share
// one implementation. All inputs are float32 (tfjs has no bf16), so "RMSNorm in fp32" holds trivially.
// RoPE is a fused kernel (fused.ts).

import * as tf from "@tensorflow/tfjs";
import { hasKernel } from "../backend/js-kernels.js";
import { RMS_NORM, SILU_GRAD } from "../backend/native-kernels.js";

/**
 * y = x · rsqrt(mean(x², −1) + eps) · w over the last axis, with a fused gradient:
 * x̂ = x·r, dw = Σ_rows dy·x̂, dx = r·(g − x̂·mean(g·x̂)) with g = dy·w.
 */
export const rmsNorm = (x: tf.Tensor2D, weight: tf.Tensor1D, eps: number): tf.Tensor2D => {
  if (hasKernel(RMS_NORM)) {
    // One native pass (runtime/backend/native-kernels.ts); x̂ and r are outputs so its gradient can reuse them.
    const [y, xhat, r] = tf.engine().runKernel(RMS_NORM, { x, weight }, { eps } as unknown as tf.NamedAttrMap) as tf.Tensor[];
    tf.dispose([xhat, r]);
    return y as tf.Tensor2D;
  }
  const f = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [xs, w] = args as [tf.Tensor2D, tf.Tensor1D];
    const save = args[2] as tf.GradSaveFunc;
    const r = tf.rsqrt(tf.add(tf.mean(tf.square(xs), -1, true), eps));
    const xhat = tf.mul(xs, r);
    save([xhat, r, w]);
    return {
      value: tf.mul(xhat, w) as tf.Tensor2D,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [xh, rs, ws] = saved;
        const g = tf.mul(dy, ws);
        const dx = tf.mul(rs, tf.sub(g, tf.mul(xh, tf.mean(tf.mul(g, xh), -1, true))));
        const dw = tf.sum(tf.mul(dy, xh), 0);
        return [dx, dw];
      },
    };
  });
  return f(x, weight) as tf.Tensor2D;
};

/** silu(z) = z·σ(z), with a fused gradient σ(z)·(1 + z·(1 − σ(z))) (one backward op chain instead of four). */
export const silu = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
  const z = args[0] as tf.Tensor;
  const save = args[1] as tf.GradSaveFunc;
  const sig = tf.sigmoid(z);
  save([z, sig]);
  return {
    value: tf.mul(z, sig),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [zs, s] = saved;
      if (hasKernel(SILU_GRAD)) return tf.engine().runKernel(SILU_GRAD, { dy, z: zs, s }) as tf.Tensor;
      const one = tf.scalar(1);
      return tf.mul(dy, tf.mul(s, tf.add(one, tf.mul(zs, tf.sub(one, s)))));
    },
  };
}) as (z: tf.Tensor) => tf.Tensor;

/**
 * Scaled dot-product attention with grouped KV heads. q [B, H, T, hd] (already multiplied by 1/√hd),
 * k, v [B, Hkv, S, hd]; mask additive [B|1, 1, T, S] or null. Returns [B·T, H·hd].
 * GQA without repeating k/v: query head h = j·nRep + r reads kv head j, so q is viewed as
 * [B, Hkv, nRep·T, hd] and multiplied by each kv head once.
 */
export function attend(q: tf.Tensor4D, k: tf.Tensor4D, v: tf.Tensor4D, mask: tf.Tensor4D | null): tf.Tensor2D {
  const [B, H, T, hd] = q.shape;
  const [, Hkv, S] = k.shape;
  const nRep = H / Hkv;
  const qg = tf.reshape(q, [B, Hkv, nRep * T, hd]);
  let scores = tf.reshape(tf.matMul(qg, k, false, true), [B, H, T, S]);
  if (mask) scores = tf.add(scores, mask);
  const probs = tf.reshape(tf.softmax(scores), [B, Hkv, nRep * T, S]);
  const ctx = tf.reshape(tf.matMul(probs, v), [B, H, T, hd]);
  return tf.reshape(tf.transpose(ctx, [0, 2, 1, 3]), [B * T, H * hd]);
}

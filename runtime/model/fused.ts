// Tensor-level entry points to tune's fused kernels, with the unfused tfjs op chains as fallback and reference.
//
// Why this exists: the model (RoPE) and the losses (cross-entropy) call these instead of chaining small ops; on
// wasm and cpu they run one fused kernel each (runtime/backend/fused-kernels.ts, differentiable through
// registered gradients), on any other backend (tfjs-node) the same math as tfjs ops. The `*Reference`
// functions are those op chains; the tests compare the two.

import * as tf from "@tensorflow/tfjs";
import { hasKernel } from "../backend/js-kernels.js";
import { ROPE_HEADS, XENT_SUM } from "../backend/fused-kernels.js";

export interface RopeHeadsOptions {
  batch: number;
  heads: number;
  /** Multiply x by this first (1/√hd for queries); 1 = no scaling. */
  scale?: number;
  /** false: only the head split and transpose (values). */
  rotate: boolean;
}

/**
 * [B·T, H·hd] projections → [B, H, T, hd] heads, scaled and rotated (RoPE, half-split layout, as HF):
 * y = xs·cos + rotate_half(xs)·sin with xs = x·scale. cos and sinSigned are [B·T, hd] rows
 * (sinSigned has its first half negated, see rope.ts).
 */
export function ropeHeads(x: tf.Tensor2D, cos: tf.Tensor2D, sinSigned: tf.Tensor2D, o: RopeHeadsOptions): tf.Tensor4D {
  if (!hasKernel(ROPE_HEADS)) return ropeHeadsReference(x, cos, sinSigned, o);
  const attrs = { batch: o.batch, heads: o.heads, scale: o.scale ?? 1, rotate: o.rotate };
  return tf.engine().runKernel(ROPE_HEADS, { x, cos, sin: sinSigned }, attrs as unknown as tf.NamedAttrMap) as tf.Tensor4D;
}

/** The unfused chain ropeHeads replaces: scale, reshape, x·cos + (x·P)·sin with P the half-swap, transpose. */
export function ropeHeadsReference(x: tf.Tensor2D, cos: tf.Tensor2D, sinSigned: tf.Tensor2D, o: RopeHeadsOptions): tf.Tensor4D {
  return tf.tidy(() => {
    const [rows, cols] = x.shape;
    const B = o.batch;
    const T = rows / B;
    const hd = cols / o.heads;
    const xs = o.scale !== undefined && o.scale !== 1 ? tf.mul(x, o.scale) : x;
    let h = tf.reshape(xs, [B, T, o.heads, hd]) as tf.Tensor4D;
    if (o.rotate) {
      const half = hd / 2;
      const swap = tf.concat([tf.slice(h, [0, 0, 0, half], [-1, -1, -1, half]), tf.slice(h, [0, 0, 0, 0], [-1, -1, -1, half])], 3);
      h = tf.add(tf.mul(h, tf.reshape(cos, [B, T, 1, hd])), tf.mul(swap, tf.reshape(sinSigned, [B, T, 1, hd]))) as tf.Tensor4D;
    }
    return tf.transpose(h, [0, 2, 1, 3]);
  });
}

/** Σ over rows of −log softmax(logits)[target] (a scalar), differentiable in the logits. */
export function crossEntropySum(logits: tf.Tensor2D, targets: Int32Array): tf.Scalar {
  if (!hasKernel(XENT_SUM)) return crossEntropySumReference(logits, targets);
  return tf.tidy(() => {
    const t = tf.tensor1d(targets, "int32");
    const [sum, probs] = tf.engine().runKernel(XENT_SUM, { logits, targets: t }, {}) as tf.Tensor[];
    probs.dispose(); // softmax(logits), kept by the gradient
    return sum as tf.Scalar;
  });
}

export function crossEntropySumReference(logits: tf.Tensor2D, targets: Int32Array): tf.Scalar {
  return tf.tidy(() => {
    const logp = tf.logSoftmax(logits);
    const picked = tf.mul(logp, tf.oneHot(tf.tensor1d(targets, "int32"), logits.shape[1]).cast("float32"));
    return tf.neg(tf.sum(picked)) as tf.Scalar;
  });
}

// Weighted completion log-prob sums of a concatenated preference batch, in one forward.
//
// Why this exists: every DPO variant needs logπ(y|x) = Σ over completion tokens of log softmax(logits_{t})
// [y_{t+1}] (algorithms.md §6), with a per-token weight: 1 (DPO), 1/T (IPO's per-token average) or SamPO's
// 0/1 down-sampling mask. Only the valid positions go through the LM head; the per-token log-prob has a
// custom gradient (onehot − softmax)·dy, so no [N, V] log-softmax chain is kept for backward.

import * as tf from "@tensorflow/tfjs";
import type { ForwardContext, LlamaModel } from "../model/llama.js";
import { validPositions, type PrefBatch, type ValidPositions } from "./batch.js";

/** log softmax(logits)[target] per row [N] with gradient dy·(onehot − softmax). */
export function tokenLogProbs(logits: tf.Tensor2D, targets: Int32Array): tf.Tensor1D {
  const [n, vocab] = logits.shape;
  const flatIdx = Int32Array.from({ length: n }, (_, i) => i * vocab + targets[i]);
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const x = args[0] as tf.Tensor2D;
    const save = args[1] as tf.GradSaveFunc;
    const lse = tf.logSumExp(x, 1, true);
    save([x, lse]);
    const picked = tf.gather(tf.reshape(x, [-1]), tf.tensor1d(flatIdx, "int32"));
    return {
      value: tf.sub(picked, tf.reshape(lse, [-1])) as tf.Tensor1D,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [xs, l] = saved;
        // int32 one-hot then cast: the wasm OneHot kernel writes integer bits into float32 outputs (tfjs 4.22).
        const onehot = tf.cast(tf.oneHot(tf.tensor1d(targets, "int32"), vocab), "float32");
        return tf.mul(tf.sub(onehot, tf.exp(tf.sub(xs, l))), tf.reshape(dy, [n, 1]));
      },
    };
  });
  return op(logits) as tf.Tensor1D;
}

/** How each valid position is weighted in a row's score. */
export type PositionWeights = Float32Array | "sum" | "mean";

/** Per-position weights for the plain sum (1) or the per-token mean (1/T_row). */
export function resolveWeights(vp: ValidPositions, w: PositionWeights): Float32Array {
  if (typeof w !== "string") {
    if (w.length !== vp.rows.length) throw new Error(`logps: ${w.length} weights for ${vp.rows.length} valid positions`);
    return w;
  }
  const out = new Float32Array(vp.rows.length).fill(1);
  if (w === "mean") for (let i = 0; i < out.length; i++) out[i] = 1 / vp.counts[vp.rowOf[i]];
  return out;
}

/**
 * Differentiable weighted sums [2B] over the valid positions of `batch`; also, detached, each row's Σ of logits
 * over its valid positions and the vocabulary (for TRL's logits/chosen|rejected means). Caller disposes `sums`.
 */
export function weightedLogpSums(
  model: LlamaModel,
  batch: PrefBatch,
  weights: PositionWeights,
  ctx: ForwardContext = {},
  vp: ValidPositions = validPositions(batch),
): { sums: tf.Tensor1D; logitSums: Float64Array } {
  const w = resolveWeights(vp, weights);
  const logitSums = new Float64Array(batch.batch);
  const sums = tf.tidy(() => {
    const h = model.hidden(batch, ctx);
    if (vp.rows.length === 0) return tf.mul(tf.sum(h, 1).slice(0, batch.batch), 0) as tf.Tensor1D; // connected, value 0
    const logits = model.lmHead(tf.gather(h, tf.tensor1d(vp.rows, "int32")) as tf.Tensor2D);
    const rowLogitSums = tf.sum(logits, 1).dataSync();
    for (let i = 0; i < vp.rows.length; i++) logitSums[vp.rowOf[i]] += rowLogitSums[i];
    const lp = tf.mul(tokenLogProbs(logits, vp.targets), tf.tensor1d(w));
    return tf.unsortedSegmentSum(lp, tf.tensor1d(vp.rowOf, "int32"), batch.batch) as tf.Tensor1D;
  });
  return { sums, logitSums };
}

/** Same without gradients, as host numbers (reference passes, evaluation). */
export function logpSums(model: LlamaModel, batch: PrefBatch, weights: PositionWeights, vp?: ValidPositions): Float64Array {
  const { sums } = weightedLogpSums(model, batch, weights, {}, vp);
  const out = Float64Array.from(sums.dataSync());
  sums.dispose();
  return out;
}

// Causal language-model loss exactly as HF `ForCausalLMLoss` (transformers ≥ 4.46, algorithms.md §4).
//
// Why this exists: the SFT loss decides what is learned and what the logs show; it must match HF: labels −100
// are ignored, labels are shifted left by one (position t predicts label t+1), cross-entropy in fp32, and the
// sum is divided either by this micro-batch's label-token count (mean) or, when `numItemsInBatch` is given,
// by the label-token count of the whole accumulation window (`fixed_cross_entropy` with reduction "sum").
// Only rows with a label go through the LM head: the same numbers as HF's full [B, T, V] logits, less work.

import * as tf from "@tensorflow/tfjs";
import { crossEntropySum } from "../model/fused.js";
import type { ForwardContext, LlamaModel, TokenBatch } from "../model/llama.js";

export const IGNORE_INDEX = -100;

/** A token batch with labels [B·T] (−100 = no loss), unshifted as HF collators produce them. */
export interface LmBatch extends TokenBatch {
  labels: Int32Array;
}

/** Flat row indices b·T+t whose shifted target labels[b, t+1] is not −100, and those targets. */
export function shiftedTargets(labels: Int32Array, batch: number, seqLen: number): { rows: Int32Array; targets: Int32Array } {
  const rows: number[] = [];
  const targets: number[] = [];
  for (let b = 0; b < batch; b++) {
    for (let t = 0; t + 1 < seqLen; t++) {
      const y = labels[b * seqLen + t + 1];
      if (y === IGNORE_INDEX) continue;
      rows.push(b * seqLen + t);
      targets.push(y);
    }
  }
  return { rows: Int32Array.from(rows), targets: Int32Array.from(targets) };
}

/** Number of label tokens after the shift (what HF counts for num_items_in_batch). */
export function countLabelTokens(b: Pick<LmBatch, "labels" | "batch" | "seqLen">): number {
  return shiftedTargets(b.labels, b.batch, b.seqLen).rows.length;
}

/**
 * Labels with the first token of every packed segment set to −100, so the last token of one sequence is not
 * trained to predict the first token of the next (TRL DataCollatorWithFlattening does the same).
 */
export function maskSegmentStarts(labels: Int32Array, segmentIds: Int32Array, batch: number, seqLen: number): Int32Array {
  const out = Int32Array.from(labels);
  for (let b = 0; b < batch; b++) {
    for (let t = 1; t < seqLen; t++) {
      const i = b * seqLen + t;
      if (segmentIds[i] !== segmentIds[i - 1]) out[i] = IGNORE_INDEX;
    }
  }
  return out;
}

/**
 * Σ over rows of −log softmax(logits)[target], as one fused kernel on wasm/cpu (runtime/model/fused.ts: softmax
 * then one pass; the gradient (softmax − onehot)·dy needs no exp). `targets` need no gradient. Backends without
 * the fused kernel (tfjs-node) run the equivalent op chain.
 */
export function sumCrossEntropy(logits: tf.Tensor2D, targets: Int32Array): tf.Scalar {
  return crossEntropySum(logits, targets);
}

/** Σ token CE over the label tokens of `batch` (scalar), and how many there were. */
export function causalLmLossSum(model: LlamaModel, batch: LmBatch, ctx: ForwardContext = {}): { sum: tf.Scalar; count: number } {
  const { rows, targets } = shiftedTargets(batch.labels, batch.batch, batch.seqLen);
  const sum = tf.tidy(() => {
    const h = model.hidden(batch, ctx);
    if (rows.length === 0) return tf.mul(tf.sum(h), 0) as tf.Scalar; // keeps the graph connected, value 0
    const picked = tf.gather(h, tf.tensor1d(rows, "int32")) as tf.Tensor2D;
    return sumCrossEntropy(model.lmHead(picked), targets);
  });
  return { sum, count: rows.length };
}

/**
 * HF ForCausalLMLoss: Σ CE / numItemsInBatch when given (accumulation-window normalisation), else the mean over
 * this batch's label tokens. A batch without label tokens gives 0 (HF would give NaN for the mean).
 */
export function causalLmLoss(model: LlamaModel, batch: LmBatch, ctx: ForwardContext = {}, numItemsInBatch?: number): tf.Scalar {
  return tf.tidy(() => {
    const { sum, count } = causalLmLossSum(model, batch, ctx);
    const denom = numItemsInBatch ?? count;
    return (denom > 0 ? tf.div(sum, denom) : tf.mul(sum, 0)) as tf.Scalar;
  });
}

/**
 * Σ over each row's label tokens of log softmax(logits_{t})[labels_{t+1}] → [B], differentiable: the
 * sequence log-likelihood logπ(y|x) DPO-style objectives use (algorithms.md §6; a sum, not a mean).
 */
export function sequenceLogProbSums(model: LlamaModel, batch: LmBatch, ctx: ForwardContext = {}): tf.Tensor1D {
  const { rows, targets } = shiftedTargets(batch.labels, batch.batch, batch.seqLen);
  return tf.tidy(() => {
    const h = model.hidden(batch, ctx);
    if (rows.length === 0) return tf.mul(tf.sum(h, 1).slice(0, batch.batch), 0) as tf.Tensor1D;
    const logp = tf.logSoftmax(model.lmHead(tf.gather(h, tf.tensor1d(rows, "int32")) as tf.Tensor2D));
    const vocab = model.config.vocabSize;
    const flat = Int32Array.from(rows, (_, i) => i * vocab + targets[i]);
    const picked = tf.gather(tf.reshape(logp, [-1]), tf.tensor1d(flat, "int32"));
    const rowOf = Int32Array.from(rows, (r) => Math.floor(r / batch.seqLen));
    return tf.unsortedSegmentSum(picked, tf.tensor1d(rowOf, "int32"), batch.batch) as tf.Tensor1D;
  });
}

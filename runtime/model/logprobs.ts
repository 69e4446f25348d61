// Per-token log-probabilities of given token sequences (no gradients).
//
// Why this exists: log-likelihood evaluation (lm-eval `loglikelihood` / multiple choice: Σ log p(continuation)
// and is_greedy), perplexity and reference-model scores all need log p(x_t | x_<t) for every position.
// Rows are right-padded into one batch (causal attention makes padding after a row harmless) and the LM head
// runs in chunks of rows so a [B·T, V] logits tensor never exists at once.

import * as tf from "@tensorflow/tfjs";
import type { LlamaModel } from "./llama.js";

export interface TokenLogProbs {
  /** logprobs[t − 1] = log p(ids[t] | ids[<t]) for t = 1 … n − 1. */
  logprobs: Float32Array;
  /** greedy[t − 1]: ids[t] is the argmax at its position (first index on ties). */
  greedy: boolean[];
}

/** log-softmax(row)[target] and whether target is the (first) argmax, in float64 from float32 logits. */
function scoreRow(row: Float32Array, offset: number, vocab: number, target: number): { lp: number; greedy: boolean } {
  let max = -Infinity;
  let arg = 0;
  for (let v = 0; v < vocab; v++) {
    const x = row[offset + v];
    if (x > max) {
      max = x;
      arg = v;
    }
  }
  let z = 0;
  for (let v = 0; v < vocab; v++) z += Math.exp(row[offset + v] - max);
  return { lp: row[offset + target] - max - Math.log(z), greedy: arg === target };
}

/** Per-token log-probs for several sequences in one forward (each needs ≥ 1 token). */
export function batchTokenLogProbs(model: LlamaModel, rows: number[][], chunkRows = 256): TokenLogProbs[] {
  if (rows.length === 0) return [];
  const T = Math.max(...rows.map((r) => r.length));
  const B = rows.length;
  const ids = new Int32Array(B * T).fill(model.config.padTokenId ?? 0); // any id: padding follows each row
  rows.forEach((r, b) => ids.set(r, b * T));
  const V = model.config.vocabSize;
  const out = rows.map((r) => ({ logprobs: new Float32Array(Math.max(0, r.length - 1)), greedy: [] as boolean[] }));
  const hidden = model.hidden({ ids, batch: B, seqLen: T });
  try {
    const wanted: { b: number; t: number }[] = [];
    rows.forEach((r, b) => {
      for (let t = 0; t + 1 < r.length; t++) wanted.push({ b, t });
    });
    for (let start = 0; start < wanted.length; start += chunkRows) {
      const chunk = wanted.slice(start, start + chunkRows);
      const idx = Int32Array.from(chunk.map(({ b, t }) => b * T + t));
      const logits = tf.tidy(() => model.lmHead(tf.gather(hidden, tf.tensor1d(idx, "int32")) as tf.Tensor2D));
      const data = logits.dataSync() as Float32Array;
      logits.dispose();
      chunk.forEach(({ b, t }, i) => {
        const s = scoreRow(data, i * V, V, rows[b][t + 1]);
        out[b].logprobs[t] = s.lp;
        out[b].greedy[t] = s.greedy;
      });
    }
  } finally {
    hidden.dispose();
  }
  return out;
}

/** Per-token log-probs of one sequence. */
export function tokenLogProbs(model: LlamaModel, ids: number[]): TokenLogProbs {
  return batchTokenLogProbs(model, [ids])[0];
}

/** lm-eval style: Σ log p(continuation | context) and whether every continuation token is greedy. */
export function continuationLogProb(model: LlamaModel, context: number[], continuation: number[]): { sum: number; isGreedy: boolean } {
  if (context.length === 0) throw new Error("continuationLogProb: empty context (lm-eval prefixes BOS/EOS)");
  const r = tokenLogProbs(model, [...context, ...continuation]);
  let sum = 0;
  let isGreedy = true;
  for (let i = context.length - 1; i < r.logprobs.length; i++) {
    sum += r.logprobs[i];
    isGreedy &&= r.greedy[i];
  }
  return { sum, isGreedy };
}

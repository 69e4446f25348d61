// Per-token log-probabilities of given token sequences (no gradients).
//
// Why this exists: log-likelihood evaluation (lm-eval `loglikelihood` / multiple choice: Σ log p(continuation)
// and is_greedy), perplexity and reference-model scores all need log p(x_t | x_<t) for every position.
// Rows are right-padded into one batch (causal attention makes padding after a row harmless) and the LM head
// runs in chunks of rows so a [B·T, V] logits tensor never exists at once. `batchContinuationLogProbs` is the
// evaluation path: many lm-eval requests, sorted and batched as the harness does, LM head at continuation
// positions only.

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
  const s = rowStats(row, offset, vocab);
  return { lp: row[offset + target] - s.max - s.logZ, greedy: s.arg === target };
}

/**
 * One forward over `rows` right-padded to the longest (causal attention never sees the padding), then the LM head
 * only at the `wanted` positions, `chunkRows` at a time; `visit` gets each position's logits row.
 */
function forEachLogitsRow(
  model: LlamaModel,
  rows: readonly (readonly number[])[],
  wanted: readonly { b: number; t: number }[],
  chunkRows: number,
  visit: (b: number, t: number, logits: Float32Array, offset: number) => void,
): void {
  const T = Math.max(...rows.map((r) => r.length));
  const B = rows.length;
  const ids = new Int32Array(B * T).fill(model.config.padTokenId ?? 0);
  rows.forEach((r, b) => ids.set(r, b * T));
  const V = model.config.vocabSize;
  const hidden = model.hidden({ ids, batch: B, seqLen: T });
  try {
    for (let start = 0; start < wanted.length; start += chunkRows) {
      const chunk = wanted.slice(start, start + chunkRows);
      const idx = Int32Array.from(chunk.map(({ b, t }) => b * T + t));
      const logits = tf.tidy(() => model.lmHead(tf.gather(hidden, tf.tensor1d(idx, "int32")) as tf.Tensor2D));
      const data = logits.dataSync() as Float32Array;
      logits.dispose();
      chunk.forEach(({ b, t }, i) => visit(b, t, data, i * V));
    }
  } finally {
    hidden.dispose();
  }
}

/** Per-token log-probs for several sequences in one forward (each needs ≥ 1 token). */
export function batchTokenLogProbs(model: LlamaModel, rows: number[][], chunkRows = 256): TokenLogProbs[] {
  if (rows.length === 0) return [];
  const V = model.config.vocabSize;
  const out = rows.map((r) => ({ logprobs: new Float32Array(Math.max(0, r.length - 1)), greedy: [] as boolean[] }));
  const wanted: { b: number; t: number }[] = [];
  rows.forEach((r, b) => {
    for (let t = 0; t + 1 < r.length; t++) wanted.push({ b, t });
  });
  forEachLogitsRow(model, rows, wanted, chunkRows, (b, t, logits, offset) => {
    const sc = scoreRow(logits, offset, V, rows[b][t + 1]);
    out[b].logprobs[t] = sc.lp;
    out[b].greedy[t] = sc.greedy;
  });
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

// ---- batched continuation scoring (lm-eval's HFLM._loglikelihood_tokens)

/** One lm-eval loglikelihood request, already tokenized: score `continuation` after `context` (≥ 1 token). */
export interface ContinuationRequest {
  context: readonly number[];
  continuation: readonly number[];
}

export interface ContinuationScore {
  sum: number;
  isGreedy: boolean;
}

export interface BatchScoreOptions {
  /** Rows (distinct model inputs) per forward; default 16. */
  batchSize?: number;
  /** Positions per LM-head call, so a [rows, V] logits block stays small; default 256. */
  chunkRows?: number;
}

/** Requests whose model input (context + continuation[:-1]) is identical share one row of a forward. */
interface InputGroup {
  input: readonly number[];
  members: { index: number; start: number; targets: readonly number[] }[];
}

/** Group requests by model input and order the groups longest first (ties: first appearance). */
function groupByInput(reqs: readonly ContinuationRequest[], out: ContinuationScore[]): InputGroup[] {
  const groups = new Map<string, InputGroup>();
  reqs.forEach((r, index) => {
    if (r.continuation.length === 0) {
      out[index] = { sum: 0, isGreedy: true };
      return;
    }
    if (r.context.length === 0) throw new Error("batchContinuationLogProbs: empty context (lm-eval prefixes BOS/EOS)");
    const input = [...r.context, ...r.continuation.slice(0, -1)];
    const key = input.join(",");
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { input, members: [] }));
    g.members.push({ index, start: r.context.length - 1, targets: r.continuation });
  });
  // The harness sorts by descending length: the largest batch runs first and rows in a batch need little padding.
  return [...groups.values()].map((g, order) => ({ g, order })).sort((a, b) => b.g.input.length - a.g.input.length || a.order - b.order).map((x) => x.g);
}

/** max, first argmax and log Σ exp(x − max) of one logits row, in float64. */
function rowStats(data: Float32Array, offset: number, vocab: number): { max: number; arg: number; logZ: number } {
  let max = -Infinity;
  let arg = 0;
  for (let v = 0; v < vocab; v++) {
    const x = data[offset + v];
    if (x > max) {
      max = x;
      arg = v;
    }
  }
  let z = 0;
  for (let v = 0; v < vocab; v++) z += Math.exp(data[offset + v] - max);
  return { max, arg, logZ: Math.log(z) };
}

/** One forward over a right-padded batch of groups; fills `out` for every member. */
function scoreBatch(model: LlamaModel, batch: InputGroup[], out: ContinuationScore[], chunkRows: number): void {
  const T = batch[0].input.length; // longest first
  // Positions whose logits are needed: the union of every member's continuation span in its row.
  const wanted: { b: number; t: number }[] = [];
  batch.forEach((g, b) => {
    const from = Math.min(...g.members.map((m) => m.start));
    for (let t = from; t < g.input.length; t++) wanted.push({ b, t });
  });
  const V = model.config.vocabSize;
  const stats = new Map<number, { max: number; arg: number; logZ: number; logits: Float32Array; offset: number }>();
  forEachLogitsRow(model, batch.map((g) => g.input), wanted, chunkRows, (b, t, logits, offset) => stats.set(b * T + t, { ...rowStats(logits, offset, V), logits, offset }));
  batch.forEach((g, b) => {
    for (const m of g.members) {
      let sum = 0;
      let isGreedy = true;
      m.targets.forEach((target, j) => {
        const s = stats.get(b * T + m.start + j)!;
        sum += s.logits[s.offset + target] - s.max - s.logZ;
        isGreedy &&= s.arg === target;
      });
      out[m.index] = { sum, isGreedy };
    }
  });
}

/**
 * lm-eval loglikelihood for many requests at once, equal to `continuationLogProb` per request (within float32
 * rounding of the batched matmuls). As the harness does: requests with the same model input (context +
 * continuation[:-1], e.g. multiple choice with one-token answers) share one row; rows are sorted by descending
 * length, cut into batches of `batchSize`, right-padded (the causal mask keeps padding out of every real
 * position), and only continuation positions go through the LM head. Results come back in request order.
 */
export function batchContinuationLogProbs(model: LlamaModel, reqs: readonly ContinuationRequest[], opts: BatchScoreOptions = {}): ContinuationScore[] {
  const batchSize = Math.max(1, Math.floor(opts.batchSize ?? 16));
  const chunkRows = Math.max(1, Math.floor(opts.chunkRows ?? 256));
  const out: ContinuationScore[] = new Array<ContinuationScore>(reqs.length);
  const groups = groupByInput(reqs, out);
  for (let start = 0; start < groups.length; start += batchSize) scoreBatch(model, groups.slice(start, start + batchSize), out, chunkRows);
  return out;
}

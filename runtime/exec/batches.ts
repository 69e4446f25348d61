// Turning tokenized examples into the micro-batches HF Trainer would feed:
// a seeded shuffle per epoch (RandomSampler), micro-batches padded to their
// longest row (labels −100 on padding), grouped into accumulation windows.
import { Rng } from "../data/rng.js";
import type { TokenizedExample } from "../data/tokenize.js";
import type { LmBatch } from "../train/loss.js";

export function padBatch(rows: readonly TokenizedExample[], padId: number): LmBatch {
  const T = Math.max(...rows.map((r) => r.inputIds.length));
  const ids = new Int32Array(rows.length * T).fill(padId);
  const labels = new Int32Array(rows.length * T).fill(-100);
  rows.forEach((r, b) => {
    ids.set(r.inputIds, b * T);
    labels.set(r.labels, b * T);
  });
  return { ids, labels, batch: rows.length, seqLen: T };
}

/** Example order of one epoch: a seeded Fisher–Yates permutation (seed, epoch). */
export function epochOrder(n: number, seed: number, epoch: number): number[] {
  const order = Array.from({ length: n }, (_, i) => i);
  const rng = new Rng(`${seed}:epoch:${epoch}`);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rng.nextFloat() * (i + 1));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  return order;
}

/** Accumulation windows of one epoch; a last partial window is kept (an update, as newer transformers do). */
export function epochWindows(examples: readonly TokenizedExample[], microBatch: number, gradAccum: number, padId: number, seed: number, epoch: number): LmBatch[][] {
  const order = epochOrder(examples.length, seed, epoch);
  const micro: LmBatch[] = [];
  for (let i = 0; i < order.length; i += microBatch) micro.push(padBatch(order.slice(i, i + microBatch).map((k) => examples[k]!), padId));
  const windows: LmBatch[][] = [];
  for (let i = 0; i < micro.length; i += gradAccum) windows.push(micro.slice(i, i + gradAccum));
  return windows;
}

export function evalBatches(examples: readonly TokenizedExample[], microBatch: number, padId: number): LmBatch[] {
  const out: LmBatch[] = [];
  for (let i = 0; i < examples.length; i += microBatch) out.push(padBatch(examples.slice(i, i + microBatch), padId));
  return out;
}

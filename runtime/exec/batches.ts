// Turning tokenized examples into the micro-batches HF Trainer would feed:
// a seeded shuffle per epoch (RandomSampler), micro-batches padded to their
// longest row (labels −100 on padding), grouped into accumulation windows.
import { Rng } from "../data/rng.js";
import type { TokenizedExample } from "../data/tokenize.js";
import type { LmBatch } from "../train/loss.js";

/** A training row: one example, or several packed ones (`segments[i]` = which example token i belongs to). */
export type TrainRow = Pick<TokenizedExample, "inputIds" | "labels"> & { segments?: number[] };

const PAD_SEGMENT = 1 << 30;

export function padBatch(rows: readonly TrainRow[], padId: number): LmBatch {
  const T = Math.max(...rows.map((r) => r.inputIds.length));
  const ids = new Int32Array(rows.length * T).fill(padId);
  const labels = new Int32Array(rows.length * T).fill(-100);
  const packed = rows.some((r) => r.segments);
  const segmentIds = packed ? new Int32Array(rows.length * T).fill(PAD_SEGMENT) : undefined;
  rows.forEach((r, b) => {
    ids.set(r.inputIds, b * T);
    labels.set(r.labels, b * T);
    if (segmentIds) segmentIds.set(r.segments ?? r.inputIds.map(() => 0), b * T);
  });
  return segmentIds ? { ids, labels, batch: rows.length, seqLen: T, segmentIds } : { ids, labels, batch: rows.length, seqLen: T };
}

/**
 * Packing, best-fit decreasing (TRL "bfd"): examples, longest first, go into the row with the least room
 * that still fits them; examples are never split. Attention stays within an example (segment ids; positions
 * restart per segment) and each example's first label is −100, so no token learns to predict the next
 * example's start.
 */
export function packExamples(examples: readonly TrainRow[], seqLen: number): TrainRow[] {
  const order = examples.map((e, i) => i).sort((a, b) => examples[b]!.inputIds.length - examples[a]!.inputIds.length || a - b);
  const bins: { room: number; members: number[] }[] = [];
  for (const i of order) {
    const len = Math.min(examples[i]!.inputIds.length, seqLen);
    let best = -1;
    for (let k = 0; k < bins.length; k++) if (bins[k]!.room >= len && (best < 0 || bins[k]!.room < bins[best]!.room)) best = k;
    if (best < 0) bins.push({ room: seqLen - len, members: [i] });
    else {
      bins[best]!.room -= len;
      bins[best]!.members.push(i);
    }
  }
  return bins.map((bin) => {
    const row: Required<TrainRow> = { inputIds: [], labels: [], segments: [] };
    bin.members.forEach((i, seg) => {
      const e = examples[i]!;
      const n = Math.min(e.inputIds.length, seqLen);
      row.inputIds.push(...e.inputIds.slice(0, n));
      row.labels.push(-100, ...e.labels.slice(1, n));
      row.segments.push(...new Array<number>(n).fill(seg));
    });
    return row;
  });
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
export function epochWindows(examples: readonly TrainRow[], microBatch: number, gradAccum: number, padId: number, seed: number, epoch: number): LmBatch[][] {
  const order = epochOrder(examples.length, seed, epoch);
  const micro: LmBatch[] = [];
  for (let i = 0; i < order.length; i += microBatch) micro.push(padBatch(order.slice(i, i + microBatch).map((k) => examples[k]!), padId));
  const windows: LmBatch[][] = [];
  for (let i = 0; i < micro.length; i += gradAccum) windows.push(micro.slice(i, i + gradAccum));
  return windows;
}

export function evalBatches(examples: readonly TrainRow[], microBatch: number, padId: number): LmBatch[] {
  const out: LmBatch[] = [];
  for (let i = 0; i < examples.length; i += microBatch) out.push(padBatch(examples.slice(i, i + microBatch), padId));
  return out;
}

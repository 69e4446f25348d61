// Preference examples → one concatenated token batch [chosen rows; rejected rows], as TRL's
// `concatenated_inputs`.
//
// Why this exists: DPO scores both responses of every pair in a single forward (algorithms.md §6): rows
// 0…B−1 are prompt + chosen, rows B…2B−1 prompt + rejected, right-padded to one length with labels −100 on
// the prompt and the padding (causal attention makes right padding harmless). The valid positions (shifted
// labels ≠ −100) are what the log-prob sums, SamPO's down-sampling and IPO's per-token average run over.

import { IGNORE_INDEX, type LmBatch } from "../train/loss.js";
import type { PrefExample } from "./data.js";

export interface PrefBatch extends LmBatch {
  /** Pairs in the batch (B); `batch` = 2B rows. */
  pairs: number;
  /** Source-row index of each pair (for cached reference log-probs). */
  exampleIndex: number[];
}

/** Collate examples into one concatenated batch; `padId` fills the tail of shorter rows. */
export function collatePairs(examples: readonly PrefExample[], padId = 0): PrefBatch {
  if (examples.length === 0) throw new Error("collatePairs: no examples");
  const seqs: { ids: number[]; promptLen: number }[] = [];
  for (const side of ["chosenIds", "rejectedIds"] as const) {
    for (const ex of examples) seqs.push({ ids: [...ex.promptIds, ...ex[side]], promptLen: ex.promptIds.length });
  }
  const T = Math.max(1, ...seqs.map((s) => s.ids.length));
  const rows = seqs.length;
  const ids = new Int32Array(rows * T).fill(padId);
  const labels = new Int32Array(rows * T).fill(IGNORE_INDEX);
  seqs.forEach((s, r) => {
    s.ids.forEach((id, t) => {
      ids[r * T + t] = id;
      if (t >= s.promptLen) labels[r * T + t] = id;
    });
  });
  return { ids, labels, batch: rows, seqLen: T, pairs: examples.length, exampleIndex: examples.map((e) => e.index) };
}

/** Split `examples` into micro-batches of `microBatch` pairs (the last may be shorter), in order. */
export function microBatches(examples: readonly PrefExample[], microBatch: number, padId = 0): PrefBatch[] {
  if (!Number.isInteger(microBatch) || microBatch < 1) throw new Error(`microBatches: micro_batch must be a positive integer, got ${microBatch}`);
  const out: PrefBatch[] = [];
  for (let i = 0; i < examples.length; i += microBatch) out.push(collatePairs(examples.slice(i, i + microBatch), padId));
  return out;
}

/** Valid (scored) positions of a batch: flat indices b·T+t, their targets, their row, and the count per row. */
export interface ValidPositions {
  rows: Int32Array;
  targets: Int32Array;
  rowOf: Int32Array;
  counts: Int32Array;
}

export function validPositions(b: Pick<LmBatch, "labels" | "batch" | "seqLen">): ValidPositions {
  const rows: number[] = [];
  const targets: number[] = [];
  const rowOf: number[] = [];
  const counts = new Int32Array(b.batch);
  for (let r = 0; r < b.batch; r++) {
    for (let t = 0; t + 1 < b.seqLen; t++) {
      const y = b.labels[r * b.seqLen + t + 1];
      if (y === IGNORE_INDEX) continue;
      rows.push(r * b.seqLen + t);
      targets.push(y);
      rowOf.push(r);
      counts[r]++;
    }
  }
  return { rows: Int32Array.from(rows), targets: Int32Array.from(targets), rowOf: Int32Array.from(rowOf), counts };
}

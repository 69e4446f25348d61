// Turning tokenized examples into the micro-batches HF Trainer would feed:
// a seeded shuffle per epoch (RandomSampler), micro-batches padded to their
// longest row (labels −100 on padding), grouped into accumulation windows.
// Two packings: whole examples best-fit (SFT, TRL "bfd"), and pretraining's
// concatenate-and-cut (HF run_clm `group_texts`, with per-document segments).
import { Rng } from "../data/rng.js";
import type { TokenizedExample } from "../data/tokenize.js";
import type { LmBatch } from "../train/loss.js";
import { ExecError } from "./types.js";

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

/** Rows cut from the concatenated documents, and what the cut left over. */
export interface GroupedTexts {
  rows: Required<TrainRow>[];
  /** Tokens of the last, partial row (fewer than seqLen), dropped as HF `group_texts` drops them. */
  droppedTokens: number;
  /** 1 when a partial last row was dropped, else 0. */
  droppedRows: number;
  /** Tokens in all documents. */
  totalTokens: number;
}

/**
 * Pretraining rows, HF run_clm `group_texts`: the documents (BOS … EOS each) are concatenated in order and the
 * stream is cut every `seqLen` tokens; the last, partial row is dropped. Nothing else is lost: a document that
 * does not fit continues at the start of the next row. Unlike run_clm, attention does not cross documents:
 * every document, or the part of one in a row, is its own segment (positions restart, its first label is −100),
 * as scripts/pretrain-tiny.ts did for the shipped tiny model (git 15bf95c, `packRows`). A document's own label
 * mask is kept (labels −100 inside a document stay −100).
 */
export function groupTexts(examples: readonly TrainRow[], seqLen: number): GroupedTexts {
  if (!Number.isInteger(seqLen) || seqLen < 1) throw new Error(`internal: groupTexts seqLen ${seqLen}`);
  const rows: Required<TrainRow>[] = [];
  let row: Required<TrainRow> = { inputIds: [], labels: [], segments: [] };
  let seg = 0;
  let totalTokens = 0;
  for (const e of examples) {
    totalTokens += e.inputIds.length;
    for (let pos = 0; pos < e.inputIds.length; ) {
      const n = Math.min(seqLen - row.inputIds.length, e.inputIds.length - pos);
      row.inputIds.push(...e.inputIds.slice(pos, pos + n));
      row.labels.push(-100, ...e.labels.slice(pos + 1, pos + n));
      for (let k = 0; k < n; k++) row.segments.push(seg);
      seg++;
      pos += n;
      if (row.inputIds.length === seqLen) {
        rows.push(row);
        row = { inputIds: [], labels: [], segments: [] };
        seg = 0;
      }
    }
  }
  const droppedTokens = row.inputIds.length;
  return { rows, droppedTokens, droppedRows: droppedTokens > 0 ? 1 : 0, totalTokens };
}

/** `packing = true`: pretrain stages cut the concatenated documents (groupTexts), others pack whole examples. */
export function packForStage(method: string, examples: readonly TrainRow[], seqLen: number): { rows: TrainRow[]; summary: string } {
  if (method !== "pretrain") {
    const rows = packExamples(examples, seqLen);
    return { rows, summary: `packed ${examples.length} examples into ${rows.length} rows of ≤ ${seqLen} tokens` };
  }
  const g = groupTexts(examples, seqLen);
  if (g.rows.length === 0) {
    throw new ExecError("T7107", `pretraining data has ${g.totalTokens} tokens in ${examples.length} documents, less than one row of ${seqLen} tokens`, "lower `cutoff`, or add documents (the partial last row is dropped, as HF group_texts does)");
  }
  return {
    rows: g.rows,
    summary:
      `concatenated ${examples.length} documents (${g.totalTokens} tokens) and cut them into ${g.rows.length} rows of ${seqLen} tokens; ` +
      `dropped ${g.droppedRows} partial last row (${g.droppedTokens} tokens)`,
  };
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

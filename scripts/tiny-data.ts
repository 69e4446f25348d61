// Pretraining data for the tiny model: documents from data/pretrain, a seeded split, and packed token rows.
//
// Why this exists: `scripts/pretrain-tiny.ts` must be reproducible from the repository alone. This keeps the data
// side (which records, in which order, how they become fixed-length rows) in one small, deterministic place:
//   • records of data/pretrain/random_9k.json minus those whose instruction+input occur in tune's fine-tuning sets;
//   • one plain-text document per record: "instruction\n\n[input\n\n]output";
//   • a seeded shuffle, the first `valDocs` documents held out;
//   • rows of `seqLen` tokens: documents as BOS…EOS, concatenated and cut into rows; every document (or the part
//     of one that spills into the next row) is its own segment: attention stays inside it, positions restart, and
//     its first token carries no loss (labels −100), as in packed SFT.

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Rng } from "../runtime/data/rng.js";

interface Record3 {
  instruction: string;
  input?: string;
  output: string;
}

export const PRETRAIN_FILE = "data/pretrain/random_9k.json";
/** Fine-tuning sets shipped with tune; their records are kept out of pretraining. */
export const HELD_OUT_FILES = [
  "data/alpagasus/claude_t45.json",
  "data/alpaca/alpaca_tiny.json",
  "data/llamafactory_alpaca_en_demo/alpaca_en_demo.json",
];

const keyOf = (r: Record3): string => `${r.instruction.trim()}\n${(r.input ?? "").trim()}`;

function readRecords(root: string, file: string): Record3[] {
  return JSON.parse(readFileSync(join(root, file), "utf8")) as Record3[];
}

export function documentText(r: Record3): string {
  const input = (r.input ?? "").trim();
  return `${r.instruction.trim()}\n\n${input ? `${input}\n\n` : ""}${r.output.trim()}`;
}

/** Seeded Fisher–Yates shuffle (copy). */
export function shuffled<T>(xs: readonly T[], rng: Rng): T[] {
  const out = xs.slice();
  for (let i = out.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

export interface PretrainDocs {
  train: string[];
  val: string[];
  records: number;
  excluded: number;
}

/** Load, filter, shuffle (seeded) and split the pretraining documents. */
export function loadPretrainDocs(root: string, seed: number, valDocs: number): PretrainDocs {
  const held = new Set<string>();
  for (const f of HELD_OUT_FILES) for (const r of readRecords(root, f)) held.add(keyOf(r));
  const all = readRecords(root, PRETRAIN_FILE);
  const kept = all.filter((r) => !held.has(keyOf(r)));
  const docs = shuffled(kept.map(documentText), new Rng(seed).fork("split"));
  return { val: docs.slice(0, valDocs), train: docs.slice(valDocs), records: all.length, excluded: all.length - kept.length };
}

export interface PackedRows {
  ids: Int32Array[];
  segments: Int32Array[];
  /** Tokens that carry a label (all but each segment's first). */
  labelTokens: number;
}

/** Concatenate BOS+doc+EOS sequences and cut them into rows of `seqLen` tokens (the tail row is dropped). */
export function packRows(docs: number[][], seqLen: number): PackedRows {
  const ids: Int32Array[] = [];
  const segments: Int32Array[] = [];
  let row = new Int32Array(seqLen);
  let seg = new Int32Array(seqLen);
  let fill = 0;
  let segId = 0;
  let labelTokens = 0;
  for (const doc of docs) {
    let pos = 0;
    while (pos < doc.length) {
      const n = Math.min(seqLen - fill, doc.length - pos);
      row.set(doc.slice(pos, pos + n), fill);
      seg.fill(segId, fill, fill + n);
      labelTokens += n - 1;
      fill += n;
      pos += n;
      segId++;
      if (fill === seqLen) {
        ids.push(row);
        segments.push(seg);
        row = new Int32Array(seqLen);
        seg = new Int32Array(seqLen);
        fill = 0;
      }
    }
  }
  return { ids, segments, labelTokens };
}

/** Unigram entropy (nats) of a token stream: the loss of a model that ignores context. */
export function unigramEntropy(docs: number[][], vocabSize: number): number {
  const counts = new Float64Array(vocabSize);
  let n = 0;
  for (const d of docs) for (const t of d) (counts[t]++, n++);
  let h = 0;
  for (const c of counts) if (c > 0) h -= (c / n) * Math.log(c / n);
  return h;
}

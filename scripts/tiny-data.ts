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

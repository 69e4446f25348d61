// A deterministic byte-level BPE trainer (the algorithm of HF tokenizers' `BpeTrainer`).
//
// Why this exists: tune ships a tiny model whose tokenizer it must be able to rebuild from the repository alone
// (no Python, no network). Training: count pre-tokenizer words; start from the 256 byte symbols; repeatedly merge
// the most frequent adjacent pair (ties: the smaller pair of ids, as `BpeTrainer`) until the vocabulary is full.
// Pair counts are updated incrementally, only for the words containing the merged pair, so a 2k vocabulary over a
// few MB of text trains in seconds. The same input and options always give the same vocabulary and merges.
//
// Id layout: special tokens first (0 … S−1, in the order given), then the 256 byte symbols in byte order, then
// merged tokens in merge order. Special tokens are also in the model vocabulary (as `BpeTrainer` does), so
// every engine that deserializes the tokenizer keeps their ids.

import { BYTE_TO_CHAR, splitOnSpecials, splitWords, wordBytes } from "./bytelevel.js";
import { TokenizerError } from "./errors.js";

export interface BpeTrainOptions {
  /** Total vocabulary size including special tokens and the 256 byte symbols. */
  vocabSize: number;
  /** Special tokens, given ids 0 … n−1 in this order; their text is never split into merges. */
  specialTokens: string[];
  /** Stop early when the best pair occurs fewer times than this (default 2). */
  minFrequency?: number;
}

export interface BpeModel {
  /** id → token string (byte-level spelling; special tokens as written). */
  vocab: string[];
  /** Merges in rank order, as pairs of token strings. */
  merges: [string, string][];
  specialTokens: string[];
}

/** Count pre-tokenizer words over all texts (special-token text excluded). */
export function countWords(texts: Iterable<string>, specialTokens: readonly string[] = []): Map<string, number> {
  const counts = new Map<string, number>();
  for (const text of texts) {
    for (const piece of splitOnSpecials(text, specialTokens)) {
      for (const w of splitWords(piece)) counts.set(w, (counts.get(w) ?? 0) + 1);
    }
  }
  return counts;
}

const PAIR_BASE = 1 << 16;
const pairKey = (a: number, b: number): number => a * PAIR_BASE + b;

interface TrainState {
  words: number[][];
  freq: number[];
  pairCount: Map<number, number>;
  pairWords: Map<number, Set<number>>;
}

function addWordPairs(s: TrainState, w: number, sign: 1 | -1): void {
  const sym = s.words[w];
  const f = s.freq[w] * sign;
  for (let i = 0; i + 1 < sym.length; i++) {
    const k = pairKey(sym[i], sym[i + 1]);
    const c = (s.pairCount.get(k) ?? 0) + f;
    if (c === 0) s.pairCount.delete(k);
    else s.pairCount.set(k, c);
    if (sign > 0) {
      let set = s.pairWords.get(k);
      if (!set) s.pairWords.set(k, (set = new Set()));
      set.add(w);
    } else {
      s.pairWords.get(k)?.delete(w);
    }
  }
}

/** The most frequent pair; ties go to the smaller (a, b), as HF `BpeTrainer`. */
function bestPair(pairCount: Map<number, number>): { key: number; count: number } | null {
  let key = -1;
  let count = 0;
  for (const [k, c] of pairCount) {
    if (c > count || (c === count && k < key)) {
      key = k;
      count = c;
    }
  }
  return key < 0 ? null : { key, count };
}

function mergeInWord(sym: number[], a: number, b: number, id: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < sym.length; i++) {
    if (i + 1 < sym.length && sym[i] === a && sym[i + 1] === b) {
      out.push(id);
      i++;
    } else out.push(sym[i]);
  }
  return out;
}

function checkOptions(o: BpeTrainOptions): void {
  const bad = (msg: string, hint: string): TokenizerError => new TokenizerError("T6084", "<bpe trainer>", msg, hint);
  if (new Set(o.specialTokens).size !== o.specialTokens.length) throw bad("special tokens are not unique", "list each special token once");
  const floor = o.specialTokens.length + 256;
  if (!Number.isInteger(o.vocabSize) || o.vocabSize < floor) {
    throw bad(`vocabSize ${o.vocabSize} is below ${floor} (special tokens + 256 bytes)`, "choose a larger vocabulary");
  }
  if (o.vocabSize > PAIR_BASE) throw bad(`vocabSize ${o.vocabSize} is above ${PAIR_BASE}`, "this trainer handles vocabularies up to 65,536");
}

/** Train byte-level BPE on word counts (see `countWords`). */
export function trainBpeFromCounts(counts: Map<string, number>, o: BpeTrainOptions): BpeModel {
  checkOptions(o);
  const vocab = [...o.specialTokens];
  const byteBase = vocab.length;
  for (let b = 0; b < 256; b++) vocab.push(BYTE_TO_CHAR[b]);
  const index = new Map(vocab.map((t, i) => [t, i]));
  const sortedWords = [...counts.keys()].sort();
  const s: TrainState = { words: [], freq: [], pairCount: new Map(), pairWords: new Map() };
  for (const w of sortedWords) {
    s.words.push(Array.from(wordBytes(w), (b) => byteBase + b));
    s.freq.push(counts.get(w)!);
  }
  for (let w = 0; w < s.words.length; w++) addWordPairs(s, w, 1);
  const merges: [string, string][] = [];
  const minFreq = o.minFrequency ?? 2;
  while (vocab.length < o.vocabSize) {
    const best = bestPair(s.pairCount);
    if (!best || best.count < minFreq) break;
    const a = Math.floor(best.key / PAIR_BASE);
    const b = best.key % PAIR_BASE;
    const text = vocab[a] + vocab[b];
    let id = index.get(text);
    if (id === undefined) {
      id = vocab.length;
      vocab.push(text);
      index.set(text, id);
    }
    merges.push([vocab[a], vocab[b]]);
    const affected = [...(s.pairWords.get(best.key) ?? [])].sort((x, y) => x - y);
    for (const w of affected) {
      addWordPairs(s, w, -1);
      s.words[w] = mergeInWord(s.words[w], a, b, id);
      addWordPairs(s, w, 1);
    }
    s.pairWords.delete(best.key);
  }
  return { vocab, merges, specialTokens: [...o.specialTokens] };
}

/** Train byte-level BPE on texts. */
export function trainByteLevelBpe(texts: Iterable<string>, o: BpeTrainOptions): BpeModel {
  return trainBpeFromCounts(countWords(texts, o.specialTokens), o);
}

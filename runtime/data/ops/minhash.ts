// dedup (near): MinHash signatures over word n-grams + LSH banding, with a declared Jaccard threshold.
//
// Why this exists: near-verbatim repeats (one word changed, a different trailing sentence) survive exact
// dedup. This op keeps the first row of each group of rows whose word-n-gram sets have Jaccard similarity
// ≥ threshold, in one streaming pass.
//
// Method (Broder 1997; Leskovec, Rajaraman & Ullman, "Mining of Massive Datasets" ch. 3):
//   1. text → normalised (hash.ts) → words (split on spaces) → set of word n-grams (default n = 3; a text with
//      fewer than n words is one shingle); each shingle → u32 by FNV-1a over UTF-16 code units, then fmix32.
//   2. signature[i] = min over shingles x of hᵢ(x), hᵢ(x) = fmix32(aᵢ·x + bᵢ mod 2³²) with aᵢ odd, bᵢ drawn from
//      Rng(seed) — each hᵢ is a bijection of u32, i.e. a random permutation, so P[sigA[i] = sigB[i]] ≈ J(A, B).
//   3. LSH: the signature is cut into b bands of r rows (b·r ≤ numPerm); rows sharing any band bucket are
//      candidates. (b, r) minimise ½·P(false positive) + ½·P(false negative) around the threshold, the rule of
//      datasketch's MinHashLSH `_optimal_param` (integrals by Simpson's rule here).
//   4. A candidate is a duplicate when its estimated Jaccard (share of equal signature slots) ≥ threshold;
//      the later row is dropped (greedy, first occurrence kept). Deterministic given the seed and input order.
// Memory: numPerm·4 bytes per kept row plus the band index.
//
// How this differs from Platypus (arielnlee/Platypus `data_pipeline/data_similarity.ipynb`): Platypus embeds
// instruction + " " + input with SentenceTransformers all-MiniLM-L6-v2 and compares *cosine similarity* of the
// embeddings, keeping a row only if its max similarity to the kept rows is ≤ 0.7 (the paper says 80%). That is
// semantic: it also removes paraphrases and same-question-different-wording pairs, needs a model, and is
// pairwise O(n²). Ours is lexical: Jaccard of word n-grams, blind to paraphrase, catches near-verbatim copies,
// needs no model, and is near-linear thanks to LSH but probabilistic (a pair just above the threshold is found
// with high, not certain, probability). The thresholds are not comparable: cosine 0.7 ≠ Jaccard 0.7.
// Platypus' contamination check (drop a training row whose most similar test question has cosine ≥ 0.8) maps
// to `reference` below, again with Jaccard in place of cosine.

import { DataError } from "../errors.js";
import { normaliseText } from "../hash.js";
import { formatOrigin, opStream, type OpStream, type Origin, type Row, type RowStream } from "../row.js";
import { fmix32, Rng, type Seed } from "../rng.js";
import { rowText, type DedupStats } from "./dedup.js";

export interface NearDedupOptions {
  /** Jaccard similarity at or above which two rows are duplicates, in (0, 1]. */
  threshold: number;
  seed: Seed;
  fields?: readonly string[];
  text?: (row: Row) => string;
  /** Words per shingle (default 3). */
  ngram?: number;
  /** Signature length (default 128). */
  numPerm?: number;
  /** Drop input rows that are near-duplicates of any row of this set (e.g. a test set), too. */
  reference?: RowStream;
  examples?: number;
}

export interface NearDedupStats extends DedupStats {
  bands: number;
  rowsPerBand: number;
  /** Candidate pairs compared (LSH hits). */
  candidates: number;
  /** Drops caused by the reference set. */
  droppedByReference: number;
}

// ---- shingles and signatures

function hashString32(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return fmix32(h >>> 0);
}

/** Distinct hashed word n-grams of the normalised text. */
export function shingles(text: string, n: number): Uint32Array {
  const words = normaliseText(text).split(" ").filter((w) => w.length > 0);
  const out = new Set<number>();
  if (words.length <= n) out.add(hashString32(words.join(" ")));
  else for (let i = 0; i + n <= words.length; i++) out.add(hashString32(words.slice(i, i + n).join(" ")));
  return Uint32Array.from(out);
}

export class MinHasher {
  private readonly a: Uint32Array;
  private readonly b: Uint32Array;

  constructor(readonly numPerm: number, seed: Seed) {
    const rng = new Rng(seed).fork("minhash");
    this.a = new Uint32Array(numPerm);
    this.b = new Uint32Array(numPerm);
    for (let i = 0; i < numPerm; i++) {
      this.a[i] = (rng.nextU32() | 1) >>> 0;
      this.b[i] = rng.nextU32();
    }
  }

  signature(sh: Uint32Array): Uint32Array {
    const sig = new Uint32Array(this.numPerm).fill(0xffffffff);
    for (let i = 0; i < this.numPerm; i++) {
      const a = this.a[i];
      const b = this.b[i];
      let min = 0xffffffff;
      for (let j = 0; j < sh.length; j++) {
        const h = fmix32((Math.imul(sh[j], a) + b) >>> 0);
        if (h < min) min = h;
      }
      sig[i] = min;
    }
    return sig;
  }
}

/** Share of equal slots: the MinHash estimate of Jaccard similarity. */
export function estimateJaccard(x: Uint32Array, y: Uint32Array): number {
  let eq = 0;
  for (let i = 0; i < x.length; i++) if (x[i] === y[i]) eq++;
  return eq / x.length;
}

// ---- LSH parameters

function simpson(f: (s: number) => number, lo: number, hi: number, steps = 100): number {
  const h = (hi - lo) / steps;
  let acc = f(lo) + f(hi);
  for (let i = 1; i < steps; i++) acc += f(lo + i * h) * (i % 2 === 1 ? 4 : 2);
  return (acc * h) / 3;
}

/** (bands, rows) minimising ½·false-positive + ½·false-negative area at `threshold` (datasketch's rule). */
export function optimalBands(threshold: number, numPerm: number): { bands: number; rows: number } {
  let best = { bands: 1, rows: numPerm, error: Infinity };
  for (let b = 1; b <= numPerm; b++) {
    for (let r = 1; r <= Math.floor(numPerm / b); r++) {
      const fp = simpson((s) => 1 - Math.pow(1 - Math.pow(s, r), b), 0, threshold);
      const fn = simpson((s) => Math.pow(1 - Math.pow(s, r), b), threshold, 1);
      const error = 0.5 * fp + 0.5 * fn;
      if (error < best.error) best = { bands: b, rows: r, error };
    }
  }
  return { bands: best.bands, rows: best.rows };
}

// ---- LSH index

/** Band buckets over signatures. Bucket keys are 53-bit hashes of a band; collisions only add candidates. */
export class LshIndex {
  private readonly buckets: Map<number, number[]>[];
  private readonly sigs: Uint32Array[] = [];
  private readonly origins: Origin[] = [];
  private readonly fromReference: boolean[] = [];
  candidates = 0;

  constructor(
    readonly bands: number,
    readonly rows: number,
  ) {
    this.buckets = Array.from({ length: bands }, () => new Map<number, number[]>());
  }

  private bandKey(sig: Uint32Array, band: number): number {
    let h1 = 0x9e3779b9 ^ band;
    let h2 = 0x85ebca6b ^ band;
    for (let i = band * this.rows; i < (band + 1) * this.rows; i++) {
      h1 = fmix32((h1 ^ sig[i]) >>> 0);
      h2 = fmix32((Math.imul(h2, 31) + sig[i]) >>> 0);
    }
    return h1 * 2097152 + (h2 >>> 11); // 32 + 21 bits
  }

  /** The first indexed entry with estimated Jaccard ≥ threshold, or -1. */
  query(sig: Uint32Array, threshold: number): number {
    const tried = new Set<number>();
    for (let band = 0; band < this.bands; band++) {
      for (const id of this.buckets[band].get(this.bandKey(sig, band)) ?? []) {
        if (tried.has(id)) continue;
        tried.add(id);
        this.candidates++;
        if (estimateJaccard(sig, this.sigs[id]) >= threshold) return id;
      }
    }
    return -1;
  }

  add(sig: Uint32Array, origin: Origin, reference: boolean): void {
    const id = this.sigs.length;
    this.sigs.push(sig);
    this.origins.push(origin);
    this.fromReference.push(reference);
    for (let band = 0; band < this.bands; band++) {
      const key = this.bandKey(sig, band);
      const list = this.buckets[band].get(key);
      if (list) list.push(id);
      else this.buckets[band].set(key, [id]);
    }
  }

  origin(id: number): Origin {
    return this.origins[id];
  }

  isReference(id: number): boolean {
    return this.fromReference[id];
  }
}

// ---- the op

function checkOptions(o: NearDedupOptions): { ngram: number; numPerm: number } {
  const ngram = o.ngram ?? 3;
  const numPerm = o.numPerm ?? 128;
  const fail = (message: string, hint: string): never => {
    throw new DataError({ code: "T5520", message, hint });
  };
  if (!(o.threshold > 0 && o.threshold <= 1)) fail(`near-dedup threshold ${o.threshold} is not in (0, 1]`, "a Jaccard threshold such as 0.8");
  if (!Number.isInteger(ngram) || ngram < 1) fail(`near-dedup ngram ${ngram} is not a positive integer`, "use 3 to 5 words");
  if (!Number.isInteger(numPerm) || numPerm < 8 || numPerm > 1024) fail(`near-dedup numPerm ${numPerm} is not in [8, 1024]`, "128 is the usual choice");
  return { ngram, numPerm };
}

export function dedupNear(input: RowStream, opts: NearDedupOptions): OpStream<NearDedupStats> {
  const { ngram, numPerm } = checkOptions(opts);
  const { bands, rows } = optimalBands(opts.threshold, numPerm);
  const keepExamples = opts.examples ?? 5;
  return opStream<NearDedupStats>(
    () => ({ seen: 0, kept: 0, dropped: 0, examples: [], bands, rowsPerBand: rows, candidates: 0, droppedByReference: 0 }),
    async function* (stats) {
      const hasher = new MinHasher(numPerm, opts.seed);
      const index = new LshIndex(bands, rows);
      const sigOf = (row: Row) => hasher.signature(shingles(rowText(row, opts), ngram));
      if (opts.reference) for await (const row of opts.reference) index.add(sigOf(row), row.origin, true);
      for await (const row of input) {
        stats.seen++;
        const sig = sigOf(row);
        const hit = index.query(sig, opts.threshold);
        stats.candidates = index.candidates;
        if (hit >= 0) {
          stats.dropped++;
          if (index.isReference(hit)) stats.droppedByReference++;
          if (stats.examples.length < keepExamples) {
            stats.examples.push({ dropped: formatOrigin(row.origin), duplicateOf: formatOrigin(index.origin(hit)) });
          }
          continue;
        }
        index.add(sig, row.origin, false);
        stats.kept++;
        yield row;
      }
    },
  );
}

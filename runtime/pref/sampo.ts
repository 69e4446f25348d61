// SamPO down-sampling (Lu et al. 2024; LuJunru/SamPO `get_batch_logps` with len_norm; algorithms.md §7).
//
// Why this exists: SamPO removes DPO's length bias by scoring both responses of a pair on the same number of
// tokens: for pair b (rows b and b + B of the concatenated batch) with T_c chosen and T_r rejected completion
// tokens, the longer side (rejected if T_c < T_r, else chosen) keeps T_m = min(T_c, T_r) of its valid
// positions, drawn uniformly without replacement; the shorter keeps all. The fork draws with
// `torch.multinomial` on the 0/1 mask from the global torch RNG (seeded once); that stream cannot be
// reproduced outside torch, so we draw the same distribution from tune's seeded xoshiro128** (data/rng.ts):
// a partial Fisher–Yates over the longer row's valid positions, k = T_m swaps, j = i + rng.int(L − i).
// When L = T_m (equal lengths) every position is kept and nothing is drawn. The trainer draws once per
// log-prob computation — policy first, then reference — so the two passes cover independent subsets, as in
// the fork. The seed is recorded in every step log.

import type { Rng } from "../data/rng.js";

/** The positions kept in one row of a concatenated batch, as indices into that row's valid positions. */
export interface SampoDraw {
  /** Per row of the concatenated batch (2B rows): 0/1 weight per valid position, row-major over `counts`. */
  weights: Float32Array;
  /** Kept token count per row (= min(T_c, T_r) for both rows of a pair). */
  kept: Int32Array;
}

/** Indices 0 … L−1 of the `k` positions kept out of `L`, sorted (partial Fisher–Yates, see header). */
export function sampleWithoutReplacement(rng: Rng, L: number, k: number): Int32Array {
  if (!Number.isInteger(k) || k < 0 || k > L) throw new Error(`sampleWithoutReplacement: k=${k} not in [0, ${L}]`);
  if (k === L) return Int32Array.from({ length: L }, (_, i) => i);
  const idx = Int32Array.from({ length: L }, (_, i) => i);
  for (let i = 0; i < k; i++) {
    const j = i + rng.int(L - i);
    const t = idx[i];
    idx[i] = idx[j];
    idx[j] = t;
  }
  return idx.slice(0, k).sort();
}

/**
 * Draw SamPO weights for a concatenated batch whose row r has `counts[r]` valid positions (rows 0…B−1 chosen,
 * B…2B−1 rejected; positions of a row are consecutive in the weight vector, rows in order).
 */
export function sampoDraw(rng: Rng, counts: ArrayLike<number>): SampoDraw {
  const rows = counts.length;
  if (rows % 2 !== 0) throw new Error(`sampoDraw: a concatenated batch has an even row count, got ${rows}`);
  const B = rows / 2;
  const offsets = new Int32Array(rows + 1);
  for (let r = 0; r < rows; r++) offsets[r + 1] = offsets[r] + counts[r];
  const weights = new Float32Array(offsets[rows]);
  const kept = new Int32Array(rows);
  for (let b = 0; b < B; b++) {
    const tc = counts[b];
    const tr = counts[b + B];
    const tm = Math.min(tc, tr);
    const longer = tc < tr ? b + B : b;
    const shorter = longer === b ? b + B : b;
    weights.fill(1, offsets[shorter], offsets[shorter + 1]);
    for (const i of sampleWithoutReplacement(rng, counts[longer], tm)) weights[offsets[longer] + i] = 1;
    kept[b] = tm;
    kept[b + B] = tm;
  }
  return { weights, kept };
}

/** Σ over kept positions of per-token log-probs (row-major over `counts`): the SamPO score per row. */
export function keptSums(tokenLogps: ArrayLike<number>, counts: ArrayLike<number>, weights: ArrayLike<number>): Float64Array {
  const out = new Float64Array(counts.length);
  let p = 0;
  for (let r = 0; r < counts.length; r++) {
    let s = 0;
    for (let i = 0; i < counts[r]; i++, p++) s += weights[p] * tokenLogps[p];
    out[r] = s;
  }
  if (p !== tokenLogps.length) throw new Error(`keptSums: counts cover ${p} positions, got ${tokenLogps.length} log-probs`);
  return out;
}

// Per-document metrics and their aggregation, computed as lm-evaluation-harness v0.4.x does.
//
// Sources: api/task.py (ConfigurableTask.process_results for multiple_choice), api/metrics.py (mean,
// sample_stddev, mean_stderr, pooled_sample_stderr, aggregate_subtask_metrics, exact_match_hf_evaluate,
// bootstrap_stderr), api/utils.py (check_gold_index_error), tasks/truthfulqa/utils.py (mc2).
// Sums run left to right like Python's built-in sum(); numpy's pairwise summation can differ in the last bit.

import { PyRandom } from "./pyrandom.js";
import { pyLen, utf8Length } from "./pystr.js";
import { sub } from "./pyregex.js";

/** numpy.argmax: the first maximum; a NaN counts as the maximum (its first occurrence wins). */
export function argmax(xs: readonly number[]): number {
  let best = 0;
  for (let i = 0; i < xs.length; i++) {
    if (Number.isNaN(xs[i])) return i;
    if (xs[i] > xs[best]) best = i;
  }
  return best;
}

export type Gold = number | number[];

/** check_gold_index_error: a gold outside the choices becomes -100 (never equal to a prediction). */
export function checkGoldIndex(choices: readonly string[], gold: unknown): { gold: Gold; error: boolean } {
  if (Array.isArray(gold)) {
    const g = gold.map((i) => (typeof i === "number" && i < choices.length ? i : -100));
    return { gold: g, error: g.includes(-100) };
  }
  let g = -100;
  if (typeof gold === "number") g = gold < choices.length ? gold : -100;
  else if (typeof gold === "string") g = choices.indexOf(gold);
  if (g < 0) g = -100;
  return { gold: g, error: g === -100 };
}

export interface ChoiceScores {
  acc: number;
  acc_norm: number;
  acc_bytes: number;
  exact_match: number;
  pred: number;
  predNorm: number;
  predBytes: number;
}

/**
 * Multiple-choice metrics from per-choice log-likelihoods. acc: argmax ll; acc_norm: argmax ll / len(choice)
 * in code points (Python len, the choice without the delimiter); acc_bytes: ll / UTF-8 bytes; exact_match:
 * the gold continuation is the greedy one. Ties go to the first choice, as numpy.argmax does.
 */
export function multipleChoiceScores(lls: readonly number[], isGreedy: readonly boolean[], choices: readonly string[], gold: Gold): ChoiceScores {
  const pred = argmax(lls);
  const predNorm = argmax(lls.map((ll, i) => ll / pyLen(choices[i])));
  const predBytes = argmax(lls.map((ll, i) => ll / utf8Length(choices[i])));
  const hit = (p: number): number => (Array.isArray(gold) ? (gold.includes(p) ? 1 : 0) : p === gold ? 1 : 0);
  const exact = Array.isArray(gold)
    ? gold.some((g) => g !== -100 && isGreedy[g]) ? 1 : 0
    : gold !== -100 && isGreedy[gold] ? 1 : 0;
  return { acc: hit(pred), acc_norm: hit(predNorm), acc_bytes: hit(predBytes), exact_match: exact, pred, predNorm, predBytes };
}

/** TruthfulQA MC1: accuracy with the gold at index 0. */
export function mc1(lls: readonly number[]): number {
  return argmax(lls) === 0 ? 1 : 0;
}

/**
 * TruthfulQA MC2: probability mass of the true answers, p = exp(ll) normalised over all answers.
 * "labels" sums p where label is 1 (current harness); "split_first_false" takes every answer before the first
 * 0 label as true (older harness); they agree when the true answers come first.
 */
export function mc2Score(lls: readonly number[], labels: readonly number[], mode: "labels" | "split_first_false" = "labels"): number {
  const p = lls.map(Math.exp);
  let total = 0;
  for (const x of p) total += x;
  const split = labels.indexOf(0);
  let mass = 0;
  p.forEach((x, i) => {
    const isTrue = mode === "labels" ? labels[i] === 1 : i < (split < 0 ? p.length : split);
    if (isTrue) mass += x / total;
  });
  return mass;
}

export const mc2 = mc2Score;

export interface ExactMatchOptions {
  regexes_to_ignore?: string[];
  ignore_case?: boolean;
  ignore_punctuation?: boolean;
  ignore_numbers?: boolean;
}

const PUNCTUATION = new Set("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~".split(""));

/** exact_match_hf_evaluate for one prediction: regexes deleted (re.sub) first, then case, punctuation, digits. */
export function exactMatch(prediction: string, reference: string, opts: ExactMatchOptions = {}): number {
  let p = prediction;
  let r = reference;
  for (const re of opts.regexes_to_ignore ?? []) {
    p = sub(re, "", p);
    r = sub(re, "", r);
  }
  if (opts.ignore_case) {
    p = p.toLowerCase();
    r = r.toLowerCase();
  }
  if (opts.ignore_punctuation) {
    p = [...p].filter((c) => !PUNCTUATION.has(c)).join("");
    r = [...r].filter((c) => !PUNCTUATION.has(c)).join("");
  }
  if (opts.ignore_numbers) {
    p = p.replace(/[0-9]/g, "");
    r = r.replace(/[0-9]/g, "");
  }
  return p === r ? 1 : 0;
}

// ---- aggregation

export function mean(xs: readonly number[]): number {
  let s = 0;
  for (const x of xs) s += x;
  return s / xs.length;
}

/** Sample standard deviation (ddof 1). */
export function sampleStddev(xs: readonly number[]): number {
  const mu = mean(xs);
  let s = 0;
  for (const x of xs) s += (x - mu) ** 2;
  return Math.sqrt(s / (xs.length - 1));
}

/** mean_stderr = sample std / sqrt(n); null for n < 2, where the harness reports "N/A". */
export function meanStderr(xs: readonly number[]): number | null {
  if (xs.length < 2) return null;
  return sampleStddev(xs) / Math.sqrt(xs.length);
}

/** Group stderr: sqrt(Σ (n_j − 1)·n_j·se_j² / (Σ n_j − k) / Σ n_j). */
export function pooledSampleStderr(stderrs: readonly number[], sizes: readonly number[]): number {
  let num = 0;
  let total = 0;
  sizes.forEach((n, j) => {
    num += (n - 1) * stderrs[j] ** 2 * n;
    total += n;
  });
  const pooledVar = num / (total - sizes.length);
  return Math.sqrt(pooledVar / total);
}

/** Group value: size-weighted mean (or plain mean of member values when weight_by_size is false). */
export function aggregateSubtaskMetrics(values: readonly number[], sizes: readonly number[], weightBySize = true): number {
  const w = weightBySize ? sizes : sizes.map(() => 1);
  let num = 0;
  let den = 0;
  values.forEach((v, j) => {
    num += v * w[j];
    den += w[j];
  });
  return num / den;
}

/**
 * bootstrap_stderr: iters resamples in chunks of min(1000, iters); chunk i draws with Random(i).choices;
 * the stderr is the sample std of the replicate statistics. Used by the harness for median, f1, mcc, bleu.
 */
export function bootstrapStderr(f: (xs: number[]) => number, xs: readonly number[], iters: number): number {
  const chunk = Math.min(1000, iters);
  const reps: number[] = [];
  for (let i = 0; i < Math.floor(iters / chunk); i++) {
    const rnd = new PyRandom(i);
    for (let j = 0; j < chunk; j++) reps.push(f(rnd.choices(xs, xs.length)));
  }
  return sampleStddev(reps);
}

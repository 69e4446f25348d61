// Next-token selection from one row of logits: greedy, temperature, top-k, top-p, with a seeded generator.
//
// Why this exists: evaluation (lm-eval `generate_until`, judges) and demos need decoding that is
// reproducible from the recipe seed and follows HF `generate` warpers (order: temperature, top-k, top-p;
// `TopPLogitsWarper` keeps the smallest set of most likely tokens whose probability reaches top_p, at
// least one). Note HF's sampling default top_k = 50; here top-k is off unless set.

export interface SamplingOptions {
  /** 0 (or undefined) = greedy argmax. */
  temperature?: number;
  /** Nucleus threshold in (0, 1]; 1 = off. */
  topP?: number;
  /** Keep only the k most likely tokens; 0/undefined = off. */
  topK?: number;
}

/** Index of the largest value (first on ties, as torch.argmax). */
export function argmax(row: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < row.length; i++) if (row[i] > row[best]) best = i;
  return best;
}

/** Probabilities after temperature, top-k and top-p, as (token, prob) pairs sorted by descending prob. */
export function warpedDistribution(logits: ArrayLike<number>, o: SamplingOptions): { token: number; p: number }[] {
  const t = o.temperature ?? 1;
  const order = Array.from({ length: logits.length }, (_, i) => i).sort((a, b) => logits[b] - logits[a] || a - b);
  let kept = order;
  if (o.topK && o.topK > 0) kept = kept.slice(0, o.topK);
  const max = logits[kept[0]] / t;
  const w = kept.map((i) => Math.exp(logits[i] / t - max));
  const z = w.reduce((a, b) => a + b, 0);
  let probs = kept.map((token, i) => ({ token, p: w[i] / z }));
  const topP = o.topP ?? 1;
  if (topP < 1) {
    // HF removes tokens whose ascending cumulative probability is ≤ 1 − top_p; equivalently keep the
    // descending prefix until the remaining mass would drop to ≤ 1 − top_p.
    let tail = 1;
    let n = 0;
    while (n < probs.length) {
      tail -= probs[n].p;
      n++;
      if (tail <= 1 - topP) break;
    }
    probs = probs.slice(0, Math.max(1, n));
    const zz = probs.reduce((a, b) => a + b.p, 0);
    probs = probs.map((x) => ({ token: x.token, p: x.p / zz }));
  }
  return probs;
}

/** Pick the next token: argmax when temperature is 0/undefined, else sample with `rng`. */
export function sampleToken(logits: ArrayLike<number>, o: SamplingOptions, rng: { nextFloat(): number }): number {
  if (!o.temperature || o.temperature <= 0) return argmax(logits);
  const dist = warpedDistribution(logits, o);
  const u = rng.nextFloat();
  let acc = 0;
  for (const { token, p } of dist) {
    acc += p;
    if (u < acc) return token;
  }
  return dist[dist.length - 1].token;
}

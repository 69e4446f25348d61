// Did-you-mean: at most 4 candidates within edit distance 2 (Elm, HCL), best first.

/** Optimal-string-alignment distance: insertions, deletions, substitutions and adjacent swaps (`modle` → `model` is 1). */
export function editDistance(a: string, b: string): number {
  if (a === b) return 0;
  let before = new Array<number>(b.length + 1).fill(0);
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = new Array<number>(b.length + 1);
    cur[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, before[j - 2]! + 1);
      cur[j] = d;
    }
    before = prev;
    prev = cur;
  }
  return prev[b.length]!;
}

export function suggest(word: string, candidates: Iterable<string>, max = 4): string[] {
  const lower = word.toLowerCase();
  const scored: [string, number][] = [];
  for (const c of new Set(candidates)) {
    const d = editDistance(lower, c.toLowerCase());
    const limit = Math.min(2, Math.max(1, Math.floor(c.length / 3)));
    if (d <= limit || (lower.length >= 4 && c.toLowerCase().startsWith(lower))) scored.push([c, d]);
  }
  scored.sort((x, y) => x[1] - y[1] || x[0].localeCompare(y[0]));
  // A closer typo match hides farther ones (`vproj` → v_proj, not also k_proj); prefix matches always stay.
  const best = scored[0]?.[1] ?? 0;
  const kept = scored.filter(([c, d]) => d <= best || (lower.length >= 4 && c.toLowerCase().startsWith(lower)));
  return kept.slice(0, max).map(([c]) => c);
}

export function didYouMean(word: string, candidates: Iterable<string>): string | null {
  const s = suggest(word, candidates);
  if (s.length === 0) return null;
  return "did you mean " + s.map((c) => "`" + c + "`").join(" or ") + "?";
}

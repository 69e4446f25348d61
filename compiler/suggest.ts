// Did-you-mean: at most 4 candidates within edit distance 2 (Elm, HCL), best first.

export function editDistance(a: string, b: string): number {
  if (a === b) return 0;
  const prev = new Array<number>(b.length + 1);
  for (let j = 0; j <= b.length; j++) prev[j] = j;
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0]!;
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = prev[j]!;
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      prev[j] = Math.min(prev[j]! + 1, prev[j - 1]! + 1, diag + cost);
      diag = tmp;
    }
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
  return scored.slice(0, max).map(([c]) => c);
}

export function didYouMean(word: string, candidates: Iterable<string>): string | null {
  const s = suggest(word, candidates);
  if (s.length === 0) return null;
  return "did you mean " + s.map((c) => "`" + c + "`").join(" or ") + "?";
}

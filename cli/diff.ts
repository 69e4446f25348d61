// A small unified line diff for `tune fmt --diff` (LCS over lines; recipes are
// small, so the quadratic table is fine). Hunks carry 3 lines of context.

export function lineDiff(file: string, before: string, after: string, labels: [string, string] = [file, `${file} (formatted)`]): string {
  const a = before.split("\n");
  const b = after.split("\n");
  const ops = diffOps(a, b);
  const out = [`--- ${labels[0]}`, `+++ ${labels[1]}`];
  const context = 3;
  let i = 0;
  while (i < ops.length) {
    if (ops[i]!.kind === " ") {
      i++;
      continue;
    }
    let start = Math.max(0, i - context);
    let end = i;
    while (end < ops.length) {
      if (ops[end]!.kind !== " ") {
        end++;
        continue;
      }
      let run = 0;
      while (end + run < ops.length && ops[end + run]!.kind === " ") run++;
      if (run > 2 * context || end + run >= ops.length) {
        end = Math.min(ops.length, end + context);
        break;
      }
      end += run;
    }
    const hunk = ops.slice(start, end);
    const aStart = (hunk[0]?.aLine ?? 0) + 1;
    const bStart = (hunk[0]?.bLine ?? 0) + 1;
    const aLen = hunk.filter((o) => o.kind !== "+").length;
    const bLen = hunk.filter((o) => o.kind !== "-").length;
    out.push(`@@ -${aStart},${aLen} +${bStart},${bLen} @@`);
    for (const o of hunk) out.push(o.kind + o.text);
    i = end;
    start = end;
  }
  return out.join("\n") + "\n";
}

interface Op {
  kind: " " | "-" | "+";
  text: string;
  aLine: number;
  bLine: number;
}

function diffOps(a: string[], b: string[]): Op[] {
  const n = a.length;
  const m = b.length;
  const lcs: Uint32Array[] = Array.from({ length: n + 1 }, () => new Uint32Array(m + 1));
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      lcs[i]![j] = a[i] === b[j] ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
    }
  }
  const ops: Op[] = [];
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && a[i] === b[j]) ops.push({ kind: " ", text: a[i]!, aLine: i++, bLine: j++ });
    else if (j < m && (i >= n || lcs[i]![j + 1]! >= lcs[i + 1]![j]!)) ops.push({ kind: "+", text: b[j]!, aLine: i, bLine: j++ });
    else ops.push({ kind: "-", text: a[i]!, aLine: i++, bLine: j });
  }
  return ops;
}

// The closing line of the rich format, e.g. `error: 3 errors and 1 warning in
// 2 files`: what a person scrolling back through CI output looks for first.
import type { Diagnostic, Severity } from "../../grammar/diagnostic.js";
import { paint, type Style } from "./display.js";
import { primaryLabel, type SourceIndex } from "./locate.js";

const NOUNS: Record<Severity, [string, string]> = {
  error: ["error", "errors"],
  warning: ["warning", "warnings"],
  info: ["info", "infos"],
};

/** Headed by the worst severity present; files are those of the primary labels. */
export function summaryLine(diags: readonly Diagnostic[], index: SourceIndex, color: boolean): string {
  const counts = countBy(diags);
  const parts = (["error", "warning", "info"] as const)
    .filter((s) => counts[s] > 0)
    .map((s) => plural(counts[s], NOUNS[s]));
  const files = new Set(diags.flatMap((d) => {
    const label = primaryLabel(d);
    return label ? [index.displayPath(label.span.file)] : [];
  }));
  const where = files.size > 0 ? ` in ${plural(files.size, ["file", "files"])}` : "";
  const worst: Severity = counts.error > 0 ? "error" : counts.warning > 0 ? "warning" : "info";
  const style: Style = worst === "error" ? "errorBold" : worst === "warning" ? "warningBold" : "infoBold";
  return paint(worst, style, color) + paint(`: ${joinAnd(parts)}${where}`, "bold", color);
}

function countBy(diags: readonly Diagnostic[]): Record<Severity, number> {
  const counts: Record<Severity, number> = { error: 0, warning: 0, info: 0 };
  for (const d of diags) counts[d.severity]++;
  return counts;
}

function plural(n: number, [one, many]: [string, string]): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** `a`, `a and b`, `a, b and c`. */
function joinAnd(parts: readonly string[]): string {
  if (parts.length <= 1) return parts.join("");
  return `${parts.slice(0, -1).join(", ")} and ${parts[parts.length - 1]}`;
}

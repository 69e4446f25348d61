// `short` format: one line per diagnostic, `file:line:col: severity[code]: message`,
// the shape compilers have printed for decades, so editors' and CI problem
// matchers can pick it up without configuration.
import type { Diagnostic } from "../../grammar/diagnostic.js";
import { primaryLabel, type SourceIndex } from "./locate.js";

export function renderShort(diags: readonly Diagnostic[], index: SourceIndex): string {
  return diags.map((d) => shortLine(d, index) + "\n").join("");
}

function shortLine(d: Diagnostic, index: SourceIndex): string {
  const head = `${d.severity}[${d.code}]: ${oneLine(d.message)}`;
  const label = primaryLabel(d);
  if (!label) return head;
  const { file, start } = index.locate(label.span);
  return start ? `${file}:${start.line}:${start.column}: ${head}` : `${file}: ${head}`;
}

/** Keeps the format one line per diagnostic even if a message has line breaks. */
function oneLine(text: string): string {
  return text.replace(/\r\n|\r|\n/g, " ");
}

// Small builders shared by the renderer tests: sources keyed by file id, spans
// found by searching the text, and the canonical example from the style guide.
import type { Span } from "../../grammar/ast.js";
import type { Diagnostic } from "../../grammar/diagnostic.js";
import { diag } from "../../grammar/diagnostic.js";
import { renderDiagnostics, type RenderFormat, type SourceText } from "../../cli/render/index.js";

export function sourcesOf(files: Record<string, string>): Map<string, SourceText> {
  return new Map(Object.entries(files).map(([file, text]) => [file, { file, text }]));
}

/** Span of the `nth` occurrence (0-based) of `needle` in `text`. */
export function find(file: string, text: string, needle: string, nth = 0): Span {
  let at = -1;
  for (let i = 0; i <= nth; i++) {
    at = text.indexOf(needle, at + 1);
    if (at < 0) throw new Error(`${JSON.stringify(needle)} not found`);
  }
  return { file, start: at, end: at + needle.length };
}

export function render(
  diags: readonly Diagnostic[],
  sources: ReadonlyMap<string, SourceText>,
  format: RenderFormat,
  extra: { color?: boolean; rulesHelp?: (code: string) => { title: string; explanation: string } | undefined } = {},
): string {
  return renderDiagnostics(diags, sources, { format, color: extra.color ?? false, toolVersion: "0.1.0", ...extra });
}

// ---- the style guide's example: `adamw8` on line 14, column 15

export const ALPAGASUS_FILE = "recipes/alpagasus.tune";

export const ALPAGASUS = [
  "# Alpagasus: instruction tuning on a filtered Alpaca subset.",
  "",
  "model base {",
  '  from = "hf:TinyLlama/TinyLlama-1.1B"',
  "  dtype = bf16",
  "}",
  "",
  "data alpaca {",
  '  from = "hf:yahma/alpaca-cleaned"',
  "  filter = score > 4.5",
  "}",
  "",
  "train sft {",
  "  optimizer = adamw8(lr = 3e-4)",
  "  epochs = 3",
  "}",
  "",
].join("\n");

export function unknownOptimizer(): Diagnostic {
  return diag("T2003", "error", "unknown optimizer `adamw8`", find(ALPAGASUS_FILE, ALPAGASUS, "adamw8"), "not a known optimizer", {
    help: "did you mean `adamw`?",
  });
}

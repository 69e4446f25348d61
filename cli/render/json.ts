// `json` format: diagnostics as a stable JSON array for tools and tests. Keys
// are always present and in a fixed order; unknown things are null, never
// missing. Lines and columns are 1-based, columns in UTF-16 code units;
// `offset` is the span's own UTF-16 offset.
import type { Span } from "../../grammar/ast.js";
import type { Diagnostic, Severity } from "../../grammar/diagnostic.js";
import { primaryLabel, type SourceIndex } from "./locate.js";

export interface JsonPosition {
  /** Null when the file's text was not given to the renderer. */
  readonly line: number | null;
  readonly column: number | null;
  readonly offset: number;
}

export interface JsonLabel {
  readonly file: string;
  readonly start: JsonPosition;
  readonly end: JsonPosition;
  readonly message: string;
  readonly primary: boolean;
}

export interface JsonDiagnostic {
  readonly code: string;
  readonly severity: Severity;
  readonly message: string;
  /** Where the primary label points; null for a diagnostic without labels. */
  readonly file: string | null;
  readonly start: JsonPosition | null;
  readonly end: JsonPosition | null;
  readonly labels: readonly JsonLabel[];
  readonly notes: readonly string[];
  readonly help: string | null;
}

export function renderJson(diags: readonly Diagnostic[], index: SourceIndex): string {
  return JSON.stringify(toJson(diags, index), null, 2) + "\n";
}

export function toJson(diags: readonly Diagnostic[], index: SourceIndex): JsonDiagnostic[] {
  return diags.map((d) => jsonDiagnostic(d, index));
}

function jsonDiagnostic(d: Diagnostic, index: SourceIndex): JsonDiagnostic {
  const labels = d.labels.map((l) => ({ ...jsonRange(l.span, index), message: l.message, primary: l.primary }));
  const primary = primaryLabel(d);
  const where = primary ? jsonRange(primary.span, index) : { file: null, start: null, end: null };
  return {
    code: d.code,
    severity: d.severity,
    message: d.message,
    file: where.file,
    start: where.start,
    end: where.end,
    labels,
    notes: [...d.notes],
    help: d.help,
  };
}

function jsonRange(span: Span, index: SourceIndex): { file: string; start: JsonPosition; end: JsonPosition } {
  const { file, start, end } = index.locate(span);
  return {
    file,
    start: { line: start?.line ?? null, column: start?.column ?? null, offset: span.start },
    end: { line: end?.line ?? null, column: end?.column ?? null, offset: span.end },
  };
}

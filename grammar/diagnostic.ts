// Diagnostics are data: every pass returns them next to its value, and only the
// CLI edge renders them (rich, short, JSON, SARIF, GitHub). Defined here, at the
// bottom of the dependency order, so the grammar can report syntax errors too.
import type { Span } from "./ast.js";

export type Severity = "error" | "warning" | "info";

export interface Label {
  readonly span: Span;
  readonly message: string;
  readonly primary: boolean;
}

export interface Diagnostic {
  /** Stable code: T1xxx syntax, T2xxx names, T3xxx types/values, T4xxx cross-stage and graph, T5xxx data. */
  readonly code: string;
  readonly severity: Severity;
  /** Present tense, stands on its own. */
  readonly message: string;
  readonly labels: readonly Label[];
  readonly notes: readonly string[];
  readonly help: string | null;
}

export interface Result<T> {
  readonly value: T;
  readonly diagnostics: readonly Diagnostic[];
}

export function diag(
  code: string,
  severity: Severity,
  message: string,
  span: Span,
  label = "",
  extra: { help?: string | null; notes?: string[]; secondary?: { span: Span; message: string }[] } = {},
): Diagnostic {
  const labels: Label[] = [{ span, message: label, primary: true }];
  for (const s of extra.secondary ?? []) labels.push({ span: s.span, message: s.message, primary: false });
  return { code, severity, message, labels, notes: extra.notes ?? [], help: extra.help ?? null };
}

export function hasErrors(diagnostics: readonly Diagnostic[]): boolean {
  return diagnostics.some((d) => d.severity === "error");
}

// Shared state of the check pass: every top-level block checked once, found
// again by its AST node when another block refers to it, plus small accessors
// that apply spec defaults so rules read like the recipe does.
import type { Block, Span } from "../../grammar/ast.js";
import { diag, type Diagnostic, type Severity } from "../../grammar/diagnostic.js";
import type { Program, SymbolDef } from "../resolve.js";
import type { CheckedBlock } from "./blocks.js";
import type { Value } from "./values.js";

export class CheckContext {
  readonly byNode = new Map<Block, CheckedBlock>();

  constructor(
    readonly program: Program,
    readonly diagnostics: Diagnostic[],
  ) {}

  report(code: string, severity: Severity, message: string, span: Span, label: string, extra: Parameters<typeof diag>[5] = {}): void {
    this.diagnostics.push(diag(code, severity, message, span, label, extra));
  }

  blockOf(sym: SymbolDef): CheckedBlock | undefined {
    return this.byNode.get(sym.block);
  }

  /** The checked block a `ref` value points at. */
  target(v: Value | undefined): CheckedBlock | undefined {
    return v && v.k === "ref" ? this.byNode.get(v.symbol.block) : undefined;
  }
}

// ---- accessors with spec defaults

export function attr(b: CheckedBlock, key: string): Value | undefined {
  return b.attrs.get(key);
}

export function numAttr(b: CheckedBlock, key: string): number | undefined {
  const v = b.attrs.get(key);
  if (v?.k === "number") return v.value;
  const d = b.spec.attrs[key]?.default;
  return typeof d === "number" ? d : undefined;
}

export function strAttr(b: CheckedBlock, key: string): string | undefined {
  const v = b.attrs.get(key);
  if (v && (v.k === "string" || v.k === "enum" || v.k === "name")) return v.value;
  const d = b.spec.attrs[key]?.default;
  return typeof d === "string" ? d : undefined;
}

export function boolAttr(b: CheckedBlock, key: string): boolean {
  const v = b.attrs.get(key);
  if (v?.k === "bool") return v.value;
  return b.spec.attrs[key]?.default === true;
}

export function spanOf(b: CheckedBlock, key: string): Span {
  return b.attrs.get(key)?.span ?? b.keySpans.get(key) ?? b.node.type.span;
}

export function label(b: CheckedBlock): string {
  return b.name ? `${b.kind} \`${b.name}\`` : `the ${b.kind} block`;
}

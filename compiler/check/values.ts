// Checking one expression against the type a spec expects, producing a typed
// `Value`. Names are looked up here because only the expected type says whether
// `nf4` is an enum value or `alpaca` a reference to a template.
import type { Expr, RefExpr, Span, Unit } from "../../grammar/ast.js";
import { diag, type Diagnostic } from "../../grammar/diagnostic.js";
import type { Module, Program, SymbolDef } from "../resolve.js";
import { describeType, type SymbolKind, type ValueType } from "../schema/types.js";
import { didYouMean } from "../suggest.js";

export type Value =
  | { readonly k: "number"; readonly value: number; readonly unit: Unit | null; readonly span: Span }
  | { readonly k: "string"; readonly value: string; readonly span: Span }
  | { readonly k: "bool"; readonly value: boolean; readonly span: Span }
  | { readonly k: "none"; readonly span: Span }
  | { readonly k: "enum"; readonly value: string; readonly span: Span }
  | { readonly k: "ref"; readonly symbol: SymbolDef; readonly span: Span }
  | { readonly k: "list"; readonly items: readonly Value[]; readonly span: Span }
  | { readonly k: "range"; readonly lo: number; readonly hi: number; readonly span: Span }
  | { readonly k: "expr"; readonly expr: Expr; readonly span: Span }
  | { readonly k: "name"; readonly value: string; readonly span: Span };

export class ValueChecker {
  constructor(
    readonly program: Program,
    readonly diagnostics: Diagnostic[],
  ) {}

  check(expr: Expr, type: ValueType, mod: Module, what: string): Value | null {
    if (expr.kind === "error") return null;
    switch (type.t) {
      case "number":
        return this.number(expr, type, what);
      case "string":
        if (expr.kind === "string") return { k: "string", value: expr.value, span: expr.span };
        return this.mismatch(expr, type, what);
      case "bool":
        if (expr.kind === "bool") return { k: "bool", value: expr.value, span: expr.span };
        return this.mismatch(expr, type, what);
      case "enum":
        return this.enumValue(expr, type.values, what);
      case "ref":
        return this.reference(expr, type.kinds, mod, what);
      case "list":
        return this.list(expr, type, mod, what);
      case "range":
        return this.range(expr, what);
      case "oneOf":
        return this.oneOf(expr, type.of, mod, what);
      case "rowExpr":
        return { k: "expr", expr, span: expr.span };
      case "field":
        if (expr.kind === "ref" && expr.path.length === 1) return { k: "name", value: expr.path[0]!.text, span: expr.span };
        if (expr.kind === "string") return { k: "name", value: expr.value, span: expr.span };
        return this.mismatch(expr, type, what);
    }
  }

  private mismatch(expr: Expr, type: ValueType, what: string): null {
    this.diagnostics.push(
      diag("T3001", "error", `${what} expects ${describeType(type)}, found ${describeExpr(expr)}`, expr.span, `expected ${describeType(type)}`, {
        help: unquoteHelp(expr, type),
      }),
    );
    return null;
  }

  private number(expr: Expr, type: Extract<ValueType, { t: "number" }>, what: string): Value | null {
    if (expr.kind !== "number") return this.mismatch(expr, type, what);
    const allowed = type.units ?? [null];
    if (!allowed.includes(expr.unit)) {
      const shown = allowed.map((u) => (u === null ? "a plain number" : "`" + u + "`"));
      const example = allowed.find((u) => u !== null);
      const help =
        expr.unit === null && example
          ? `add a unit (${shown.join(", ")}), e.g. \`${expr.raw}${["%", "k", "M", "B", "T"].includes(example) ? "" : " "}${example}\``
          : `write it with ${shown.join(" or ")}`;
      this.diagnostics.push(
        diag("T3003", "error", `${what} does not take ${expr.unit === null ? "a plain number" : "the unit `" + expr.unit + "`"}`, expr.span, expr.unit === null ? "unit missing" : "unit not allowed here", {
          help,
        }),
      );
      return null;
    }
    const v = expr.value;
    if (type.int && !Number.isInteger(v)) {
      this.diagnostics.push(diag("T3011", "error", `${what} must be a whole number, found ${expr.raw}`, expr.span, "not an integer"));
      return null;
    }
    const tooLow = type.min !== undefined && (type.minExclusive ? v <= type.min : v < type.min);
    const tooHigh = type.max !== undefined && (type.maxExclusive ? v >= type.max : v > type.max);
    if (tooLow || tooHigh || Number.isNaN(v)) {
      this.diagnostics.push(
        diag("T3002", "error", `${what} is out of range: ${expr.raw}`, expr.span, `must be ${rangeText(type)}`),
      );
      return null;
    }
    return { k: "number", value: v, unit: expr.unit, span: expr.span };
  }

  private enumValue(expr: Expr, values: readonly string[], what: string): Value | null {
    const word = expr.kind === "ref" && expr.path.length === 1 ? expr.path[0]!.text : expr.kind === "none" ? "none" : null;
    if (word === null) {
      return this.mismatch(expr, { t: "enum", values }, what);
    }
    if (!values.includes(word)) {
      this.diagnostics.push(
        diag("T3004", "error", `unknown value \`${word}\` for ${what}`, expr.span, `expected ${describeType({ t: "enum", values })}`, {
          help: didYouMean(word, values),
        }),
      );
      return null;
    }
    return { k: "enum", value: word, span: expr.span };
  }

  private list(expr: Expr, type: Extract<ValueType, { t: "list" }>, mod: Module, what: string): Value | null {
    if (expr.kind !== "list") return this.mismatch(expr, type, what);
    if (type.minItems && expr.items.length < type.minItems) {
      const items = `${type.minItems} item${type.minItems === 1 ? "" : "s"}`;
      this.diagnostics.push(diag("T3018", "error", `${what} needs at least ${items}`, expr.span, expr.items.length === 0 ? "empty list" : "too few items"));
      return null;
    }
    const items: Value[] = [];
    for (const item of expr.items) {
      const v = this.check(item, type.of, mod, `an item of ${what}`);
      if (v) items.push(v);
    }
    return { k: "list", items, span: expr.span };
  }

  private range(expr: Expr, what: string): Value | null {
    if (expr.kind !== "range" || expr.lo.kind !== "number" || expr.hi.kind !== "number") {
      return this.mismatch(expr, { t: "range" }, what);
    }
    if (expr.lo.value >= expr.hi.value) {
      this.diagnostics.push(diag("T3012", "error", `${what} is empty: ${expr.lo.raw}..${expr.hi.raw}`, expr.span, "low end must be below high end"));
      return null;
    }
    return { k: "range", lo: expr.lo.value, hi: expr.hi.value, span: expr.span };
  }

  private oneOf(expr: Expr, alts: readonly ValueType[], mod: Module, what: string): Value | null {
    const word = expr.kind === "ref" && expr.path.length === 1 ? expr.path[0]!.text : expr.kind === "none" ? "none" : null;
    for (const alt of alts) {
      if (alt.t === "enum" && word !== null && alt.values.includes(word)) return { k: "enum", value: word, span: expr.span };
    }
    const pick =
      alts.find((a) => a.t === "list" && expr.kind === "list") ??
      alts.find((a) => a.t === "ref" && expr.kind === "ref") ??
      alts.find((a) => a.t === "enum" && expr.kind === "ref") ??
      alts.find((a) => (a.t === "number" && expr.kind === "number") || (a.t === "string" && expr.kind === "string"));
    if (!pick) return this.mismatch(expr, { t: "oneOf", of: alts }, what);
    return this.check(expr, pick, mod, what);
  }

  reference(expr: Expr, kinds: readonly SymbolKind[], mod: Module, what: string): Value | null {
    if (expr.kind !== "ref") return this.mismatch(expr, { t: "ref", kinds }, what);
    const sym = this.lookup(expr, mod, kinds);
    if (!sym) return null;
    if (!kinds.includes(sym.kind as SymbolKind)) {
      this.diagnostics.push(
        diag("T3007", "error", `\`${refText(expr)}\` is a ${sym.kind}, but ${what} expects a ${kinds.join(" or ")}`, expr.span, `this is a ${sym.kind}`, {
          secondary: sym.block.name ? [{ span: sym.block.name.span, message: `${sym.kind} defined here` }] : [],
        }),
      );
      return null;
    }
    return { k: "ref", symbol: sym, span: expr.span };
  }

  /** Look a (possibly dotted) name up in a module's scope; reports T2001 with suggestions. */
  lookup(expr: RefExpr, mod: Module, kinds: readonly SymbolKind[]): SymbolDef | null {
    const [head, ...rest] = expr.path;
    if (!head || !head.text) return null;
    const binding = mod.scope.get(head.text);
    if (binding && binding.kind === "symbol" && rest.length === 0) return binding.symbol;
    if (binding && binding.kind === "namespace" && rest.length === 1) {
      const target = this.program.modules.get(binding.module);
      const sym = target?.symbols.get(rest[0]!.text);
      if (sym) return sym;
      this.unknown(rest[0]!.text, rest[0]!.span, target ? [...target.symbols.values()] : [], kinds, `in \`${binding.module}\``);
      return null;
    }
    if (binding) {
      const help =
        binding.kind === "namespace"
          ? rest.length === 0
            ? `\`${head.text}\` is the module \`${binding.module}\`; name one of its definitions: \`${head.text}.<name>\``
            : `only one level of names: \`${head.text}.${rest[0]!.text}\``
          : `\`${head.text}\` is a ${binding.symbol.kind}; definitions have no members`;
      this.diagnostics.push(diag("T3001", "error", `\`${refText(expr)}\` does not name a definition`, expr.span, "not a definition", { help }));
      return null;
    }
    const visible = [...mod.scope.values()].filter((b) => b.kind === "symbol").map((b) => (b as { symbol: SymbolDef }).symbol);
    this.unknown(head.text, head.span, visible, kinds, "", mod);
    return null;
  }

  private unknown(name: string, span: Span, candidates: SymbolDef[], kinds: readonly SymbolKind[], where: string, mod?: Module): void {
    const sameKind = candidates.filter((c) => kinds.includes(c.kind as SymbolKind)).map((c) => c.name);
    let help = didYouMean(name, sameKind.length > 0 ? sameKind : candidates.map((c) => c.name));
    if (mod) {
      const sym = this.program.stdSymbol(name);
      if (sym) help = `\`${name}\` is a ${sym.kind} in ${sym.module}; add \`import { ${name} } from "${sym.module}"\``;
    }
    const kindText = kinds.length > 0 ? kinds.join(" or ") : "definition";
    this.diagnostics.push(diag("T2001", "error", `unknown ${kindText} \`${name}\`${where ? " " + where : ""}`, span, `no ${kindText} with this name`, { help }));
  }
}

/** `from = "base"`, `lr = "2e-4"`: the quotes are the mistake. */
function unquoteHelp(expr: Expr, type: ValueType): string | null {
  if (expr.kind !== "string") return null;
  const wantsName = (t: ValueType): boolean => t.t === "ref" || t.t === "enum" || (t.t === "oneOf" && t.of.some(wantsName));
  const wantsNumber = (t: ValueType): boolean => t.t === "number" || (t.t === "oneOf" && t.of.some(wantsNumber));
  const v = expr.value.trim();
  if (wantsName(type) && /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$/.test(v)) return `names are written without quotes: \`${v}\``;
  if (wantsNumber(type) && v !== "" && !Number.isNaN(Number(v))) return `numbers are written without quotes: \`${v}\``;
  return null;
}

export function refText(expr: RefExpr): string {
  return expr.path.map((p) => p.text).join(".");
}

function rangeText(t: Extract<ValueType, { t: "number" }>): string {
  const lo = t.min === undefined ? null : (t.minExclusive ? "> " : "≥ ") + t.min;
  const hi = t.max === undefined ? null : (t.maxExclusive ? "< " : "≤ ") + t.max;
  return [lo, hi].filter(Boolean).join(" and ") || "a valid number";
}

export function describeExpr(expr: Expr): string {
  switch (expr.kind) {
    case "number":
      return `the number ${expr.raw}`;
    case "string":
      return "a string";
    case "bool":
      return `\`${expr.value}\``;
    case "none":
      return "`none`";
    case "ref":
      return `the name \`${refText(expr)}\``;
    case "list":
      return "a list";
    case "call":
      return `a call to \`${refText(expr.callee)}\``;
    case "range":
      return "a range";
    default:
      return "an expression";
  }
}

// The source AST: the only IR that still looks like the text. Plain immutable
// data with a span on every node, produced by `toAst` from Chevrotain's CST and
// consumed by the compiler's resolve pass and by the formatter.

/** Half-open [start, end) range of UTF-16 offsets in one file. Line/column are computed only when rendering. */
export interface Span {
  readonly file: string;
  readonly start: number;
  readonly end: number;
}

export interface Name {
  readonly text: string;
  readonly span: Span;
}

export type Unit =
  | "%"
  | "k"
  | "M"
  | "B"
  | "T"
  | "tokens"
  | "steps"
  | "rows"
  | "epochs"
  | "GB"
  | "GiB"
  | "MB"
  | "MiB";

export type Expr =
  | NumberExpr
  | StringExpr
  | BoolExpr
  | NoneExpr
  | RefExpr
  | ListExpr
  | CallExpr
  | BinaryExpr
  | UnaryExpr
  | RangeExpr
  | ErrorExpr;

export interface NumberExpr {
  readonly kind: "number";
  /** The plain value with scale suffixes applied (2k → 2000; 5% → 5, see `unit`). */
  readonly value: number;
  readonly unit: Unit | null;
  readonly raw: string;
  readonly span: Span;
}

export interface StringExpr {
  readonly kind: "string";
  readonly value: string;
  readonly raw: string;
  readonly triple: boolean;
  readonly span: Span;
}

export interface BoolExpr {
  readonly kind: "bool";
  readonly value: boolean;
  readonly span: Span;
}

export interface NoneExpr {
  readonly kind: "none";
  readonly span: Span;
}

/** A name or a dotted path (`alpaca`, `templates.alpaca`). */
export interface RefExpr {
  readonly kind: "ref";
  readonly path: readonly Name[];
  readonly span: Span;
}

export interface ListExpr {
  readonly kind: "list";
  readonly items: readonly Expr[];
  readonly span: Span;
}

export interface Arg {
  readonly name: Name | null;
  readonly value: Expr;
  readonly span: Span;
}

export interface CallExpr {
  readonly kind: "call";
  readonly callee: RefExpr;
  readonly args: readonly Arg[];
  readonly span: Span;
}

export type BinaryOp = "or" | "and" | "==" | "!=" | "<" | "<=" | ">" | ">=" | "+" | "-" | "*" | "/";

export interface BinaryExpr {
  readonly kind: "binary";
  readonly op: BinaryOp;
  readonly left: Expr;
  readonly right: Expr;
  readonly span: Span;
}

export interface UnaryExpr {
  readonly kind: "unary";
  readonly op: "not" | "-";
  readonly operand: Expr;
  readonly span: Span;
}

export interface RangeExpr {
  readonly kind: "range";
  readonly lo: Expr;
  readonly hi: Expr;
  readonly span: Span;
}

/** Stands in for an expression the parser could not read; diagnostics were already reported. */
export interface ErrorExpr {
  readonly kind: "error";
  readonly span: Span;
}

export interface TypeRef {
  readonly name: Name;
  readonly arg: TypeRef | null;
  readonly span: Span;
}

export type Entry = Attribute | Block | Field | Step;

export interface Attribute {
  readonly kind: "attr";
  readonly key: Name;
  readonly value: Expr;
  readonly span: Span;
}

export interface Block {
  readonly kind: "block";
  readonly type: Name;
  readonly name: Name | null;
  readonly entries: readonly Entry[];
  readonly span: Span;
}

/** A typed field declaration inside `fields { … }`: `input: string? = "" from "context"`. */
export interface Field {
  readonly kind: "field";
  readonly name: Name;
  readonly type: TypeRef;
  readonly optional: boolean;
  readonly default: Expr | null;
  readonly from: StringExpr | null;
  readonly span: Span;
}

/** An ordered operation inside a block: `filter(score >= 4.5)`, `task(mmlu, shots = 5)`. */
export interface Step {
  readonly kind: "step";
  readonly op: Name;
  readonly args: readonly Arg[];
  readonly span: Span;
}

export interface Import {
  readonly kind: "import";
  readonly spec: StringExpr;
  readonly alias: Name | null;
  /** `import { a, b } from "…"` lists names; `import "…" as x` does not. */
  readonly names: readonly Name[] | null;
  readonly span: Span;
}

export interface CommentTrivia {
  readonly text: string;
  readonly span: Span;
}

export interface SourceFile {
  readonly file: string;
  readonly imports: readonly Import[];
  readonly blocks: readonly Block[];
  readonly comments: readonly CommentTrivia[];
  readonly span: Span;
}

export function spanCover(file: string, a: Span, b: Span): Span {
  return { file, start: Math.min(a.start, b.start), end: Math.max(a.end, b.end) };
}

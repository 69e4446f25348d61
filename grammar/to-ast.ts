// CST → AST. The one place that knows Chevrotain's tree shape and its inclusive
// end offsets; everything after this sees half-open spans. It must accept the
// partial trees that error recovery produces (missing children, inserted tokens)
// and still return a usable AST, so later passes can report more errors.
import type { CstElement, CstNode, IToken } from "chevrotain";
import type * as A from "./ast.js";
import { parseNumberLiteral, unescapeString } from "./literals.js";

type Children = Record<string, CstElement[] | undefined>;

function isToken(e: CstElement | undefined): e is IToken {
  return !!e && (e as IToken).image !== undefined;
}

function isNode(e: CstElement | undefined): e is CstNode {
  return !!e && (e as CstNode).children !== undefined;
}

export class AstBuilder {
  constructor(
    private readonly file: string,
    private readonly textLength: number,
  ) {}

  private tokSpan(t: IToken): A.Span {
    if (Number.isNaN(t.startOffset) || t.isInsertedInRecovery) return this.emptySpanAt(this.textLength);
    return { file: this.file, start: t.startOffset, end: (t.endOffset ?? t.startOffset) + 1 };
  }

  private emptySpanAt(offset: number): A.Span {
    const o = Math.max(0, Math.min(offset, this.textLength));
    return { file: this.file, start: o, end: o };
  }

  private nodeSpan(n: CstNode): A.Span {
    const loc = n.location;
    if (!loc || Number.isNaN(loc.startOffset)) return this.emptySpanAt(this.textLength);
    const end = Number.isNaN(loc.endOffset ?? NaN) ? loc.startOffset : (loc.endOffset as number) + 1;
    return { file: this.file, start: loc.startOffset, end: Math.max(end, loc.startOffset) };
  }

  private tokens(ch: Children, key: string): IToken[] {
    return (ch[key] ?? []).filter(isToken);
  }

  private nodes(ch: Children, key: string): CstNode[] {
    return (ch[key] ?? []).filter(isNode);
  }

  private name(t: IToken | undefined, fallback: A.Span): A.Name {
    if (!t || t.isInsertedInRecovery) return { text: "", span: fallback };
    return { text: t.image, span: this.tokSpan(t) };
  }

  sourceFile(cst: CstNode, comments: IToken[]): A.SourceFile {
    const ch = cst.children as Children;
    const imports = this.nodes(ch, "importDecl").map((n) => this.importDecl(n));
    const blocks = this.nodes(ch, "block").map((n) => this.block(n));
    return {
      file: this.file,
      imports,
      blocks,
      comments: comments.map((c) => ({ text: c.image, span: this.tokSpan(c) })),
      span: { file: this.file, start: 0, end: this.textLength },
    };
  }

  importDecl(n: CstNode): A.Import {
    const ch = n.children as Children;
    const span = this.nodeSpan(n);
    const specTok = this.tokens(ch, "spec")[0];
    const spec: A.StringExpr = specTok
      ? this.stringLit(specTok)
      : { kind: "string", value: "", raw: "", triple: false, span };
    const names = ch.LBrace ? this.tokens(ch, "names").map((t) => this.name(t, span)) : null;
    const aliasTok = this.tokens(ch, "alias")[0];
    return { kind: "import", spec, alias: aliasTok ? this.name(aliasTok, span) : null, names, span };
  }

  block(n: CstNode): A.Block {
    const ch = n.children as Children;
    const span = this.nodeSpan(n);
    const type = this.name(this.tokens(ch, "type")[0], span);
    const nameTok = this.tokens(ch, "name")[0];
    const entries = this.nodes(ch, "entry").flatMap((e) => this.entry(e));
    return { kind: "block", type, name: nameTok ? this.name(nameTok, span) : null, entries, span };
  }

  entry(n: CstNode): A.Entry[] {
    const ch = n.children as Children;
    const attr = this.nodes(ch, "attribute")[0] ?? this.nodes(ch, "bareAttribute")[0];
    if (attr) return [this.attribute(attr)];
    const field = this.nodes(ch, "field")[0];
    if (field) return [this.field(field)];
    const step = this.nodes(ch, "step")[0];
    if (step) return [this.step(step)];
    const block = this.nodes(ch, "block")[0];
    if (block) return [this.block(block)];
    return [];
  }

  attribute(n: CstNode): A.Attribute {
    const ch = n.children as Children;
    const span = this.nodeSpan(n);
    return {
      kind: "attr",
      key: this.name(this.tokens(ch, "key")[0], span),
      value: this.exprOr(this.nodes(ch, "value")[0], span),
      span,
    };
  }

  field(n: CstNode): A.Field {
    const ch = n.children as Children;
    const span = this.nodeSpan(n);
    const typeNode = this.nodes(ch, "typeRef")[0];
    const fromTok = this.tokens(ch, "source")[0];
    const def = this.nodes(ch, "default")[0];
    return {
      kind: "field",
      name: this.name(this.tokens(ch, "name")[0], span),
      type: typeNode ? this.typeRef(typeNode) : { name: { text: "", span }, arg: null, span },
      optional: this.tokens(ch, "Question").length > 0,
      default: def ? this.expr(def) : null,
      from: fromTok ? this.stringLit(fromTok) : null,
      span,
    };
  }

  typeRef(n: CstNode): A.TypeRef {
    const ch = n.children as Children;
    const span = this.nodeSpan(n);
    const arg = this.nodes(ch, "arg")[0];
    return { name: this.name(this.tokens(ch, "name")[0], span), arg: arg ? this.typeRef(arg) : null, span };
  }

  step(n: CstNode): A.Step {
    const ch = n.children as Children;
    const span = this.nodeSpan(n);
    const argList = this.nodes(ch, "argList")[0];
    return { kind: "step", op: this.name(this.tokens(ch, "op")[0], span), args: argList ? this.args(argList) : [], span };
  }

  args(n: CstNode): A.Arg[] {
    return this.nodes(n.children as Children, "arg").map((a) => {
      const ch = a.children as Children;
      const span = this.nodeSpan(a);
      const nameTok = this.tokens(ch, "name")[0];
      return { name: nameTok ? this.name(nameTok, span) : null, value: this.exprOr(this.nodes(ch, "value")[0], span), span };
    });
  }

  private exprOr(n: CstNode | undefined, span: A.Span): A.Expr {
    return n ? this.expr(n) : { kind: "error", span: { file: this.file, start: span.end, end: span.end } };
  }

  expr(n: CstNode): A.Expr {
    switch (n.name) {
      case "expr":
      case "andExpr":
      case "compareExpr":
      case "addExpr":
      case "mulExpr":
        return this.binaryChain(n);
      case "rangeExpr":
        return this.range(n);
      case "notExpr":
      case "unaryExpr":
        return this.unary(n);
      case "primary":
        return this.primary(n);
      default:
        return { kind: "error", span: this.nodeSpan(n) };
    }
  }

  private binaryChain(n: CstNode): A.Expr {
    const ch = n.children as Children;
    const operands = this.nodes(ch, "operands").map((o) => this.expr(o));
    const ops = this.tokens(ch, "ops");
    if (operands.length === 0) return { kind: "error", span: this.nodeSpan(n) };
    let acc = operands[0]!;
    for (let i = 1; i < operands.length; i++) {
      const right = operands[i]!;
      const op = (ops[i - 1]?.image ?? "+") as A.BinaryOp;
      acc = { kind: "binary", op, left: acc, right, span: { file: this.file, start: acc.span.start, end: right.span.end } };
    }
    return acc;
  }

  private range(n: CstNode): A.Expr {
    const operands = this.nodes(n.children as Children, "operands").map((o) => this.expr(o));
    if (operands.length === 0) return { kind: "error", span: this.nodeSpan(n) };
    if (operands.length === 1) return operands[0]!;
    const [lo, hi] = operands as [A.Expr, A.Expr];
    return { kind: "range", lo, hi, span: { file: this.file, start: lo.span.start, end: hi.span.end } };
  }

  private unary(n: CstNode): A.Expr {
    const ch = n.children as Children;
    const operandNode = this.nodes(ch, "operand")[0];
    const operand = operandNode ? this.expr(operandNode) : ({ kind: "error", span: this.nodeSpan(n) } as A.Expr);
    const opTok = this.tokens(ch, "Not")[0] ?? this.tokens(ch, "Minus")[0];
    if (!opTok) return operand;
    const span = this.nodeSpan(n);
    if (opTok.image === "-" && operand.kind === "number") {
      return { ...operand, value: -operand.value, raw: "-" + operand.raw, span };
    }
    return { kind: "unary", op: opTok.image === "not" ? "not" : "-", operand, span };
  }

  private primary(n: CstNode): A.Expr {
    const ch = n.children as Children;
    const span = this.nodeSpan(n);
    const num = this.tokens(ch, "NumberLit")[0];
    if (num) return this.numberLit(num);
    const str = this.tokens(ch, "StringLit")[0] ?? this.tokens(ch, "TripleString")[0];
    if (str) return this.stringLit(str);
    if (this.tokens(ch, "True")[0]) return { kind: "bool", value: true, span };
    if (this.tokens(ch, "False")[0]) return { kind: "bool", value: false, span };
    if (this.tokens(ch, "None")[0]) return { kind: "none", span };
    const ref = this.nodes(ch, "refOrCall")[0];
    if (ref) return this.refOrCall(ref);
    const list = this.nodes(ch, "list")[0];
    if (list) {
      const items = this.nodes(list.children as Children, "items").map((i) => this.expr(i));
      return { kind: "list", items, span: this.nodeSpan(list) };
    }
    const inner = this.nodes(ch, "inner")[0];
    if (inner) return this.expr(inner);
    return { kind: "error", span };
  }

  private refOrCall(n: CstNode): A.Expr {
    const ch = n.children as Children;
    const span = this.nodeSpan(n);
    const path = this.tokens(ch, "path")
      .filter((t) => !t.isInsertedInRecovery)
      .map((t) => this.name(t, span));
    const lastName = path[path.length - 1];
    const refSpan: A.Span = lastName ? { file: this.file, start: span.start, end: lastName.span.end } : span;
    const callee: A.RefExpr = { kind: "ref", path, span: refSpan };
    const argList = this.nodes(ch, "argList")[0];
    if (!argList) return callee;
    return { kind: "call", callee, args: this.args(argList), span };
  }

  private numberLit(t: IToken): A.NumberExpr {
    const { value, unit } = parseNumberLiteral(t.image);
    return { kind: "number", value, unit, raw: t.image, span: this.tokSpan(t) };
  }

  stringLit(t: IToken): A.StringExpr {
    // Unclosed strings (reported by parse.ts) lack their closing quotes.
    const closed = t.tokenType.name !== "UnclosedString" && t.tokenType.name !== "UnclosedTriple";
    const triple = t.image.startsWith('"""');
    const body = triple ? t.image.slice(3, closed ? -3 : undefined) : t.image.slice(1, closed ? -1 : undefined);
    const value = triple ? tripleBody(body) : unescapeString(body);
    return { kind: "string", value, raw: t.image, triple, span: this.tokSpan(t) };
  }
}

/** A triple-quoted string is raw; one newline right after the opening quotes is not part of the value. */
function tripleBody(inner: string): string {
  let body = inner;
  if (body.startsWith("\r\n")) body = body.slice(2);
  else if (body.startsWith("\n")) body = body.slice(1);
  return body;
}

// The canonical formatter behind `tune fmt`: one layout for every recipe, so
// diffs show changes in meaning and never in style. It prints from the AST (not
// from tokens), re-inserting only what the AST drops (parentheses, commas) and
// placing comments with format-comments.ts; format-doc.ts does the line fitting.
// It refuses files with syntax errors, and refuses its own output (T1900) if
// re-reading it gives a different AST, token multiset or set of comments.
//
// Canonical layout
// - 2-space indentation, one entry per line. Blocks print as `kind name {` …
//   `}`; a block with nothing inside is `kind name {}`.
// - Top level: imports first, in source order, one per line with no blank line
//   between them; then one blank line; then blocks separated by one blank line.
//   (Imports written below a block move up with the comments above them.)
// - Inside a block (and inside a list or call printed one item per line): an
//   empty line the user left between entries is kept, runs collapse to one, and
//   none are kept right after the opener or before the closer.
// - `key = value`; fields `name: type? = default from "src"`; steps
//   `op(a, b = c)`; `import "x" as y`; `import { a, b } from "x"`.
// - Binary operators with one space each side; `not x`; `-x`; ranges `0..5`.
// - A list, call argument list or import name list stays on one line if the
//   whole line fits in 100 columns (trailing comments are not counted), else it
//   prints one item per line with a trailing comma. Outer brackets break first.
//   Other expressions never break, so a very long `a + b + …` may pass column 100.
// - Literals: numbers keep their text except that the blank before a unit word
//   becomes one space (`256   tokens` → `256 tokens`); strings keep their text
//   exactly, triple-quoted ones byte for byte (never re-indented, and any blanks
//   at the end of their inner lines stay: they are part of the value).
// - Parentheses only where precedence requires them, from loosest to tightest:
//   or < and < not < comparison < range < + - < * / < unary minus. Chains are
//   left-associative; comparison and range do not chain.
// - Comments are all kept, with trailing blanks removed: an own-line comment
//   stays above the item it precedes (at that item's indentation); a comment at
//   the end of a line stays at the end of that item's line after one space; one
//   after an opener (`{`, `[`, `(`) stays on the opener's line; comments before
//   a closer stay inside it; comments at the end of the file stay at the end.
//   Comments in the middle of an expression move above the entry or list item
//   that contains them, and a list or call with a comment inside always breaks.
// - Output has no trailing blanks and ends with exactly one newline (an empty
//   file stays empty); line breaks are `\n`.
import type * as A from "./ast.js";
import { diag, hasErrors, type Diagnostic } from "./diagnostic.js";
import { CommentPool, commentText, placeComments, type Placed, type Sequence } from "./format-comments.js";
import { render, BLANK, HARD, LINE, SOFT, group, ifBreak, indent, suffix, type Doc } from "./format-doc.js";
import { parseSource } from "./parse.js";
import { NumberLit, tuneLexer } from "./tokens.js";

export type FormatResult = { ok: true; text: string } | { ok: false; diagnostics: Diagnostic[] };

/** The canonical text of `text`, or the reasons it cannot be formatted (syntax errors first of all). */
export function formatSource(file: string, text: string): FormatResult {
  const parsed = parseSource(file, text);
  if (hasErrors(parsed.diagnostics)) return { ok: false, diagnostics: [...parsed.diagnostics] };
  const out = new Printer(text, parsed.value).print();
  const problem = checkOutput(file, parsed.value, text, out);
  if (problem) return { ok: false, diagnostics: [problem] };
  return { ok: true, text: out };
}

const WIDTH = 100;

const BINARY_PREC: Record<A.BinaryOp, number> = {
  or: 1,
  and: 2,
  "==": 4,
  "!=": 4,
  "<": 4,
  "<=": 4,
  ">": 4,
  ">=": 4,
  "+": 6,
  "-": 6,
  "*": 7,
  "/": 7,
};
const NOT_PREC = 3;
const COMPARE_PREC = 4;
const RANGE_PREC = 5;
const NEG_PREC = 8;
const ATOM_PREC = 9;

/** How tightly an expression binds, on the scale of BINARY_PREC. */
function precedence(e: A.Expr): number {
  switch (e.kind) {
    case "binary":
      return BINARY_PREC[e.op];
    case "unary":
      return e.op === "not" ? NOT_PREC : NEG_PREC;
    case "range":
      return RANGE_PREC;
    case "number":
      return e.raw.startsWith("-") ? NEG_PREC : ATOM_PREC;
    default:
      return ATOM_PREC;
  }
}

/** `256\t tokens` → `256 tokens`; everything else about a number's text is the user's. */
function normalizeNumber(raw: string): string {
  return raw.replace(/[ \t]+/g, " ");
}

type TopItem = A.Import | A.Block;

/** A top-level item with the own-line comments above it. */
interface Chunk {
  readonly isImport: boolean;
  units: Placed<TopItem, Doc>[];
}

/**
 * When imports written below the first block move up, the comments above that
 * block up to its last empty line are the file's header and stay at the top.
 */
function splitFileHeader(chunks: Chunk[]): Placed<TopItem, Doc>[] {
  const first = chunks[0];
  if (!first || first.isImport || !chunks.some((c) => c.isImport)) return [];
  let cut = 0;
  first.units.forEach((u, i) => {
    if (i > 0 && u.blankBefore) cut = i;
  });
  const header = first.units.slice(0, cut);
  first.units = first.units.slice(cut);
  return header;
}

/** Turns one parsed file into its canonical text. Single use: it hands out the file's comments as it goes. */
class Printer {
  private readonly pool: CommentPool;

  constructor(
    private readonly text: string,
    private readonly source: A.SourceFile,
  ) {
    this.pool = new CommentPool(text, source.comments);
  }

  print(): string {
    const parts = this.file();
    // Every comment lies in some sequence's region, so this stays empty; it is
    // here so that a placement bug can misplace a comment but never drop one.
    const leftovers = this.pool.takeRest().map(commentText);
    if (leftovers.length > 0) parts.push(parts.length > 0 ? HARD : "", join(HARD, leftovers));
    const out = render(parts, WIDTH);
    return out === "" ? "" : out + "\n";
  }

  // ---- top level

  private file(): Doc[] {
    const items: TopItem[] = [...this.source.imports, ...this.source.blocks].sort((a, b) => a.span.start - b.span.start);
    const seq = placeComments(this.pool, items, (i) => i.span, (i) => this.topItem(i), {
      headerFrom: null,
      start: 0,
      end: this.text.length,
    });
    const chunks: Chunk[] = [];
    let pending: Placed<TopItem, Doc>[] = [];
    for (const u of seq.units) {
      pending.push(u);
      if (u.kind === "item") {
        chunks.push({ isImport: u.item.kind === "import", units: pending });
        pending = [];
      }
    }
    const parts: Doc[] = [];
    const append = (doc: Doc, sep: Doc): void => {
      if (parts.length > 0) parts.push(sep);
      parts.push(doc);
    };
    const header = splitFileHeader(chunks);
    if (header.length > 0) append(this.units(header, HARD), "");
    const ordered = [...chunks.filter((c) => c.isImport), ...chunks.filter((c) => !c.isImport)];
    ordered.forEach((chunk, i) => {
      append(this.units(chunk.units, HARD), i > 0 && chunk.isImport && ordered[i - 1]!.isImport ? HARD : [BLANK, HARD]);
    });
    if (pending.length > 0) append(this.units(pending, HARD), pending[0]!.blankBefore ? [BLANK, HARD] : HARD);
    return parts;
  }

  private topItem(item: TopItem): Doc {
    return item.kind === "import" ? this.importDecl(item) : this.block(item);
  }

  private importDecl(imp: A.Import): Doc {
    if (imp.names) {
      const names = join([",", LINE], imp.names.map((n) => n.text));
      return group(["import {", indent([LINE, names]), ifBreak(","), LINE, "} from ", imp.spec.raw]);
    }
    return imp.alias ? ["import ", imp.spec.raw, " as ", imp.alias.text] : ["import ", imp.spec.raw];
  }

  // ---- sequences

  /**
   * Units one per `line`: own-line comments as they are, items with their hoisted
   * comments above, `sep(isLastItem)` after, and their end-of-line comment.
   * The first unit is preceded by nothing; callers add the opener's line.
   */
  private units<T>(units: readonly Placed<T, Doc>[], line: Doc, sep: (last: boolean) => Doc = () => ""): Doc[] {
    let lastItem = -1;
    units.forEach((u, i) => {
      if (u.kind === "item") lastItem = i;
    });
    const out: Doc[] = [];
    units.forEach((u, i) => {
      if (i > 0) out.push(u.blankBefore ? [BLANK, line] : line);
      if (u.kind === "comment") {
        out.push(u.text);
        return;
      }
      const hoisted = u.hoisted.map((h) => [h, HARD]);
      out.push([hoisted, u.value, sep(i === lastItem), u.trailing ? suffix(" " + u.trailing) : ""]);
    });
    return out;
  }

  /** A bracketed sequence (list, arguments): flat if it fits and holds no comment, else one unit per line. */
  private bracketed<T>(
    open: string,
    close: string,
    items: readonly T[],
    spanOf: (item: T) => A.Span,
    build: (item: T) => Doc,
    headerFrom: number,
    closer: number,
  ): Doc {
    const force = this.pool.within(headerFrom, closer);
    const seq = placeComments(this.pool, items, spanOf, build, { headerFrom, start: headerFrom, end: closer });
    if (seq.units.length === 0 && seq.header === null) return open + close;
    const body = this.units(seq.units, LINE, (last) => (last ? ifBreak(",") : ","));
    const inner = body.length > 0 ? indent([SOFT, body]) : "";
    return group([open, this.header(seq), inner, SOFT, close], force);
  }

  private header(seq: Sequence<unknown, Doc>): Doc {
    return seq.header === null ? "" : suffix(" " + seq.header);
  }

  // ---- blocks and entries

  private block(b: A.Block): Doc {
    const head = b.name ? `${b.type.text} ${b.name.text}` : b.type.text;
    const headerFrom = (b.name ?? b.type).span.end;
    const seq = placeComments(this.pool, b.entries, (e) => e.span, (e) => this.entry(e), {
      headerFrom,
      start: headerFrom,
      end: b.span.end - 1,
    });
    if (seq.units.length === 0 && seq.header === null) return head + " {}";
    const inner = seq.units.length > 0 ? indent([HARD, this.units(seq.units, HARD)]) : "";
    return [head, " {", this.header(seq), inner, HARD, "}"];
  }

  private entry(e: A.Entry): Doc {
    switch (e.kind) {
      case "attr":
        return [e.key.text, " = ", this.expr(e.value)];
      case "field":
        return this.field(e);
      case "step":
        return [e.op.text, this.args(e.args, e.op.span.end, e.span.end - 1)];
      case "block":
        return this.block(e);
    }
  }

  private field(f: A.Field): Doc {
    return [
      f.name.text,
      ": ",
      typeRef(f.type),
      f.optional ? "?" : "",
      f.default ? [" = ", this.expr(f.default)] : "",
      f.from ? [" from ", f.from.raw] : "",
    ];
  }

  private args(args: readonly A.Arg[], headerFrom: number, closer: number): Doc {
    const build = (a: A.Arg): Doc => (a.name ? [a.name.text, " = ", this.expr(a.value)] : this.expr(a.value));
    return this.bracketed("(", ")", args, (a) => a.span, build, headerFrom, closer);
  }

  // ---- expressions

  private expr(e: A.Expr): Doc {
    switch (e.kind) {
      case "number":
        return normalizeNumber(e.raw);
      case "string":
        return e.raw;
      case "bool":
        return e.value ? "true" : "false";
      case "none":
        return "none";
      case "ref":
        return refText(e);
      case "list":
        return this.bracketed("[", "]", e.items, (x) => x.span, (x) => this.expr(x), e.span.start + 1, e.span.end - 1);
      case "call":
        return [refText(e.callee), this.args(e.args, e.callee.span.end, e.span.end - 1)];
      case "binary":
        return this.binary(e);
      case "unary":
        return [e.op === "not" ? "not " : "-", this.operand(e.operand, e.op === "not" ? NOT_PREC - 1 : NEG_PREC - 1)];
      case "range":
        return [this.operand(e.lo, RANGE_PREC), "..", this.operand(e.hi, RANGE_PREC)];
      case "error":
        return "";
    }
  }

  private binary(e: A.BinaryExpr): Doc {
    const p = BINARY_PREC[e.op];
    // Chains associate to the left; comparisons do not chain at all.
    const leftMax = p === COMPARE_PREC ? p : p - 1;
    return [this.operand(e.left, leftMax), " ", e.op, " ", this.operand(e.right, p)];
  }

  /** An operand, parenthesised when it binds no tighter than `atMost`. */
  private operand(e: A.Expr, atMost: number): Doc {
    const doc = this.expr(e);
    return precedence(e) <= atMost ? ["(", doc, ")"] : doc;
  }
}

function refText(r: A.RefExpr): string {
  return r.path.map((n) => n.text).join(".");
}

function typeRef(t: A.TypeRef): string {
  return t.arg ? `${t.name.text}<${typeRef(t.arg)}>` : t.name.text;
}

function join(sep: Doc, docs: readonly Doc[]): Doc[] {
  return docs.flatMap((d, i) => (i === 0 ? [d] : [sep, d]));
}

// ---- safety net

/**
 * Re-reads the output and refuses it unless it means the same as the input and
 * keeps every comment: a formatter bug must never cost a user their recipe.
 */
function checkOutput(file: string, before: A.SourceFile, text: string, out: string): Diagnostic | null {
  const after = parseSource(file, out);
  const sameTree =
    !hasErrors(after.diagnostics) &&
    sameShape(before.imports, after.value.imports) &&
    sameShape(before.blocks, after.value.blocks) &&
    tokenBag(text) === tokenBag(out);
  const sameComments = commentBag(before) === commentBag(after.value);
  if (sameTree && sameComments) return null;
  const what = sameTree ? "would lose or duplicate a comment" : "would change the meaning of the file";
  const span = { file, start: 0, end: 0 };
  return diag("T1900", "error", `internal formatter error: the formatted text ${what}`, span, "file left unchanged", {
    help: "please report this with the file; `tune fmt` leaves the file as it was",
  });
}

/** Tokens that formatting may add or drop: parentheses and commas. */
const LAYOUT_TOKENS = new Set(["LParen", "RParen", "Comma"]);

/**
 * The file's tokens as a multiset (imports may move), without comments and
 * layout tokens. Catches text the AST does not represent and would silently drop.
 */
function tokenBag(text: string): string {
  const images = tuneLexer
    .tokenize(text)
    .tokens.filter((t) => !LAYOUT_TOKENS.has(t.tokenType.name))
    .map((t) => (t.tokenType === NumberLit ? normalizeNumber(t.image) : t.image));
  return images.sort().join("\u0000");
}

/** Deep equality of AST data ignoring spans; numbers' text is compared with unit spacing normalised. */
function sameShape(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) {
    return typeof a === "number" && typeof b === "number" && Number.isNaN(a) && Number.isNaN(b);
  }
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const x = a as Record<string, unknown>;
  const y = b as Record<string, unknown>;
  const keys = Object.keys(x).filter((k) => k !== "span");
  if (keys.length !== Object.keys(y).filter((k) => k !== "span").length) return false;
  return keys.every((k) => {
    if (k === "raw" && x.kind === "number") return normalizeNumber(String(x[k])) === normalizeNumber(String(y[k]));
    return k in y && sameShape(x[k], y[k]);
  });
}

function commentBag(sf: A.SourceFile): string {
  return JSON.stringify(sf.comments.map((c) => c.text.trimEnd()).sort());
}

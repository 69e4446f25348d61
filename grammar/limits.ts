// Nesting limits. The parser, the checker and the formatter recurse on the
// shape of the input, so a file with thousands of nested brackets (or a
// `not not not …` chain, or a 5,000-term sum) would overflow the call stack and
// crash tune instead of getting a diagnostic. Real recipes nest a handful of
// levels; past these limits parseSource reports T1006 and returns an empty file.
import type { Expr, SourceFile, Block } from "./ast.js";
import type { IToken } from "chevrotain";
import { diag, type Diagnostic } from "./diagnostic.js";

/** Open `{`, `[` and `(` at one point; checked on tokens, before the recursive parser runs. */
export const MAX_NESTING = 64;
/** Consecutive prefix operators (`not`, `-`), which the parser also reads recursively. */
export const MAX_PREFIX_RUN = 64;
/** Depth of one expression tree; long operator chains are flat to parse but deep to walk. */
export const MAX_EXPR_DEPTH = 256;

const HELP = "split it into smaller pieces; recipes rarely nest more than a few levels";

export function tokenNestingProblem(file: string, tokens: readonly IToken[]): Diagnostic | null {
  let depth = 0;
  let run = 0;
  for (const t of tokens) {
    const name = t.tokenType.name;
    if (name === "LBrace" || name === "LBracket" || name === "LParen") depth++;
    else if (name === "RBrace" || name === "RBracket" || name === "RParen") depth = Math.max(0, depth - 1);
    run = name === "Not" || name === "Minus" ? run + 1 : 0;
    const span = { file, start: t.startOffset, end: (t.endOffset ?? t.startOffset) + 1 };
    if (depth > MAX_NESTING) {
      return diag("T1006", "error", `brackets nest more than ${MAX_NESTING} levels deep`, span, `level ${depth}`, { help: HELP });
    }
    if (run > MAX_PREFIX_RUN) {
      return diag("T1006", "error", `more than ${MAX_PREFIX_RUN} \`${t.image}\` operators in a row`, span, "too many in a row", { help: HELP });
    }
  }
  return null;
}

export function exprDepthProblem(sf: SourceFile): Diagnostic | null {
  const exprs: Expr[] = [];
  const blocks: Block[] = [...sf.blocks];
  for (let b = blocks.pop(); b; b = blocks.pop()) {
    for (const e of b.entries) {
      if (e.kind === "attr") exprs.push(e.value);
      else if (e.kind === "step") exprs.push(...e.args.map((a) => a.value));
      else if (e.kind === "field" && e.default) exprs.push(e.default);
      else if (e.kind === "block") blocks.push(e);
    }
  }
  for (const root of exprs) {
    const stack: [Expr, number][] = [[root, 1]];
    for (let top = stack.pop(); top; top = stack.pop()) {
      const [e, depth] = top;
      if (depth > MAX_EXPR_DEPTH) {
        return diag("T1006", "error", `this expression is nested more than ${MAX_EXPR_DEPTH} levels deep`, root.span, "too deep", { help: HELP });
      }
      for (const child of children(e)) stack.push([child, depth + 1]);
    }
  }
  return null;
}

function children(e: Expr): readonly Expr[] {
  switch (e.kind) {
    case "list":
      return e.items;
    case "call":
      return e.args.map((a) => a.value);
    case "binary":
      return [e.left, e.right];
    case "unary":
      return [e.operand];
    case "range":
      return [e.lo, e.hi];
    default:
      return [];
  }
}

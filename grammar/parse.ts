// Text → AST with spans, plus syntax diagnostics (T1xxx). Lexing and parsing
// errors are turned into our own messages here; Chevrotain's wording never
// reaches a user.
import type { CstElement, CstNode, IRecognitionException, IToken, ILexingError } from "chevrotain";
import type { SourceFile, Span } from "./ast.js";
import { diag, type Diagnostic, type Result } from "./diagnostic.js";
import { exprDepthProblem, tokenNestingProblem } from "./limits.js";
import { getParser } from "./parser.js";
import { tuneLexer } from "./tokens.js";
import { AstBuilder } from "./to-ast.js";

const TOKEN_TEXT: Record<string, string> = {
  LBrace: "`{`",
  RBrace: "`}`",
  LBracket: "`[`",
  RBracket: "`]`",
  LParen: "`(`",
  RParen: "`)`",
  Comma: "`,`",
  Equals: "`=`",
  Colon: "`:`",
  Identifier: "a name",
  StringLit: "a string",
  NumberLit: "a number",
  From: "`from`",
  Greater: "`>`",
  EOF: "the end of the file",
};

export function parseSource(file: string, text: string): Result<SourceFile> {
  const lexed = tuneLexer.tokenize(text);
  const diagnostics: Diagnostic[] = lexed.errors.map((e) => lexError(file, text, e));
  const unclosed = lexed.tokens.filter((t) => t.tokenType.name === "UnclosedString" || t.tokenType.name === "UnclosedTriple");
  for (const t of unclosed) diagnostics.push(unclosedString(file, t));
  // An unclosed """ swallows the rest of the file: what the parser says after it is noise.
  const cutoff = unclosed.find((t) => t.tokenType.name === "UnclosedTriple")?.startOffset ?? Infinity;
  const tooDeep = tokenNestingProblem(file, lexed.tokens);
  if (tooDeep) return { value: emptyFile(file, text), diagnostics: [...diagnostics, tooDeep] };
  const parser = getParser();
  parser.input = lexed.tokens;
  const cst = parser.file();
  // A parse error on a line with a lex error, or right after one, is that error's echo
  // (`x = 漢字`: the value the parser misses is the bad text).
  const badLines = new Set(lexed.errors.map((e) => e.line));
  const lineOf = lineFinder(text);
  const afterLexError = (e: IRecognitionException): boolean => {
    const prev = (e as IRecognitionException & { previousToken?: IToken }).previousToken;
    const from = prev && !Number.isNaN(prev.startOffset) ? (prev.endOffset ?? prev.startOffset) + 1 : 0;
    const to = Number.isNaN(e.token.startOffset) ? text.length : e.token.startOffset;
    return lexed.errors.some((l) => l.offset >= from && l.offset <= to);
  };
  for (const e of dedupeParseErrors(parser.errors)) {
    if (e.token.startOffset >= cutoff || (cutoff < Infinity && Number.isNaN(e.token.startOffset))) continue;
    const d = parseError(file, text, e, lexed.tokens);
    if (badLines.size > 0 && (badLines.has(lineOf(d.labels[0]!.span.start)) || afterLexError(e))) continue;
    diagnostics.push(d);
  }
  diagnostics.push(...misplacedItems(file, cst));
  const comments = (lexed.groups["comments"] ?? []) as IToken[];
  const builder = new AstBuilder(file, text.length);
  const value = builder.sourceFile(cst, comments);
  const deepExpr = exprDepthProblem(value);
  if (deepExpr) return { value: emptyFile(file, text), diagnostics: [...diagnostics, deepExpr] };
  return { value, diagnostics };
}

/** 1-based line of an offset (Chevrotain's numbering), by binary search over line starts computed once. */
function lineFinder(text: string): (offset: number) => number {
  let starts: number[] | null = null;
  return (offset) => {
    if (!starts) {
      starts = [0];
      for (let i = 0; i < text.length; i++) {
        const c = text.charCodeAt(i);
        if (c === 10 || (c === 13 && text.charCodeAt(i + 1) !== 10)) starts.push(i + 1);
      }
    }
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    return lo + 1;
  };
}

/** What a file that cannot be processed safely parses to: nothing, so later passes see no half-trees. */
function emptyFile(file: string, text: string): SourceFile {
  return { file, imports: [], blocks: [], comments: [], span: { file, start: 0, end: text.length } };
}

function unclosedString(file: string, t: IToken): Diagnostic {
  if (t.tokenType.name === "UnclosedTriple") {
    return diag("T1003", "error", "this triple-quoted string is not closed before the end of the file", { file, start: t.startOffset, end: t.startOffset + 3 }, "string starts here", {
      help: 'close it with `"""`',
    });
  }
  return diag("T1003", "error", "this string is not closed before the end of the line", { file, start: t.startOffset, end: t.startOffset + 1 }, "string starts here", {
    help: 'close it with `"`, or use `"""…"""` for text that spans lines',
  });
}

/** Items the grammar accepts only to report them well: top-level attributes and unquoted import paths. */
function misplacedItems(file: string, cst: CstNode): Diagnostic[] {
  const out: Diagnostic[] = [];
  const nodes = (n: CstNode, key: string) => (n.children[key] ?? []).filter((c): c is CstNode => "children" in c);
  for (const attr of nodes(cst, "attribute")) {
    const key = (attr.children["key"]?.[0] as IToken | undefined)?.image ?? "";
    out.push(
      diag("T1005", "error", `attribute \`${key}\` is outside any block`, cstSpan(file, attr), "attributes belong inside a block", {
        help: "top-level items are `import …` and blocks such as `model base { … }`; move this line into the block it configures",
      }),
    );
  }
  for (const attr of bareAttributes(cst)) {
    const key = attr.children["key"]?.[0] as IToken | undefined;
    if (!key) continue;
    const end = (key.endOffset ?? key.startOffset) + 1;
    out.push(
      diag("T1002", "error", `expected \`=\` after \`${key.image}\``, { file, start: key.startOffset, end }, "`=` missing after this key", {
        help: `attributes are written \`key = value\`: \`${key.image} = …\``,
      }),
    );
  }
  for (const imp of nodes(cst, "importDecl")) {
    const bare = (imp.children["bare"] ?? []) as IToken[];
    if (bare.length === 0) continue;
    const first = bare[0]!;
    const last = bare[bare.length - 1]!;
    const path = bare.map((t) => t.image).join("");
    out.push(
      diag("T1002", "error", "import paths are quoted strings", { file, start: first.startOffset, end: (last.endOffset ?? last.startOffset) + 1 }, "not quoted", {
        help: `write \`import "${path}"\``,
      }),
    );
  }
  return out;
}

/** `bareAttribute` nodes: they occur only as entries of blocks, so walk blocks and entries, not whole expressions. */
function bareAttributes(n: CstNode, out: CstNode[] = []): CstNode[] {
  const kids = (node: CstNode, key: string) => (node.children[key] ?? []) as CstNode[];
  for (const block of kids(n, "block")) {
    for (const entry of kids(block, "entry")) {
      out.push(...kids(entry, "bareAttribute"));
      bareAttributes(entry, out);
    }
  }
  return out;
}

function cstSpan(file: string, n: CstElement): Span {
  const loc = (n as CstNode).location;
  const start = loc?.startOffset ?? 0;
  const end = loc && loc.endOffset !== undefined && !Number.isNaN(loc.endOffset) ? loc.endOffset + 1 : start;
  return { file, start, end: Math.max(start, end) };
}

function lexError(file: string, text: string, e: ILexingError): Diagnostic {
  const start = e.offset;
  const ch = text[start] ?? "";
  const span: Span = { file, start, end: Math.min(text.length, start + Math.max(1, e.length)) };
  // Show whole code points (an emoji is two UTF-16 units), and the whole run of bad characters.
  const run = [...text.slice(span.start, span.end)];
  const shownRun = run.length > 12 ? run.slice(0, 12).join("") + "…" : run.join("");
  const shown = ch === "" ? "end of input" : JSON.stringify(shownRun).slice(1, -1);
  const what = run.length > 1 ? "characters" : "character";
  return diag("T1001", "error", `unexpected ${what} \`${shown}\``, span, "not part of the language", {
    help: "names use letters, digits and `_`; text goes in double quotes; comments start with `#`",
  });
}

function dedupeParseErrors(errors: IRecognitionException[]): IRecognitionException[] {
  const seen = new Set<number>();
  return errors.filter((e) => {
    const key = e.token.startOffset;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function parseError(file: string, text: string, e: IRecognitionException, tokens: readonly IToken[]): Diagnostic {
  const tok = e.token;
  const atEof = tok.tokenType?.name === "EOF" || Number.isNaN(tok.startOffset);
  const start = atEof ? text.length : tok.startOffset;
  const end = atEof ? text.length : (tok.endOffset ?? tok.startOffset) + 1;
  const span: Span = { file, start, end };
  const found = atEof ? "the end of the file" : `\`${tok.image}\``;
  const expected = /-->\s*(\w+)\s*<--/.exec(e.message)?.[1];
  const rule = e.context?.ruleStack?.[e.context.ruleStack.length - 1] ?? "";
  if (e.name === "MismatchedTokenException" && expected === "RBrace" && atEof) {
    const open = unclosedBrace(tokens);
    return diag("T1004", "error", "a block is not closed before the end of the file", span, "expected `}`", {
      secondary: open ? [{ span: { file, start: open.startOffset, end: open.startOffset + 1 }, message: "this `{` is never closed" }] : [],
      help: "add the missing `}`; `tune fmt` shows the nesting once the file parses",
    });
  }
  const topLevel = e.name === "NotAllInputParsedException" || (e.name === "MismatchedTokenException" && expected === "EOF");
  if (topLevel && tok.image === "}") {
    return diag("T1005", "error", "unexpected `}` at the top level", span, "no block is open here", {
      help: "remove it, or check the braces above: each `{` is closed by exactly one `}`",
    });
  }
  if (topLevel) {
    return diag("T1005", "error", `unexpected ${found} at the top level`, span, "expected `import` or a block", {
      help: "top-level items are `import …` and blocks such as `model base { … }`; attributes go inside a block",
    });
  }
  if (e.name === "MismatchedTokenException" && expected) {
    let want = rule === "typeRef" && expected === "Identifier" ? "a field type" : (TOKEN_TEXT[expected] ?? expected);
    const prev = (e as IRecognitionException & { previousToken?: IToken }).previousToken;
    const lineEnded = !!prev && !Number.isNaN(prev.startOffset) && prev.tokenType?.name !== "EOF" && (atEof || (prev.endLine ?? 0) < (tok.startLine ?? 0));
    // `[a b]`, `f(x y)`: what is missing is as likely the separator as the closer.
    if ((expected === "RBracket" || expected === "RParen") && !lineEnded && !atEof && STARTS_ITEM.has(tok.tokenType.name)) want = "`,` or " + want;
    if (prev && lineEnded) {
      // The line ended without it: point at the end of that line, not at the next line's first token.
      const at: Span = { file, start: prev.startOffset, end: (prev.endOffset ?? prev.startOffset) + 1 };
      return diag("T1002", "error", `expected ${want}, found ${found}`, at, `expected ${want} after this`, { help: hintFor(expected, rule) });
    }
    return diag("T1002", "error", `expected ${want}, found ${found}`, span, `expected ${want} here`, {
      help: hintFor(expected, rule),
    });
  }
  const what = RULE_TEXT[rule] ?? "an entry";
  const prev = (e as IRecognitionException & { previousToken?: IToken }).previousToken;
  if (what === "a value" && prev && !Number.isNaN(prev.startOffset) && (atEof || (prev.endLine ?? 0) < (tok.startLine ?? 0))) {
    // `lr =` and the line ends: point at the `=`, not at the next line's first token.
    const at: Span = { file, start: prev.startOffset, end: (prev.endOffset ?? prev.startOffset) + 1 };
    return diag("T1002", "error", `expected a value after \`${prev.image}\`, found ${found}`, at, "value missing after this", {
      help: "write the value on the same line, e.g. `lr = 2e-4`",
    });
  }
  return diag("T1002", "error", `expected ${what}, found ${found}`, span, `expected ${what}`, {
    help: rule === "entry" || rule === "block"
      ? "an entry is `key = value`, `name: type`, `op(args)` or a nested `kind name { … }`"
      : null,
  });
}

/** The innermost `{` still open at the end of the file, by counting braces. */
function unclosedBrace(tokens: readonly IToken[]): IToken | undefined {
  const open: IToken[] = [];
  for (const t of tokens) {
    if (t.image === "{" && t.tokenType.name === "LBrace") open.push(t);
    else if (t.image === "}" && t.tokenType.name === "RBrace") open.pop();
  }
  return open[open.length - 1];
}

const STARTS_ITEM = new Set(["Identifier", "From", "As", "NumberLit", "StringLit", "TripleString", "UnclosedString", "UnclosedTriple", "True", "False", "None", "LBracket"]);

const RULE_TEXT: Record<string, string> = {
  entry: "an entry",
  block: "a block",
  primary: "a value",
  unaryExpr: "a value",
  expr: "a value",
  importDecl: "a quoted import path or `{ names }`",
  typeRef: "a type",
  file: "`import` or a block",
};

function hintFor(expected: string, rule: string): string | null {
  if (rule === "typeRef") return "`name: type` declares a field (string, int, float, bool, messages, list<T>); a setting is written `key = value`";
  switch (expected) {
    case "Equals":
      return "attributes are written `key = value`";
    case "RParen":
      return "separate arguments with `,` and close the call with `)`";
    case "RBracket":
      return "separate list items with `,` and close the list with `]`";
    case "LBrace":
      return "a block is `kind name { … }`";
    case "StringLit":
      return 'import paths are quoted: `import "std/templates"`';
    default:
      return null;
  }
}

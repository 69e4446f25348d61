// Text → AST with spans, plus syntax diagnostics (T1xxx). Lexing and parsing
// errors are turned into our own messages here; Chevrotain's wording never
// reaches a user.
import type { IRecognitionException, IToken, ILexingError } from "chevrotain";
import type { SourceFile, Span } from "./ast.js";
import { diag, type Diagnostic, type Result } from "./diagnostic.js";
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
  const parser = getParser();
  parser.input = lexed.tokens;
  const cst = parser.file();
  for (const e of dedupeParseErrors(parser.errors)) diagnostics.push(parseError(file, text, e));
  const comments = (lexed.groups["comments"] ?? []) as IToken[];
  const builder = new AstBuilder(file, text.length);
  const value = builder.sourceFile(cst, comments);
  return { value, diagnostics };
}

function lexError(file: string, text: string, e: ILexingError): Diagnostic {
  const start = e.offset;
  const ch = text[start] ?? "";
  const span: Span = { file, start, end: Math.min(text.length, start + Math.max(1, e.length)) };
  if (ch === '"') {
    return diag("T1003", "error", "this string is not closed before the end of the line", { file, start, end: start + 1 }, "string starts here", {
      help: 'close it with `"`, or use `"""…"""` for text that spans lines',
    });
  }
  const shown = ch === "" ? "end of input" : JSON.stringify(ch).slice(1, -1);
  return diag("T1001", "error", `unexpected character \`${shown}\``, span, "not part of the language", {
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

function parseError(file: string, text: string, e: IRecognitionException): Diagnostic {
  const tok = e.token;
  const atEof = tok.tokenType?.name === "EOF" || Number.isNaN(tok.startOffset);
  const start = atEof ? text.length : tok.startOffset;
  const end = atEof ? text.length : (tok.endOffset ?? tok.startOffset) + 1;
  const span: Span = { file, start, end };
  const found = atEof ? "the end of the file" : `\`${tok.image}\``;
  const expected = /-->\s*(\w+)\s*<--/.exec(e.message)?.[1];
  if (e.name === "MismatchedTokenException" && expected === "RBrace" && atEof) {
    return diag("T1004", "error", "a block is not closed before the end of the file", span, "expected `}`", {
      help: "add the missing `}`; `tune fmt` shows the nesting once the file parses",
    });
  }
  if (e.name === "MismatchedTokenException" && expected) {
    const want = TOKEN_TEXT[expected] ?? expected;
    return diag("T1002", "error", `expected ${want}, found ${found}`, span, `expected ${want} here`, {
      help: hintFor(expected),
    });
  }
  if (e.name === "NotAllInputParsedException") {
    return diag("T1005", "error", `unexpected ${found} at the top level`, span, "expected `import` or a block", {
      help: "top-level items are `import …` and blocks such as `model base { … }`; attributes go inside a block",
    });
  }
  const rule = e.context?.ruleStack?.[e.context.ruleStack.length - 1] ?? "";
  const what = RULE_TEXT[rule] ?? "an entry";
  return diag("T1002", "error", `expected ${what}, found ${found}`, span, `expected ${what}`, {
    help: rule === "entry" || rule === "block"
      ? "an entry is `key = value`, `name: type`, `op(args)` or a nested `kind name { … }`"
      : null,
  });
}

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

function hintFor(expected: string): string | null {
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

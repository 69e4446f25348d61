// Tokens of the .tune language. Kept apart from the parser so the formatter and
// the fuzz tests can lex without building a parser. Keywords that users also
// need as attribute keys (`from`, `as`) are "soft": their token category is
// Identifier, so the parser accepts them wherever a name is expected.
import { createToken, Lexer, type TokenType } from "chevrotain";

export const WhiteSpace = createToken({ name: "WhiteSpace", pattern: /[ \t\r\n\f\v\u00a0\ufeff]+/, group: Lexer.SKIPPED });
export const Comment = createToken({ name: "Comment", pattern: /#[^\n\r]*/, group: "comments" });

export const Identifier = createToken({ name: "Identifier", pattern: /[A-Za-z_][A-Za-z0-9_]*/ });

function keyword(name: string, word: string, soft = false): TokenType {
  return createToken({
    name,
    pattern: new RegExp(word),
    longer_alt: Identifier,
    categories: soft ? [Identifier] : [],
  });
}

export const Import = keyword("Import", "import");
export const And = keyword("And", "and");
export const Or = keyword("Or", "or");
export const Not = keyword("Not", "not");
export const True = keyword("True", "true");
export const False = keyword("False", "false");
export const None = keyword("None", "none");
export const From = keyword("From", "from", true);
export const As = keyword("As", "as", true);

// A number with an optional attached scale/percent suffix (5%, 2k, 1.5M, 7B)
// or a separated unit word (256 tokens, 80 GB). The unit is part of the token so
// `tokens` stays usable as an ordinary name elsewhere.
export const NumberLit = createToken({
  name: "NumberLit",
  pattern:
    /(?:\d[\d_]*(?:\.\d+)?|\.\d+)(?:[eE][+-]?\d+)?(?:%|[kKMBT](?![A-Za-z0-9_])|[ \t]+(?:tokens|steps|rows|epochs|GiB|GB|MiB|MB)(?![A-Za-z0-9_]))?/,
});
export const TripleString = createToken({ name: "TripleString", pattern: /"""[\s\S]*?"""/, line_breaks: true });
export const StringLit = createToken({ name: "StringLit", pattern: /"(?:[^"\\\n\r]|\\.)*"/ });
// Strings missing their closing quote(s) still lex as one string token (their
// category is StringLit, so the parser takes them as a value), and parse.ts
// reports T1003. Otherwise the lexer would drop the quote and read the string's
// words as code, burying the one real mistake under a cascade of syntax errors.
export const UnclosedTriple = createToken({ name: "UnclosedTriple", pattern: /"""[\s\S]*/, line_breaks: true, categories: [StringLit] });
export const UnclosedString = createToken({ name: "UnclosedString", pattern: /"(?:[^"\\\n\r]|\\[^\n\r])*\\?/, categories: [StringLit] });

export const LBrace = createToken({ name: "LBrace", pattern: /\{/ });
export const RBrace = createToken({ name: "RBrace", pattern: /\}/ });
export const LBracket = createToken({ name: "LBracket", pattern: /\[/ });
export const RBracket = createToken({ name: "RBracket", pattern: /\]/ });
export const LParen = createToken({ name: "LParen", pattern: /\(/ });
export const RParen = createToken({ name: "RParen", pattern: /\)/ });
export const Comma = createToken({ name: "Comma", pattern: /,/ });
export const DotDot = createToken({ name: "DotDot", pattern: /\.\./ });
export const Dot = createToken({ name: "Dot", pattern: /\./ });
export const Colon = createToken({ name: "Colon", pattern: /:/ });
export const Question = createToken({ name: "Question", pattern: /\?/ });
export const EqEq = createToken({ name: "EqEq", pattern: /==/ });
export const NotEq = createToken({ name: "NotEq", pattern: /!=/ });
export const LessEq = createToken({ name: "LessEq", pattern: /<=/ });
export const GreaterEq = createToken({ name: "GreaterEq", pattern: />=/ });
export const Less = createToken({ name: "Less", pattern: /</ });
export const Greater = createToken({ name: "Greater", pattern: />/ });
export const Equals = createToken({ name: "Equals", pattern: /=/ });
export const Plus = createToken({ name: "Plus", pattern: /\+/ });
export const Minus = createToken({ name: "Minus", pattern: /-/ });
export const Star = createToken({ name: "Star", pattern: /\*/ });
export const Slash = createToken({ name: "Slash", pattern: /\// });

export const allTokens: TokenType[] = [
  WhiteSpace,
  Comment,
  TripleString,
  UnclosedTriple,
  StringLit,
  UnclosedString,
  NumberLit,
  Import,
  And,
  Or,
  Not,
  True,
  False,
  None,
  From,
  As,
  Identifier,
  LBrace,
  RBrace,
  LBracket,
  RBracket,
  LParen,
  RParen,
  Comma,
  DotDot,
  Dot,
  Colon,
  Question,
  EqEq,
  NotEq,
  LessEq,
  GreaterEq,
  Less,
  Greater,
  Equals,
  Plus,
  Minus,
  Star,
  Slash,
];

export const tuneLexer = new Lexer(allTokens, { positionTracking: "full", ensureOptimizations: false });

// The Chevrotain grammar of .tune: rules only, no actions (the CST → AST step
// lives in to-ast.ts). Error recovery is on so one typo does not hide the rest
// of a recipe's mistakes. Keep docs/grammar.ebnf in step with these rules.
import { CstParser, tokenMatcher, type CstNode, type IToken, type TokenType } from "chevrotain";
import * as T from "./tokens.js";

/** Tokens that can only start a value (not a name, not a nested block or step). */
const VALUE_ONLY_START: readonly TokenType[] = [T.NumberLit, T.StringLit, T.TripleString, T.LBracket, T.True, T.False, T.None, T.Minus, T.Not];

function startsValueOnly(tok: IToken): boolean {
  return VALUE_ONLY_START.some((t) => tokenMatcher(tok, t));
}

function sameLine(a: IToken, b: IToken): boolean {
  return a.endLine !== undefined && b.startLine !== undefined && a.endLine === b.startLine;
}

/** Validate the grammar under vitest or when TUNE_VALIDATE_GRAMMAR=1. */
function validateGrammar(): boolean {
  const env = typeof process === "undefined" ? {} : process.env;
  return env["VITEST"] !== undefined || env["TUNE_VALIDATE_GRAMMAR"] === "1";
}

export class TuneParser extends CstParser {
  constructor() {
    // Chevrotain's grammar validations (ambiguities, left recursion) run in the test
    // suite, where any grammar change is exercised; the shipped CLI skips them to start faster.
    super(T.allTokens, { recoveryEnabled: true, nodeLocationTracking: "full", maxLookahead: 3, skipValidations: !validateGrammar() });
    this.performSelfAnalysis();
  }

  public file = this.RULE("file", () => {
    this.MANY(() => {
      this.OR([
        { ALT: () => this.SUBRULE(this.importDecl) },
        // Not valid at the top level: parsed so parse.ts can say so (T1005) instead of "expected `{`".
        { GATE: () => this.LA(2).tokenType === T.Equals, ALT: () => this.SUBRULE(this.attribute) },
        { ALT: () => this.SUBRULE(this.block) },
      ]);
    });
  });

  public importDecl = this.RULE("importDecl", () => {
    this.CONSUME(T.Import);
    this.OR([
      {
        ALT: () => {
          this.CONSUME(T.LBrace);
          this.CONSUME(T.Identifier, { LABEL: "names" });
          this.MANY(() => {
            this.CONSUME(T.Comma);
            this.CONSUME3(T.Identifier, { LABEL: "names" });
          });
          this.OPTION(() => this.CONSUME2(T.Comma));
          this.CONSUME(T.RBrace);
          this.CONSUME(T.From);
          this.CONSUME(T.StringLit, { LABEL: "spec" });
        },
      },
      {
        ALT: () => {
          this.CONSUME2(T.StringLit, { LABEL: "spec" });
          this.OPTION2(() => {
            this.CONSUME(T.As);
            this.CONSUME2(T.Identifier, { LABEL: "alias" });
          });
        },
      },
      {
        // An unquoted path (`import std/templates`), kept to the import's line;
        // parse.ts reports it once instead of a cascade over the path's pieces.
        ALT: () => {
          this.AT_LEAST_ONE({
            GATE: () => sameLine(this.LA(0), this.LA(1)),
            DEF: () => {
              this.OR2([
                { ALT: () => this.CONSUME4(T.Identifier, { LABEL: "bare" }) },
                { ALT: () => this.CONSUME(T.Slash, { LABEL: "bare" }) },
                { ALT: () => this.CONSUME(T.Dot, { LABEL: "bare" }) },
                { ALT: () => this.CONSUME(T.DotDot, { LABEL: "bare" }) },
                { ALT: () => this.CONSUME(T.Minus, { LABEL: "bare" }) },
              ]);
            },
          });
        },
      },
    ]);
  });

  public block = this.RULE("block", () => {
    this.CONSUME(T.Identifier, { LABEL: "type" });
    this.OPTION(() => this.CONSUME2(T.Identifier, { LABEL: "name" }));
    this.CONSUME(T.LBrace);
    this.MANY(() => this.SUBRULE(this.entry));
    this.CONSUME(T.RBrace);
  });

  public entry = this.RULE("entry", () => {
    this.OR([
      { GATE: () => this.LA(2).tokenType === T.Equals, ALT: () => this.SUBRULE(this.attribute) },
      { GATE: () => this.LA(2).tokenType === T.Colon, ALT: () => this.SUBRULE(this.field) },
      { GATE: () => this.LA(2).tokenType === T.LParen, ALT: () => this.SUBRULE(this.step) },
      {
        // `key value` on one line: the `=` is forgotten. Parsed so parse.ts reports one T1002, not a cascade.
        GATE: () => startsValueOnly(this.LA(2)) && sameLine(this.LA(1), this.LA(2)),
        ALT: () => this.SUBRULE(this.bareAttribute),
        IGNORE_AMBIGUITIES: true,
      },
      { ALT: () => this.SUBRULE(this.block) },
    ]);
  });

  public bareAttribute = this.RULE("bareAttribute", () => {
    this.CONSUME(T.Identifier, { LABEL: "key" });
    this.SUBRULE(this.expr, { LABEL: "value" });
  });

  public attribute = this.RULE("attribute", () => {
    this.CONSUME(T.Identifier, { LABEL: "key" });
    this.CONSUME(T.Equals);
    this.SUBRULE(this.expr, { LABEL: "value" });
  });

  public field = this.RULE("field", () => {
    this.CONSUME(T.Identifier, { LABEL: "name" });
    this.CONSUME(T.Colon);
    this.SUBRULE(this.typeRef);
    this.OPTION(() => this.CONSUME(T.Question));
    this.OPTION2(() => {
      this.CONSUME(T.Equals);
      this.SUBRULE(this.expr, { LABEL: "default" });
    });
    this.OPTION3(() => {
      this.CONSUME(T.From);
      this.CONSUME(T.StringLit, { LABEL: "source" });
    });
  });

  public typeRef = this.RULE("typeRef", () => {
    this.CONSUME(T.Identifier, { LABEL: "name" });
    this.OPTION(() => {
      this.CONSUME(T.Less);
      this.SUBRULE(this.typeRef, { LABEL: "arg" });
      this.CONSUME(T.Greater);
    });
  });

  public step = this.RULE("step", () => {
    this.CONSUME(T.Identifier, { LABEL: "op" });
    this.SUBRULE(this.argList);
  });

  public argList = this.RULE("argList", () => {
    this.CONSUME(T.LParen);
    this.OPTION(() => {
      this.SUBRULE(this.arg);
      this.MANY(() => {
        this.CONSUME(T.Comma);
        this.SUBRULE2(this.arg);
      });
      this.OPTION2(() => this.CONSUME2(T.Comma));
    });
    this.CONSUME(T.RParen);
  });

  public arg = this.RULE("arg", () => {
    this.OPTION({
      GATE: () => this.LA(2).tokenType === T.Equals,
      DEF: () => {
        this.CONSUME(T.Identifier, { LABEL: "name" });
        this.CONSUME(T.Equals);
      },
    });
    this.SUBRULE(this.expr, { LABEL: "value" });
  });

  public expr = this.RULE("expr", () => {
    this.SUBRULE(this.andExpr, { LABEL: "operands" });
    this.MANY(() => {
      this.CONSUME(T.Or, { LABEL: "ops" });
      this.SUBRULE2(this.andExpr, { LABEL: "operands" });
    });
  });

  public andExpr = this.RULE("andExpr", () => {
    this.SUBRULE(this.notExpr, { LABEL: "operands" });
    this.MANY(() => {
      this.CONSUME(T.And, { LABEL: "ops" });
      this.SUBRULE2(this.notExpr, { LABEL: "operands" });
    });
  });

  public notExpr = this.RULE("notExpr", () => {
    this.OR([
      {
        ALT: () => {
          this.CONSUME(T.Not);
          this.SUBRULE(this.notExpr, { LABEL: "operand" });
        },
      },
      { ALT: () => this.SUBRULE(this.compareExpr, { LABEL: "operand" }) },
    ]);
  });

  public compareExpr = this.RULE("compareExpr", () => {
    this.SUBRULE(this.rangeExpr, { LABEL: "operands" });
    this.OPTION(() => {
      this.OR([
        { ALT: () => this.CONSUME(T.EqEq, { LABEL: "ops" }) },
        { ALT: () => this.CONSUME(T.NotEq, { LABEL: "ops" }) },
        { ALT: () => this.CONSUME(T.LessEq, { LABEL: "ops" }) },
        { ALT: () => this.CONSUME(T.GreaterEq, { LABEL: "ops" }) },
        { ALT: () => this.CONSUME(T.Less, { LABEL: "ops" }) },
        { ALT: () => this.CONSUME(T.Greater, { LABEL: "ops" }) },
      ]);
      this.SUBRULE2(this.rangeExpr, { LABEL: "operands" });
    });
  });

  public rangeExpr = this.RULE("rangeExpr", () => {
    this.SUBRULE(this.addExpr, { LABEL: "operands" });
    this.OPTION(() => {
      this.CONSUME(T.DotDot);
      this.SUBRULE2(this.addExpr, { LABEL: "operands" });
    });
  });

  public addExpr = this.RULE("addExpr", () => {
    this.SUBRULE(this.mulExpr, { LABEL: "operands" });
    this.MANY(() => {
      this.OR([
        { ALT: () => this.CONSUME(T.Plus, { LABEL: "ops" }) },
        { ALT: () => this.CONSUME(T.Minus, { LABEL: "ops" }) },
      ]);
      this.SUBRULE2(this.mulExpr, { LABEL: "operands" });
    });
  });

  public mulExpr = this.RULE("mulExpr", () => {
    this.SUBRULE(this.unaryExpr, { LABEL: "operands" });
    this.MANY(() => {
      this.OR([
        { ALT: () => this.CONSUME(T.Star, { LABEL: "ops" }) },
        { ALT: () => this.CONSUME(T.Slash, { LABEL: "ops" }) },
      ]);
      this.SUBRULE2(this.unaryExpr, { LABEL: "operands" });
    });
  });

  public unaryExpr = this.RULE("unaryExpr", () => {
    this.OR([
      {
        ALT: () => {
          this.CONSUME(T.Minus);
          this.SUBRULE(this.unaryExpr, { LABEL: "operand" });
        },
      },
      { ALT: () => this.SUBRULE(this.primary, { LABEL: "operand" }) },
    ]);
  });

  public primary = this.RULE("primary", () => {
    this.OR([
      { ALT: () => this.CONSUME(T.NumberLit) },
      { ALT: () => this.CONSUME(T.StringLit) },
      { ALT: () => this.CONSUME(T.TripleString) },
      { ALT: () => this.CONSUME(T.True) },
      { ALT: () => this.CONSUME(T.False) },
      { ALT: () => this.CONSUME(T.None) },
      // A name followed by `=` starts the next entry, so the value before it is missing.
      { GATE: () => this.LA(2).tokenType !== T.Equals, ALT: () => this.SUBRULE(this.refOrCall) },
      { ALT: () => this.SUBRULE(this.list) },
      {
        ALT: () => {
          this.CONSUME(T.LParen);
          this.SUBRULE(this.expr, { LABEL: "inner" });
          this.CONSUME(T.RParen);
        },
      },
    ]);
  });

  public refOrCall = this.RULE("refOrCall", () => {
    this.CONSUME(T.Identifier, { LABEL: "path" });
    this.MANY(() => {
      this.CONSUME(T.Dot);
      this.CONSUME2(T.Identifier, { LABEL: "path" });
    });
    this.OPTION(() => this.SUBRULE(this.argList));
  });

  public list = this.RULE("list", () => {
    this.CONSUME(T.LBracket);
    this.OPTION(() => {
      this.SUBRULE(this.expr, { LABEL: "items" });
      this.MANY(() => {
        this.CONSUME(T.Comma);
        this.SUBRULE2(this.expr, { LABEL: "items" });
      });
      this.OPTION2(() => this.CONSUME2(T.Comma));
    });
    this.CONSUME(T.RBracket);
  });
}

let shared: TuneParser | null = null;

/** The parser is stateful but reusable; building it runs Chevrotain's grammar analysis once per process. */
export function getParser(): TuneParser {
  if (!shared) shared = new TuneParser();
  return shared;
}

export type { CstNode };

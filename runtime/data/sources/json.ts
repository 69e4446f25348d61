// JSON array source: `[ {…}, {…}, … ]`, streamed element by element.
//
// Why this exists: Alpaca-style sets ship as one JSON array (alpaca_data.json, claude_t45.json). JSON.parse
// of the whole file would need memory proportional to the file and would lose record positions. Instead a
// small scanner finds the top-level elements (tracking strings, escapes and nesting), keeps the line each
// element starts on, and parses each element on its own. Structural errors (no `[`, missing comma) stop the
// read; a malformed element is a bad row under the source's policy.

import { BadRowLog, DataError } from "../errors.js";
import type { Origin, Row, RowStream } from "../row.js";
import { textChunks } from "./files.js";
import { parseRecord, relocate } from "./jsonl.js";

interface Element {
  text: string;
  line: number;
}

const enum St {
  Pre,
  ExpectValue,
  InValue,
  AfterValue,
  End,
}

/**
 * Next position ≥ i of a character that matters inside a string (quote, backslash, newline), or -1.
 * Backslash and newline positions are cached: they are rare, and a fresh indexOf per string would rescan.
 */
class NextSpecial {
  private bs = -2;
  private nl = -2;

  constructor(private readonly s: string) {}

  private cached(pos: number, i: number, ch: string): number {
    return pos === -1 || pos >= i ? pos : this.s.indexOf(ch, i);
  }

  after(i: number): number {
    this.bs = this.cached(this.bs, i, "\\");
    this.nl = this.cached(this.nl, i, "\n");
    const q = this.s.indexOf('"', i);
    let best = -1;
    for (const p of [q, this.bs, this.nl]) if (p >= 0 && (best < 0 || p < best)) best = p;
    return best;
  }
}

const isWs = (c: number): boolean => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;

/** Splits the text of a JSON array into its top-level element texts, chunk by chunk. */
export class ArraySplitter {
  private st = St.Pre;
  private line = 1;
  private afterComma = false;
  private parts: string[] = [];
  private elemLine = 0;
  private kind: "container" | "string" | "primitive" = "primitive";
  private depth = 0;
  private inString = false;
  private escape = false;

  constructor(private readonly file: string) {}

  /** Feed the next chunk; returns the elements completed in it. */
  push(chunk: string): Element[] {
    const out: Element[] = [];
    let start = this.st === St.InValue ? 0 : -1;
    const next = new NextSpecial(chunk);
    for (let i = 0; i < chunk.length; i++) {
      if (this.st === St.InValue && this.inString && !this.escape) {
        i = next.after(i); // fast path: jump to the next character that matters inside a string
        if (i < 0) break;
      }
      const c = chunk.charCodeAt(i);
      if (this.st === St.InValue) {
        const end = this.scanValueChar(c); // counts a newline itself
        if (end === 0) continue;
        this.parts.push(chunk.slice(start, end === 1 ? i + 1 : i));
        out.push({ text: this.parts.join(""), line: this.elemLine });
        this.parts = [];
        this.st = St.AfterValue;
        start = -1;
        if (end === 2) {
          if (c === 0x0a) this.line--; // the separator is re-read below
          i--;
        }
        continue;
      }
      if (c === 0x0a) this.line++;
      if (this.structural(c, i === 0 && this.line === 1 && this.st === St.Pre)) {
        start = i;
        this.beginValue(c);
      }
    }
    if (this.st === St.InValue && start >= 0) this.parts.push(chunk.slice(start));
    return out;
  }

  /** Call at end of input: checks that the array was closed. */
  finish(): void {
    if (this.st !== St.End) this.fail(this.st === St.Pre ? "the file is empty" : "the array is not closed (missing `]`)");
  }

  /** Handle a character outside any value; returns true when a value starts at it. */
  private structural(c: number, atStart: boolean): boolean {
    if (isWs(c) || (atStart && c === 0xfeff)) return false;
    switch (this.st) {
      case St.Pre:
        if (c !== 0x5b) this.fail(`expected a JSON array (\`[\`) at the top level, found \`${String.fromCharCode(c)}\``);
        this.st = St.ExpectValue;
        this.afterComma = false;
        return false;
      case St.ExpectValue:
        if (c === 0x5d) {
          if (this.afterComma) this.fail("trailing comma before `]`");
          this.st = St.End;
          return false;
        }
        if (c === 0x2c) this.fail("unexpected `,` (empty element)");
        return true;
      case St.AfterValue:
        if (c === 0x2c) {
          this.st = St.ExpectValue;
          this.afterComma = true;
        } else if (c === 0x5d) this.st = St.End;
        else this.fail(`expected \`,\` or \`]\` after an element, found \`${String.fromCharCode(c)}\``);
        return false;
      default:
        this.fail(`unexpected \`${String.fromCharCode(c)}\` after the end of the array`);
    }
  }

  private beginValue(c: number): void {
    this.st = St.InValue;
    this.elemLine = this.line;
    this.depth = 0;
    this.escape = false;
    this.inString = false;
    if (c === 0x7b || c === 0x5b) {
      this.kind = "container";
      this.depth = 1;
    } else if (c === 0x22) {
      this.kind = "string";
      this.inString = true;
    } else this.kind = "primitive";
  }

  /** Advance through one char of a value: 0 = continue, 1 = value ends after c, 2 = value ended before c. */
  private scanValueChar(c: number): 0 | 1 | 2 {
    if (c === 0x0a) this.line++;
    if (this.inString) {
      if (this.escape) this.escape = false;
      else if (c === 0x5c) this.escape = true;
      else if (c === 0x22) {
        this.inString = false;
        if (this.kind === "string") return 1;
      }
      return 0;
    }
    if (this.kind === "primitive") {
      return c === 0x2c || c === 0x5d || isWs(c) ? 2 : 0;
    }
    if (c === 0x22) this.inString = true;
    else if (c === 0x7b || c === 0x5b) this.depth++;
    else if (c === 0x7d || c === 0x5d) {
      this.depth--;
      if (this.depth === 0) return 1;
    }
    return 0;
  }

  private fail(what: string): never {
    throw new DataError({
      code: "T5502",
      message: `malformed JSON array: ${what}`,
      origin: { file: this.file, format: "json", line: this.line, row: 0 },
      hint: "a .json source must hold one array of objects; for one object per line use a .jsonl file",
    });
  }
}

/** Rows of a JSON-array file; `line` is where each element starts, `row` its 0-based index. */
export function readJsonArray(file: string, log: BadRowLog): RowStream {
  return {
    async *[Symbol.asyncIterator]() {
      const splitter = new ArraySplitter(file);
      let row = 0;
      for await (const chunk of textChunks(file)) {
        for (const el of splitter.push(chunk)) {
          const origin: Origin = { file, format: "json", line: el.line, row: row++ };
          const parsed = parseRecord(el.text, file);
          if (parsed instanceof DataError) {
            log.handle(relocate(parsed, origin));
            continue;
          }
          const out: Row = { values: parsed, origin };
          yield out;
        }
      }
      splitter.finish();
    },
  };
}

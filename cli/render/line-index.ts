// Spans are UTF-16 offsets (see grammar/ast.ts); people read lines and columns.
// This index is the one place that converts between the two, so every output
// format agrees on what "line 14, column 15" means.
//
// Units: lines and columns are 1-based, and a column counts UTF-16 code units
// (JavaScript string indices), so a character outside the BMP (an emoji, say)
// takes two columns. This matches LSP's default and SARIF's `utf16CodeUnits`.
// Line breaks are `\n`, `\r\n` (one break) and a lone `\r`.

export interface Position {
  /** 1-based line number. */
  readonly line: number;
  /** 1-based column, in UTF-16 code units. */
  readonly column: number;
}

export class LineIndex {
  /** Number of lines; an empty text has one (empty) line, and a text ending in a break has an empty last line. */
  readonly lineCount: number;
  /** Offset at which each line's content starts. */
  private readonly starts: readonly number[];
  /** Offset at which each line's content ends (before its line break). */
  private readonly ends: readonly number[];

  constructor(private readonly text: string) {
    const starts = [0];
    const ends: number[] = [];
    for (let i = 0; i < text.length; i++) {
      const ch = text.charCodeAt(i);
      if (ch !== 0x0a && ch !== 0x0d) continue;
      ends.push(i);
      if (ch === 0x0d && text.charCodeAt(i + 1) === 0x0a) i++;
      starts.push(i + 1);
    }
    ends.push(text.length);
    this.starts = starts;
    this.ends = ends;
    this.lineCount = starts.length;
  }

  /**
   * Line and column of an offset. Offsets are clamped to [0, text.length], so the
   * end-of-file offset is valid. An offset inside a `\r\n` pair belongs to the line
   * the pair ends.
   */
  position(offset: number): Position {
    const o = this.clamp(offset);
    const line = this.lineOf(o);
    return { line: line + 1, column: o - this.starts[line] + 1 };
  }

  /** The text of a 1-based line, without its line break. */
  lineText(line: number): string {
    const i = this.checkLine(line);
    return this.text.slice(this.starts[i], this.ends[i]);
  }

  /** Offset of the first character of a 1-based line. */
  lineStart(line: number): number {
    return this.starts[this.checkLine(line)];
  }

  /** Offset just past the last character of a 1-based line (where its line break starts). */
  lineEnd(line: number): number {
    return this.ends[this.checkLine(line)];
  }

  private clamp(offset: number): number {
    if (!Number.isFinite(offset) || offset < 0) return 0;
    return Math.min(Math.floor(offset), this.text.length);
  }

  /** 0-based index of the last line starting at or before `offset` (binary search). */
  private lineOf(offset: number): number {
    let lo = 0;
    let hi = this.starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.starts[mid] <= offset) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  private checkLine(line: number): number {
    if (!Number.isInteger(line) || line < 1 || line > this.lineCount) {
      throw new RangeError(`line ${line} is outside 1..${this.lineCount}`);
    }
    return line - 1;
  }
}

// Terminal layout for the rich format: how wide a source character is on
// screen, how a source line is drawn (tabs as 4 spaces), ANSI styles, and a
// small canvas for the rows of carets and labels under a line.

// ---- styles

export type Style = "error" | "warning" | "info" | "gutter" | "bold" | "errorBold" | "warningBold" | "infoBold";

const ANSI: Record<Style, string> = {
  error: "\x1b[31m",
  warning: "\x1b[33m",
  info: "\x1b[36m",
  gutter: "\x1b[34m",
  bold: "\x1b[1m",
  errorBold: "\x1b[1;31m",
  warningBold: "\x1b[1;33m",
  infoBold: "\x1b[1;36m",
};
const RESET = "\x1b[0m";

export function paint(text: string, style: Style | null, color: boolean): string {
  if (!color || style === null || text === "") return text;
  return ANSI[style] + text + RESET;
}

// ---- character widths

export const TAB_WIDTH = 4;

/** Columns a code point takes on a terminal: 0 for combining marks, 2 for wide East Asian and emoji, else 1. */
export function codePointWidth(cp: number): number {
  if (cp === 0x09) return TAB_WIDTH;
  if (isZeroWidth(cp)) return 0;
  return isWide(cp) ? 2 : 1;
}

function isZeroWidth(cp: number): boolean {
  return (
    (cp >= 0x0300 && cp <= 0x036f) || // combining diacritical marks
    (cp >= 0x200b && cp <= 0x200f) || // zero-width space, joiners, direction marks
    (cp >= 0xfe00 && cp <= 0xfe0f) // variation selectors
  );
}

function isWide(cp: number): boolean {
  return (
    (cp >= 0x1100 && cp <= 0x115f) ||
    (cp >= 0x2e80 && cp <= 0xa4cf) ||
    (cp >= 0xac00 && cp <= 0xd7a3) ||
    (cp >= 0xf900 && cp <= 0xfaff) ||
    (cp >= 0xfe30 && cp <= 0xfe4f) ||
    (cp >= 0xff00 && cp <= 0xff60) ||
    (cp >= 0xffe0 && cp <= 0xffe6) ||
    (cp >= 0x1f300 && cp <= 0x1f64f) ||
    (cp >= 0x1f900 && cp <= 0x1f9ff) ||
    (cp >= 0x20000 && cp <= 0x3fffd)
  );
}

/** How a code point is drawn: tabs become spaces; other control characters a visible placeholder (no terminal escapes from source text). */
function drawn(cp: number): string {
  if (cp === 0x09) return " ".repeat(TAB_WIDTH);
  if (cp < 0x20 || cp === 0x7f) return "\ufffd";
  return String.fromCodePoint(cp);
}

/** A source line as drawn, plus the screen column of every UTF-16 index in it (0..length inclusive). */
export interface DrawnLine {
  readonly text: string;
  /** `columns[i]` is the 0-based screen column where the character at UTF-16 index `i` starts. */
  readonly columns: readonly number[];
}

export function drawLine(line: string): DrawnLine {
  const columns: number[] = [];
  let text = "";
  let col = 0;
  for (let i = 0; i < line.length; ) {
    const cp = line.codePointAt(i) ?? 0;
    const units = cp > 0xffff ? 2 : 1;
    for (let k = 0; k < units; k++) columns.push(col);
    text += drawn(cp);
    col += codePointWidth(cp);
    i += units;
  }
  columns.push(col);
  return { text, columns };
}

// ---- canvas

interface Cell {
  readonly ch: string;
  readonly style: Style | null;
}

/** One row of annotation text addressed by screen column; unwritten columns are spaces. */
export class Row {
  private readonly cells: (Cell | undefined)[] = [];

  write(column: number, text: string, style: Style | null): this {
    let c = column;
    for (const ch of text) this.cells[c++] = { ch, style };
    return this;
  }

  get width(): number {
    return this.cells.length;
  }

  /** The row with trailing blanks removed, styled runs painted. */
  render(color: boolean): string {
    let out = "";
    let run = "";
    let runStyle: Style | null = null;
    for (const cell of this.cells) {
      const { ch, style } = cell ?? { ch: " ", style: null };
      if (style !== runStyle) {
        out += paint(run, runStyle, color);
        run = "";
        runStyle = style;
      }
      run += ch;
    }
    out += paint(run, runStyle, color);
    return out.trimEnd();
  }
}

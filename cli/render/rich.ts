// `text` format: the rich, rustc/codespan-style report people read in a
// terminal: a header, the source lines the labels point at with `^` (primary)
// and `-` (secondary) underneath, then notes and help, and one summary line.
//
// Layout rules: the gutter is as wide as the largest line number shown;
// non-adjacent lines are separated by `...`; a zero-width span gets one caret;
// a span across lines is underlined to the end of its first line; tabs are
// drawn as 4 spaces; labels in another file get their own `:::` section.
import type { Diagnostic, Label, Severity } from "../../grammar/diagnostic.js";
import { drawLine, paint, Row, type DrawnLine, type Style } from "./display.js";
import type { LineIndex } from "./line-index.js";
import { primaryLabel, type SourceIndex } from "./locate.js";
import { summaryLine } from "./summary.js";

export function renderRich(diags: readonly Diagnostic[], index: SourceIndex, color: boolean): string {
  if (diags.length === 0) return "";
  const blocks = diags.map((d) => renderOne(d, index, color).join("\n"));
  return blocks.join("\n\n") + "\n\n" + summaryLine(diags, index, color) + "\n";
}

// ---- one diagnostic

/** A label placed on one source line, in UTF-16 offsets relative to the line start. */
interface Mark {
  readonly line: number;
  readonly start: number;
  readonly end: number;
  readonly primary: boolean;
  readonly message: string;
}

/** The labels of one diagnostic that fall in one file. */
interface Section {
  readonly fileId: string;
  readonly labels: readonly Label[];
  /** Null when the file's text was not given. */
  readonly lines: LineIndex | null;
  readonly marks: readonly Mark[];
}

interface Ctx {
  readonly color: boolean;
  readonly severity: Severity;
  readonly gutter: number;
  readonly index: SourceIndex;
}

function renderOne(d: Diagnostic, index: SourceIndex, color: boolean): string[] {
  const sections = sectionsOf(d, index);
  const lastLine = Math.max(1, ...sections.flatMap((s) => s.marks.map((m) => m.line)));
  const ctx: Ctx = { color, severity: d.severity, gutter: String(lastLine).length, index };
  const out = [header(d, color)];
  sections.forEach((s, i) => out.push(...renderSection(s, i === 0, ctx)));
  for (const note of d.notes) out.push(footer("note", note, ctx));
  if (d.help) out.push(footer("help", d.help, ctx));
  return out;
}

function header(d: Diagnostic, color: boolean): string {
  return paint(`${d.severity}[${d.code}]`, boldStyle(d.severity), color) + paint(`: ${d.message}`, "bold", color);
}

/** `= note: …` / `= help: …`; continuation lines of a multi-line text are indented under the first. */
function footer(kind: "note" | "help", text: string, ctx: Ctx): string {
  const pad = " ".repeat(ctx.gutter + 1);
  const lead = `= ${kind}: `;
  const [first, ...rest] = text.split(/\r\n|\r|\n/);
  const lines = [pad + paint("=", "gutter", ctx.color) + paint(` ${kind}:`, "bold", ctx.color) + " " + first];
  for (const line of rest) lines.push(pad + " ".repeat(lead.length) + line);
  return lines.join("\n");
}

/** Labels grouped by file, the primary label's file first and the primary label first within it. */
function sectionsOf(d: Diagnostic, index: SourceIndex): Section[] {
  const primary = primaryLabel(d);
  if (!primary) return [];
  const ordered = [primary, ...d.labels.filter((l) => l !== primary)];
  const byFile = new Map<string, Label[]>();
  for (const label of ordered) {
    const group = byFile.get(label.span.file) ?? [];
    group.push(label);
    byFile.set(label.span.file, group);
  }
  return [...byFile].map(([fileId, labels]) => {
    const lines = index.index(fileId) ?? null;
    return { fileId, labels, lines, marks: lines ? labels.map((l) => markOf(l, lines)) : [] };
  });
}

/** Places a label on the line where it starts; a span across lines is cut at the end of that line. */
function markOf(label: Label, lines: LineIndex): Mark {
  const { line, column } = lines.position(label.span.start);
  const lineStart = lines.lineStart(line);
  const lineLength = lines.lineEnd(line) - lineStart;
  const start = column - 1;
  const end = Math.max(start, Math.min(label.span.end - lineStart, lineLength));
  return { line, start, end, primary: label.primary, message: oneLine(label.message) };
}

// ---- one file's excerpt

function renderSection(s: Section, first: boolean, ctx: Ctx): string[] {
  const pad = " ".repeat(ctx.gutter);
  const arrow = first ? "-->" : ":::";
  const out: string[] = [];
  if (!first) out.push(emptyGutter(ctx));
  out.push(pad + paint(arrow, "gutter", ctx.color) + " " + location(s, ctx.index));
  if (!s.lines) {
    for (const l of s.labels) if (l.message) out.push(pad + " " + paint("=", "gutter", ctx.color) + ` label: ${oneLine(l.message)}`);
    return out;
  }
  out.push(emptyGutter(ctx));
  const source = s.lines;
  const shown = [...new Set(s.marks.map((m) => m.line))].sort((a, b) => a - b);
  shown.forEach((line, i) => {
    if (i > 0 && line > shown[i - 1] + 1) out.push(paint("...", "gutter", ctx.color));
    const drawn = drawLine(source.lineText(line));
    out.push(gutterLine(String(line), drawn.text, ctx));
    const rows = annotationRows(s.marks.filter((m) => m.line === line), drawn, ctx);
    for (const row of rows) out.push(gutterLine("", row.render(ctx.color), ctx));
  });
  return out;
}

function location(s: Section, index: SourceIndex): string {
  const { file, start } = index.locate(s.labels[0].span);
  return start ? `${file}:${start.line}:${start.column}` : file;
}

function emptyGutter(ctx: Ctx): string {
  return " ".repeat(ctx.gutter + 1) + paint("|", "gutter", ctx.color);
}

/** `14 | text`, or `   | carets` for annotation rows; no trailing blanks. */
function gutterLine(lineNo: string, content: string, ctx: Ctx): string {
  const gutter = paint(`${lineNo.padStart(ctx.gutter)} |`, "gutter", ctx.color);
  const body = content.trimEnd();
  return body ? `${gutter} ${body}` : gutter;
}

// ---- carets and labels under one line

interface Placed {
  readonly col: number;
  readonly width: number;
  readonly style: Style;
  readonly primary: boolean;
  readonly message: string;
}

/**
 * The markers row, with the rightmost label's message inline; the other
 * messages hang below their markers on `|` connectors, right to left (rustc).
 */
function annotationRows(marks: readonly Mark[], drawn: DrawnLine, ctx: Ctx): Row[] {
  const placed = marks.map((m) => place(m, drawn, ctx.severity)).sort((a, b) => a.col - b.col || a.width - b.width);
  const markers = new Row();
  for (const p of placed) if (!p.primary) markers.write(p.col, "-".repeat(p.width), p.style);
  for (const p of placed) if (p.primary) markers.write(p.col, "^".repeat(p.width), p.style);
  const last = placed[placed.length - 1];
  const inline = last.message ? last : undefined;
  if (inline) markers.write(markers.width, ` ${inline.message}`, inline.style);
  const hanging = placed.filter((p) => p !== inline && p.message);
  if (hanging.length === 0) return [markers];
  const rows = [markers, connectors(hanging)];
  for (let i = hanging.length - 1; i >= 0; i--) {
    rows.push(connectors(hanging.slice(0, i)).write(hanging[i].col, hanging[i].message, hanging[i].style));
  }
  return rows;
}

function connectors(placed: readonly Placed[]): Row {
  const row = new Row();
  for (const p of placed) row.write(p.col, "|", p.style);
  return row;
}

function place(m: Mark, drawn: DrawnLine, severity: Severity): Placed {
  const col = drawn.columns[m.start] ?? drawn.columns[drawn.columns.length - 1];
  const endCol = drawn.columns[m.end] ?? col;
  const style: Style = m.primary ? severity : "gutter";
  return { col, width: Math.max(1, endCol - col), style, primary: m.primary, message: m.message };
}

function boldStyle(severity: Severity): Style {
  return severity === "error" ? "errorBold" : severity === "warning" ? "warningBold" : "infoBold";
}

function oneLine(text: string): string {
  return text.replace(/\r\n|\r|\n/g, " ");
}

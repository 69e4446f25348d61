// Shared by every format: turn a span (file id + offsets) into what a reader
// sees (display path, line, column), with one LineIndex per file per render.
//
// The `sources` map is keyed by `Span.file`. When a span's file is not in the
// map, the span's file id is shown as the path and line/column are unknown
// (null); formats then fall back to offsets or to the bare path.
import type { Span } from "../../grammar/ast.js";
import type { Diagnostic, Label } from "../../grammar/diagnostic.js";
import { LineIndex, type Position } from "./line-index.js";
import type { SourceText } from "./types.js";

export interface Located {
  /** Display path as the user gave it. */
  readonly file: string;
  /** Null when the file's text is unknown. */
  readonly start: Position | null;
  readonly end: Position | null;
}

export class SourceIndex {
  private readonly indexes = new Map<string, LineIndex>();

  constructor(private readonly sources: ReadonlyMap<string, SourceText>) {}

  /** Display path for a span's file id. */
  displayPath(fileId: string): string {
    return this.sources.get(fileId)?.file ?? fileId;
  }

  /** The line index of a file, or undefined when its text was not given. */
  index(fileId: string): LineIndex | undefined {
    const cached = this.indexes.get(fileId);
    if (cached) return cached;
    const source = this.sources.get(fileId);
    if (!source) return undefined;
    const index = new LineIndex(source.text);
    this.indexes.set(fileId, index);
    return index;
  }

  locate(span: Span): Located {
    const index = this.index(span.file);
    const file = this.displayPath(span.file);
    if (!index) return { file, start: null, end: null };
    const end = Math.max(span.start, span.end);
    return { file, start: index.position(span.start), end: index.position(end) };
  }
}

/** The label that places a diagnostic: the first primary one, else the first one. */
export function primaryLabel(d: Diagnostic): Label | undefined {
  return d.labels.find((l) => l.primary) ?? d.labels[0];
}

/** Paths in SARIF and GitHub output use forward slashes and no leading `./`. */
export function slashPath(file: string): string {
  return file.replace(/\\/g, "/").replace(/^(\.\/)+/, "");
}

/** The diagnostic's message followed by its notes and help, one per line (for formats without structure for them). */
export function flatMessage(d: Diagnostic): string {
  const lines = [d.message, ...d.notes.map((n) => `note: ${n}`)];
  if (d.help) lines.push(`help: ${d.help}`);
  return lines.join("\n");
}

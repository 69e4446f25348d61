// Comment placement for the formatter. The AST keeps comments out of the tree
// (SourceFile.comments, each with a span), so `tune fmt` has to decide where
// every one of them goes when it rebuilds the text. This module owns that
// decision and nothing else; it knows spans and offsets, not layout.
//
// A "sequence" is anything printed one unit per line when broken: the items of
// a file, the entries of a block, the items of a list, the arguments of a call.
// Within its region (opener … closer) each comment is classified exactly once:
//   header   — on the opener's line before the first item   (`model m { # …`)
//   leading  — on its own line(s) before an item            (printed above it)
//   trailing — on the line where an item ends               (kept at line end)
//   hoisted  — inside an item but not claimed by a nested sequence, e.g. inside
//              `a + # …` — moved above the item, never dropped
//   dangling — after the last item, before the closer       (kept inside)
// Every comment is taken from one shared pool, so none can be emitted twice.
import type { CommentTrivia, Span } from "./ast.js";

const LINE_BREAK = /\r\n|\r|\n/g;

/** The text a comment is printed as: its source text without trailing blanks. */
export function commentText(c: CommentTrivia): string {
  return c.text.trimEnd();
}

/** All comments of one file, in source order, each handed out at most once. */
export class CommentPool {
  private readonly sorted: readonly CommentTrivia[];
  private readonly taken: boolean[];

  constructor(
    private readonly text: string,
    comments: readonly CommentTrivia[],
  ) {
    this.sorted = [...comments].sort((a, b) => a.span.start - b.span.start);
    this.taken = this.sorted.map(() => false);
  }

  /** Index of the first comment starting at or after `offset`. */
  private lowerBound(offset: number): number {
    let lo = 0;
    let hi = this.sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.sorted[mid]!.span.start < offset) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Whether any comment, handed out or not, starts in [start, end). */
  within(start: number, end: number): boolean {
    const i = this.lowerBound(start);
    return i < this.sorted.length && this.sorted[i]!.span.start < end;
  }

  /** Hands out every remaining comment that starts in [start, end), in order. */
  take(start: number, end: number): CommentTrivia[] {
    const out: CommentTrivia[] = [];
    for (let i = this.lowerBound(start); i < this.sorted.length && this.sorted[i]!.span.start < end; i++) {
      if (this.taken[i]) continue;
      this.taken[i] = true;
      out.push(this.sorted[i]!);
    }
    return out;
  }

  /** Hands out the first remaining comment in [after, limit) if it is on the same line as `after`. */
  takeSameLine(after: number, limit: number): CommentTrivia | null {
    for (let i = this.lowerBound(after); i < this.sorted.length && this.sorted[i]!.span.start < limit; i++) {
      if (this.taken[i]) continue;
      const c = this.sorted[i]!;
      if (this.lineBreaks(after, c.span.start) > 0) return null;
      this.taken[i] = true;
      return c;
    }
    return null;
  }

  /** Every comment not handed out yet (a safety net: the formatter must never drop one). */
  takeRest(): CommentTrivia[] {
    return this.take(0, Number.POSITIVE_INFINITY);
  }

  lineBreaks(start: number, end: number): number {
    return this.text.slice(start, Math.max(start, end)).match(LINE_BREAK)?.length ?? 0;
  }

  /** Whether the user left at least one empty line between two offsets. */
  blankBetween(start: number, end: number): boolean {
    return this.lineBreaks(start, end) >= 2;
  }
}

/** Where a sequence lives in the text. */
export interface Region {
  /** End of the opener's line prefix (`model m` → after `m`; `[` → after it); null for the file. */
  readonly headerFrom: number | null;
  /** Where comments leading the first item may start. */
  readonly start: number;
  /** Offset of the closer (`}`, `]`, `)`), or the end of the file. */
  readonly end: number;
}

interface PlacedBase {
  /** The user left an empty line before this unit (never set on the first unit). */
  readonly blankBefore: boolean;
}

export interface PlacedComment extends PlacedBase {
  readonly kind: "comment";
  readonly text: string;
}

export interface PlacedItem<T, D> extends PlacedBase {
  readonly kind: "item";
  readonly item: T;
  readonly value: D;
  /** Comments from inside the item that no nested sequence claimed; printed above it. */
  readonly hoisted: readonly string[];
  readonly trailing: string | null;
}

export type Placed<T, D> = PlacedComment | PlacedItem<T, D>;

export interface Sequence<T, D> {
  readonly header: string | null;
  /** Items and own-line comments in source order; comments after the last item are dangling. */
  readonly units: readonly Placed<T, D>[];
}

/**
 * Walks a sequence in source order, handing each comment to the unit it belongs
 * to. `build` is called once per item, in order, between taking the comments
 * before the item and the comments inside it, so nested sequences claim theirs first.
 */
export function placeComments<T, D>(
  pool: CommentPool,
  items: readonly T[],
  spanOf: (item: T) => Span,
  build: (item: T) => D,
  region: Region,
): Sequence<T, D> {
  const firstStart = items.length > 0 ? spanOf(items[0]!).start : region.end;
  const headerComment = region.headerFrom === null ? null : pool.takeSameLine(region.headerFrom, firstStart);
  const units: Placed<T, D>[] = [];
  let lastEnd: number | null = null;
  const blankBefore = (start: number): boolean => lastEnd !== null && pool.blankBetween(lastEnd, start);
  const pushComments = (list: CommentTrivia[]): void => {
    for (const c of list) {
      units.push({ kind: "comment", text: commentText(c), blankBefore: blankBefore(c.span.start) });
      lastEnd = c.span.end;
    }
  };

  let cursor = region.start;
  items.forEach((item, i) => {
    const span = spanOf(item);
    pushComments(pool.take(cursor, span.start));
    const value = build(item);
    const hoisted = pool.take(span.start, span.end).map(commentText);
    const next = i + 1 < items.length ? spanOf(items[i + 1]!).start : region.end;
    const trailing = pool.takeSameLine(span.end, next);
    units.push({
      kind: "item",
      item,
      value,
      hoisted,
      trailing: trailing ? commentText(trailing) : null,
      blankBefore: blankBefore(span.start),
    });
    lastEnd = span.end;
    cursor = span.end;
  });
  pushComments(pool.take(cursor, region.end));
  return { header: headerComment ? commentText(headerComment) : null, units };
}

// dedup (exact): drop rows whose chosen fields repeat an earlier row after normalisation.
//
// Why this exists: public instruction sets contain verbatim and near-verbatim repeats (casing, spacing,
// full-width characters). Exact dedup keys each row by SHA-256 of its normalised text (hash.ts: NFKC, lower
// case, whitespace collapsed) and keeps the first occurrence. Memory: one 32-char key per distinct row.

import { fieldsText, textKey } from "../hash.js";
import { formatOrigin, opStream, type OpStream, type Origin, type Row, type RowStream } from "../row.js";

export interface DedupExample {
  dropped: string;
  duplicateOf: string;
}

export interface DedupStats {
  seen: number;
  kept: number;
  dropped: number;
  /** The first few drops, as `file:line` pairs, for the run report. */
  examples: DedupExample[];
}

export interface DedupExactOptions {
  /** Fields whose (joined) text defines a duplicate, e.g. ["instruction", "input"]. */
  fields?: readonly string[];
  /** Or a function giving the text directly. */
  text?: (row: Row) => string;
  /** How many example drops to keep (default 5). */
  examples?: number;
}

export function rowText(row: Row, opts: { fields?: readonly string[]; text?: (row: Row) => string }): string {
  if (opts.text) return opts.text(row);
  return fieldsText(row, opts.fields ?? Object.keys(row.values).sort());
}

export function dedupExact(input: RowStream, opts: DedupExactOptions = {}): OpStream<DedupStats> {
  const keepExamples = opts.examples ?? 5;
  return opStream<DedupStats>(
    () => ({ seen: 0, kept: 0, dropped: 0, examples: [] }),
    async function* (stats) {
      const firstSeen = new Map<string, Origin>();
      for await (const row of input) {
        stats.seen++;
        const key = textKey(rowText(row, opts));
        const first = firstSeen.get(key);
        if (first) {
          stats.dropped++;
          if (stats.examples.length < keepExamples) {
            stats.examples.push({ dropped: formatOrigin(row.origin), duplicateOf: formatOrigin(first) });
          }
          continue;
        }
        firstSeen.set(key, row.origin);
        stats.kept++;
        yield row;
      }
    },
  );
}

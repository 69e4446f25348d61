// filter: keep the rows a predicate accepts.
//
// Why this exists: recipes filter with expressions (`where score >= 4.5`); the compiler turns them into a
// `(row) => boolean` and this op applies it as a stream, counting what it dropped for the run report.

import { DataError, errorText } from "../errors.js";
import { opStream, type OpStream, type Row, type RowStream } from "../row.js";

export interface FilterStats {
  seen: number;
  kept: number;
}

export type Predicate = (row: Row) => boolean;

/** Rows of `input` for which `pred` is true; a predicate that throws is reported at the row (T5520). */
export function filter(input: RowStream, pred: Predicate, label = "filter"): OpStream<FilterStats> {
  return opStream<FilterStats>(
    () => ({ seen: 0, kept: 0 }),
    async function* (stats) {
      for await (const row of input) {
        stats.seen++;
        if (!applyPredicate(pred, row, label)) continue;
        stats.kept++;
        yield row;
      }
    },
  );
}

function applyPredicate(pred: Predicate, row: Row, label: string): boolean {
  try {
    return pred(row) === true;
  } catch (e) {
    if (e instanceof DataError) throw e;
    throw new DataError({
      code: "T5520",
      message: `${label} failed on this row: ${errorText(e)}`,
      origin: row.origin,
      hint: "check that the fields the filter reads exist and have the declared types",
    });
  }
}

// shuffle: a seeded random permutation of the rows.
//
// Why this exists: training order must be random yet reproducible. A uniform permutation needs every row, so
// this op holds its whole input in memory (unlike the other ops); shuffle after filter/sample/dedup, not on the
// raw file. The permutation is Fisher–Yates with the xoshiro128** generator (rng.ts): same seed and same input
// order ⇒ same output order, byte for byte.

import { opStream, type OpStream, type Row, type RowStream } from "../row.js";
import { Rng, type Seed } from "../rng.js";

export interface ShuffleStats {
  count: number;
}

export function shuffle(input: RowStream, seed: Seed): OpStream<ShuffleStats> {
  return opStream<ShuffleStats>(
    () => ({ count: 0 }),
    async function* (stats) {
      const rows: Row[] = [];
      for await (const row of input) rows.push(row);
      new Rng(seed).shuffle(rows);
      stats.count = rows.length;
      yield* rows;
    },
  );
}

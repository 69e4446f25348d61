// split: train / validation, seeded.
//
// Why this exists: recipes hold out a validation set ("validation = 5%" or "= 500 rows"). The held-out rows are
// chosen with Algorithm S (select.ts) over the N input positions — exactly round(fraction · N) or n rows — and
// both outputs keep the input order. Memory is one byte per input row (the bitmap); the rows themselves stream.
// Needs a replayable input: one pass counts, then each output re-reads the input.

import { countRows, opStream, requireReplayable, type OpStream, type RowStream } from "../row.js";
import { Rng, type Seed } from "../rng.js";
import { choosePositions, targetCount, type SampleSize } from "./select.js";

export interface SplitPartStats {
  rows: number;
}

export interface SplitResult {
  train: OpStream<SplitPartStats>;
  validation: OpStream<SplitPartStats>;
  total: number;
  trainCount: number;
  validationCount: number;
}

export async function split(input: RowStream, validation: SampleSize, seed: Seed): Promise<SplitResult> {
  requireReplayable(input, "split");
  const total = await countRows(input);
  const k = targetCount(validation, total, "split(validation)");
  const held = choosePositions(total, k, new Rng(seed));
  const part = (want: 0 | 1): OpStream<SplitPartStats> =>
    opStream<SplitPartStats>(
      () => ({ rows: 0 }),
      async function* (stats) {
        let i = 0;
        for await (const row of input) {
          if (held[i++] !== want) continue;
          stats.rows++;
          yield row;
        }
      },
    );
  return { train: part(0), validation: part(1), total, trainCount: total - k, validationCount: k };
}

// sample: n rows or a fraction of the rows, seeded.
//
// Why this exists: recipes subsample large sets ("1% of OpenOrca"). Both forms stream and both keep the input
// order, so a sample of a sorted file is still sorted and the result is byte-identical for the same seed:
//   • { n }        — reservoir sampling (Vitter's Algorithm R): one pass, memory = n rows. Row i (0-based) is
//                    offered to the reservoir as j = rng.int(i + 1), replacing slot j when j < n. The reservoir
//                    is then emitted in input order.
//   • { fraction } — k = round(fraction · N) rows exactly: one counting pass, then Algorithm S (select.ts) in a
//                    second pass, memory O(1). Needs a replayable input (sources and op streams are).

import { DataError } from "../errors.js";
import { countRows, opStream, requireReplayable, type OpStream, type Row, type RowStream } from "../row.js";
import { Rng, type Seed } from "../rng.js";
import { Selector, targetCount, type SampleSize } from "./select.js";

export interface SampleStats {
  seen: number;
  kept: number;
  /** Rows asked for (n, or round(fraction · N) once N is known). */
  target: number;
}

export function sample(input: RowStream, size: SampleSize, seed: Seed): OpStream<SampleStats> {
  if ("fraction" in size) {
    requireReplayable(input, "sample(fraction)");
    targetCount(size, 0, "sample"); // validate the fraction now
    return sampleFraction(input, size.fraction, seed);
  }
  targetCount(size, Number.MAX_SAFE_INTEGER, "sample");
  return reservoir(input, size.n, seed);
}

function reservoir(input: RowStream, n: number, seed: Seed): OpStream<SampleStats> {
  return opStream<SampleStats>(
    () => ({ seen: 0, kept: 0, target: n }),
    async function* (stats) {
      const rng = new Rng(seed);
      const slots: { index: number; row: Row }[] = [];
      for await (const row of input) {
        const i = stats.seen++;
        if (i < n) slots.push({ index: i, row });
        else {
          const j = rng.int(i + 1);
          if (j < n) slots[j] = { index: i, row };
        }
      }
      if (stats.seen < n) {
        throw new DataError({
          code: "T5521",
          message: `sample asks for ${n} rows but its input has ${stats.seen}`,
          hint: "lower n, or sample a fraction",
        });
      }
      slots.sort((a, b) => a.index - b.index);
      for (const s of slots) {
        stats.kept++;
        yield s.row;
      }
    },
  );
}

function sampleFraction(input: RowStream, fraction: number, seed: Seed): OpStream<SampleStats> {
  return opStream<SampleStats>(
    () => ({ seen: 0, kept: 0, target: 0 }),
    async function* (stats) {
      const total = await countRows(input);
      stats.target = targetCount({ fraction }, total, "sample");
      const sel = new Selector(total, stats.target, new Rng(seed));
      for await (const row of input) {
        stats.seen++;
        if (!sel.take()) continue;
        stats.kept++;
        yield row;
      }
    },
  );
}

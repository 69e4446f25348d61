// mix: combine several sources with declared proportions, seeded.
//
// Why this exists: papers describe mixtures in two different ways, and a recipe must say which it means:
//   • "of_source": the weight is the fraction of *each source* to take. Platypus-style "100% Open-Platypus +
//     1% Dolphin + 1% OpenOrca" takes round(1.0·N₁), round(0.01·N₂), round(0.01·N₃) rows. A weight above 1
//     repeats the source (2.0 = every row twice).
//   • "share": the weight is the source's share of the *final mix* (weights are normalised to sum to 1). With a
//     declared `total` T, source i gets cᵢ ≈ sᵢ·T rows; without one, T is the largest total that needs no
//     repetition, T = floor(minᵢ Nᵢ / sᵢ). Counts are allocated by largest remainder, so Σcᵢ = T and each cᵢ is
//     within 1 row of sᵢ·T.
// Each source contributes its rows chosen by Algorithm S (select.ts; full passes first when repeating), in
// input order; the sources are then interleaved by a seeded random merge (at each step source i is drawn with
// probability remainingᵢ / remaining). Memory is O(number of sources); inputs must be replayable (one counting
// pass each). Same seed, same inputs ⇒ byte-identical output.

import { DataError } from "../errors.js";
import { countRows, opStream, requireReplayable, type OpStream, type Row, type RowStream } from "../row.js";
import { Rng, type Seed } from "../rng.js";
import { roundCount, Selector } from "./select.js";

export type MixMode = "share" | "of_source";

export interface MixPart {
  name: string;
  rows: RowStream;
  /** A fraction (0.01 = 1%); for "share", any non-negative weights (normalised). */
  weight: number;
}

export interface MixOptions {
  mode: MixMode;
  seed: Seed;
  /** "share" only: rows in the final mix (default: the largest total that needs no repetition). */
  total?: number;
  /** "share" only: allow a source to be repeated when its share of `total` exceeds its size. */
  repeat?: boolean;
}

export interface MixPlanEntry {
  name: string;
  available: number;
  weight: number;
  /** The declared (real-valued) number of rows: weight·N (of_source) or share·total (share). */
  declared: number;
  /** Rows actually taken (|count − declared| < 1). */
  count: number;
}

export interface MixStats {
  emitted: number;
  bySource: Record<string, number>;
}

export interface MixResult {
  rows: OpStream<MixStats>;
  plan: MixPlanEntry[];
  total: number;
}

const mixError = (message: string, hint: string): DataError => new DataError({ code: "T5522", message, hint });

export async function mix(parts: readonly MixPart[], opts: MixOptions): Promise<MixResult> {
  validateParts(parts);
  const available: number[] = [];
  for (const p of parts) available.push(await countRows(p.rows));
  const plan = opts.mode === "of_source" ? planOfSource(parts, available) : planShare(parts, available, opts);
  const total = plan.reduce((a, e) => a + e.count, 0);
  return { rows: mixStream(parts, plan, opts.seed), plan, total };
}

function validateParts(parts: readonly MixPart[]): void {
  if (parts.length === 0) throw mixError("mix has no sources", "list at least one source");
  const names = new Set<string>();
  for (const p of parts) {
    requireReplayable(p.rows, `mix source ${p.name}`);
    if (names.has(p.name)) throw mixError(`mix source ${p.name} is listed twice`, "give each source a distinct name");
    names.add(p.name);
    if (!(Number.isFinite(p.weight) && p.weight >= 0)) {
      throw mixError(`mix source ${p.name} has weight ${p.weight}`, "weights are non-negative numbers such as 0.01 (1%)");
    }
  }
}

function planOfSource(parts: readonly MixPart[], available: number[]): MixPlanEntry[] {
  return parts.map((p, i) => {
    const declared = p.weight * available[i];
    return { name: p.name, available: available[i], weight: p.weight, declared, count: roundCount(declared) };
  });
}

function planShare(parts: readonly MixPart[], available: number[], opts: MixOptions): MixPlanEntry[] {
  const sum = parts.reduce((a, p) => a + p.weight, 0);
  if (sum <= 0) throw mixError("mix shares sum to 0", "give at least one source a positive share");
  const shares = parts.map((p) => p.weight / sum);
  const total = opts.total ?? largestTotal(parts, shares, available);
  if (!Number.isSafeInteger(total) || total < 0) throw mixError(`mix total ${total} is not a row count`, "give total as an integer");
  const counts = largestRemainder(shares.map((s) => s * total), total);
  parts.forEach((p, i) => {
    if (counts[i] > available[i] && !opts.repeat) {
      throw mixError(
        `mix source ${p.name} has ${available[i]} rows but its share of ${total} needs ${counts[i]}`,
        "lower total, omit it (the largest total without repetition is used), or allow repeat",
      );
    }
  });
  return parts.map((p, i) => ({ name: p.name, available: available[i], weight: shares[i], declared: shares[i] * total, count: counts[i] }));
}

function largestTotal(parts: readonly MixPart[], shares: number[], available: number[]): number {
  let t = Infinity;
  shares.forEach((s, i) => {
    if (s > 0) t = Math.min(t, Math.floor(available[i] / s + 1e-9));
  });
  parts.forEach((p, i) => {
    if (shares[i] > 0 && available[i] === 0) throw mixError(`mix source ${p.name} is empty but has a share`, "remove it or fill it");
  });
  return t;
}

/** Integer counts summing to `total`, each floor or ceil of its target; ties go to the earlier source. */
export function largestRemainder(targets: number[], total: number): number[] {
  const counts = targets.map((x) => Math.floor(x + 1e-9));
  let left = total - counts.reduce((a, c) => a + c, 0);
  const order = targets.map((x, i) => ({ i, r: x - counts[i] })).sort((a, b) => b.r - a.r || a.i - b.i);
  for (let j = 0; left > 0 && j < order.length; j++, left--) counts[order[j].i]++;
  return counts;
}

/** Exactly `count` rows of one source: full passes while count ≥ N, then Algorithm S for the rest. */
async function* takeCount(rows: RowStream, available: number, count: number, rng: Rng): AsyncGenerator<Row> {
  let left = count;
  while (available > 0 && left >= available) {
    for await (const row of rows) yield row;
    left -= available;
  }
  if (left === 0) return;
  const sel = new Selector(available, left, rng);
  for await (const row of rows) if (sel.take()) yield row;
}

function mixStream(parts: readonly MixPart[], plan: MixPlanEntry[], seed: Seed): OpStream<MixStats> {
  return opStream<MixStats>(
    () => ({ emitted: 0, bySource: Object.fromEntries(parts.map((p) => [p.name, 0])) }),
    async function* (stats) {
      const root = new Rng(seed);
      const iters = parts.map((p, i) => takeCount(p.rows, plan[i].available, plan[i].count, root.fork(`mix/select/${i}`)));
      const remaining = plan.map((e) => e.count);
      let left = remaining.reduce((a, c) => a + c, 0);
      const merge = root.fork("mix/interleave");
      try {
        for (; left > 0; left--) {
          let r = merge.int(left);
          let i = 0;
          while (r >= remaining[i]) r -= remaining[i++];
          const next = await iters[i].next();
          if (next.done) throw mixError(`mix source ${parts[i].name} ended early`, "the source changed while it was being read");
          remaining[i]--;
          stats.emitted++;
          stats.bySource[parts[i].name]++;
          yield next.value;
        }
      } finally {
        await Promise.all(iters.map((it) => it.return(undefined)));
      }
    },
  );
}

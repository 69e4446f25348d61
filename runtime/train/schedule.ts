// Learning-rate schedules with HF transformers semantics (`optimization.py`, `TrainingArguments`; §5).
//
// Why this exists: the schedule decides the lr of every update; runs must be comparable with HF Trainer runs
// of the same recipe. LambdaLR semantics: the factor λ(s) uses s = optimizer steps already done, so update
// k (1-based) uses λ(k − 1) and warmup starts at lr 0.

export type ScheduleKind = "linear" | "cosine" | "constant" | "constant_with_warmup";

export const SCHEDULE_KINDS: readonly ScheduleKind[] = ["linear", "cosine", "constant", "constant_with_warmup"];

/** λ(s) for `kind` with W warmup steps out of T total (num_cycles 0.5 for cosine, as HF's default). */
export function lrLambda(kind: ScheduleKind, s: number, warmup: number, total: number, numCycles = 0.5): number {
  if (kind === "constant") return 1;
  if (s < warmup) return s / Math.max(1, warmup);
  if (kind === "constant_with_warmup") return 1;
  if (kind === "linear") return Math.max(0, (total - s) / Math.max(1, total - warmup));
  const progress = (s - warmup) / Math.max(1, total - warmup);
  return Math.max(0, 0.5 * (1 + Math.cos(Math.PI * numCycles * 2 * progress)));
}

/** HF `get_warmup_steps`: warmup_steps if > 0, else ceil(T · warmup_ratio). */
export function warmupSteps(totalSteps: number, steps = 0, ratio = 0): number {
  return steps > 0 ? steps : Math.ceil(totalSteps * ratio);
}

/**
 * Optimizer updates of a run: max_steps if > 0, else ceil(epochs · U) with U = max(1, floor(batches / GA)).
 * [V] newer transformers compute U with ceil (a final partial accumulation window is an update); pass
 * `rounding: "ceil"` for that behaviour. Default floor, as algorithms.md §5.
 */
export function totalSteps(o: {
  maxSteps?: number;
  epochs: number;
  batchesPerEpoch: number;
  gradAccum: number;
  rounding?: "floor" | "ceil";
}): number {
  if (o.maxSteps && o.maxSteps > 0) return o.maxSteps;
  const per = (o.rounding ?? "floor") === "ceil" ? Math.ceil(o.batchesPerEpoch / o.gradAccum) : Math.floor(o.batchesPerEpoch / o.gradAccum);
  return Math.ceil(o.epochs * Math.max(1, per));
}

/** A concrete schedule: lr used by the update that follows `done` completed updates. */
export class LrSchedule {
  constructor(
    readonly kind: ScheduleKind,
    readonly baseLr: number,
    readonly warmup: number,
    readonly total: number,
  ) {
    if (!SCHEDULE_KINDS.includes(kind)) throw new Error(`unknown lr schedule "${kind}"`);
  }

  lrAt(done: number): number {
    return this.baseLr * lrLambda(this.kind, done, this.warmup, this.total);
  }
}

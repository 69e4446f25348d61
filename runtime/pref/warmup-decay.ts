// DeepSpeed `WarmupDecayLR` (deepspeed/runtime/lr_schedules.py) and the schedule names a DPO stage accepts.
//
// Why this exists: the SamPO runs (algorithms.md §7) trained under DeepSpeed's WarmupDecayLR from
// ds_config.json, which overrides `--lr_scheduler_type linear`: a *log* warmup, then linear decay. To reproduce
// them the schedule is a named choice of the language (`schedule = warmup_decay_log`), with DeepSpeed's exact
// semantics:
//   W = max(2, warmup_num_steps); γ(s) = ln(s + 1) / ln(W) (log) or s / W (linear) for s < W,
//   else max(0, (T − s) / max(1, T − W)); lr(s) = warmup_min_lr + (warmup_max_lr − warmup_min_lr) · γ(s),
// where s = `last_batch_iteration`, the number of scheduler steps taken minus one. DeepSpeed steps the
// scheduler after every optimizer step, so update 1 runs at the optimizer's initial lr and update k ≥ 2 at
// lr(k − 2). [V] Recent DeepSpeed initialises the optimizer's lr to warmup_min_lr in the constructor; older
// releases left the optimizer's own lr (HF passes learning_rate) for update 1. `initialLr` selects it
// (default warmup_min_lr). HF fills warmup_min_lr = 0, warmup_max_lr = lr, warmup_num_steps =
// ceil(warmup_ratio · T) (or warmup_steps), total_num_steps = T.

import { LrSchedule, SCHEDULE_KINDS, type ScheduleKind } from "../train/schedule.js";

export type WarmupType = "log" | "linear";

export interface WarmupDecayOptions {
  warmupMinLr: number;
  warmupMaxLr: number;
  warmupNumSteps: number;
  totalNumSteps: number;
  /** DeepSpeed's default is "log". */
  warmupType?: WarmupType;
  /** lr of the very first update (before any scheduler step); default warmupMinLr (see header). */
  initialLr?: number;
}

export class WarmupDecayLR {
  readonly warmupMinLr: number;
  readonly warmupMaxLr: number;
  /** max(2, warmup_num_steps), as DeepSpeed stores it. */
  readonly warmupNumSteps: number;
  readonly totalNumSteps: number;
  readonly warmupType: WarmupType;
  readonly initialLr: number;

  constructor(o: WarmupDecayOptions) {
    for (const k of ["warmupMinLr", "warmupMaxLr", "warmupNumSteps", "totalNumSteps"] as const) {
      if (!Number.isFinite(o[k]) || o[k] < 0) throw new Error(`WarmupDecayLR: ${k} must be a finite number ≥ 0, got ${o[k]}`);
    }
    this.warmupMinLr = o.warmupMinLr;
    this.warmupMaxLr = o.warmupMaxLr;
    this.warmupNumSteps = Math.max(2, o.warmupNumSteps);
    this.totalNumSteps = o.totalNumSteps;
    this.warmupType = o.warmupType ?? "log";
    this.initialLr = o.initialLr ?? o.warmupMinLr;
  }

  /** DeepSpeed `_get_gamma` at last_batch_iteration = s (s ≥ 0). */
  gamma(s: number): number {
    const W = this.warmupNumSteps;
    if (s < W) return this.warmupType === "log" ? Math.log(s + 1) / Math.log(W) : s / W;
    return Math.max(0, (this.totalNumSteps - s) / Math.max(1, this.totalNumSteps - W));
  }

  /** DeepSpeed `get_lr` at last_batch_iteration = s (s < 0: 0, as DeepSpeed returns before the first step). */
  lrAtIteration(s: number): number {
    if (s < 0) return 0;
    return this.warmupMinLr + (this.warmupMaxLr - this.warmupMinLr) * this.gamma(s);
  }

  /** lr of the update that follows `done` completed updates (the trainer's view; see header). */
  lrAt(done: number): number {
    return done === 0 ? this.initialLr : this.lrAtIteration(done - 1);
  }
}

/** Every schedule name a DPO stage accepts (compiler/schema/blocks.ts `stage.schedule`). */
export type PrefScheduleKind = ScheduleKind | "warmup_decay_log";

export const PREF_SCHEDULE_KINDS: readonly PrefScheduleKind[] = [...SCHEDULE_KINDS, "warmup_decay_log"];

/** Anything that gives the lr of the next update from the number of updates done. */
export interface LrSource {
  lrAt(done: number): number;
}

/**
 * The schedule a recipe names: HF LambdaLR kinds through runtime/train, "warmup_decay_log" as DeepSpeed
 * WarmupDecayLR with HF's filling (min 0, max = lr, W warmup steps, T total).
 */
export function makeSchedule(kind: PrefScheduleKind, lr: number, warmup: number, total: number): LrSource {
  if (kind === "warmup_decay_log") {
    return new WarmupDecayLR({ warmupMinLr: 0, warmupMaxLr: lr, warmupNumSteps: warmup, totalNumSteps: total, warmupType: "log" });
  }
  if (!SCHEDULE_KINDS.includes(kind)) {
    throw new Error(`unknown lr schedule "${String(kind)}"; expected one of ${PREF_SCHEDULE_KINDS.join(", ")}`);
  }
  return new LrSchedule(kind, lr, warmup, total);
}

// One supervised fine-tuning update over a window of micro-batches, as HF Trainer's inner loop does it.
//
// Why this exists: this is the core the graph executor calls once per optimizer step (algorithms.md §5):
// backprop each micro-batch and sum the gradients; clip to max_grad_norm (logging the pre-clip norm); AdamW
// with the scheduled lr (λ of the number of updates already done) and per-parameter weight decay; zero grads.
// Loss normalisation follows transformers ≥ 4.46: every micro-batch's token-CE sum is divided by the label
// tokens of the whole window (`num_items_in_batch`); the older "mean per micro-batch / GA" is selectable.

import * as tf from "@tensorflow/tfjs";
import { Rng } from "../data/rng.js";
import type { LoraAdapter } from "../lora/adapter.js";
import type { ForwardContext, LlamaModel } from "../model/llama.js";
import { AdamW, type AdamWOptions, type AdamWState } from "./adamw.js";
import { clipGradNorm, isDecayed } from "./clip.js";
import { causalLmLoss, causalLmLossSum, countLabelTokens, type LmBatch } from "./loss.js";
import { LrSchedule, type ScheduleKind } from "./schedule.js";
import { addGradients, applyAdamW, type TrainableParam } from "./params.js";

export type { TrainableParam };

/** LoRA: only the adapters' A and B (PEFT names; all decayed, as HF does for LoRA weights). */
export function loraParams(adapter: LoraAdapter): TrainableParam[] {
  return [...adapter.trainableVariables()].map(([name, variable]) => ({ name, variable, decay: isDecayed(name) }));
}

/** Full fine-tuning: every base weight, made trainable; norms exempt from decay. */
export function fullParams(model: LlamaModel): TrainableParam[] {
  model.setTrainable(true);
  return [...model.weights].map(([name, variable]) => ({ name, variable, decay: isDecayed(name) }));
}

export interface SftStepOptions {
  lr: number;
  schedule: ScheduleKind;
  warmupSteps: number;
  totalSteps: number;
  weightDecay: number;
  /** 0 disables clipping (HF default 1.0). */
  maxGradNorm: number;
  adam?: Partial<AdamWOptions>;
  /** "window" (transformers ≥ 4.46, default) or "micro_mean" (older: micro-batch mean / GA). */
  lossNormalization?: "window" | "micro_mean";
  /** Seed of the dropout stream. */
  seed?: number | string;
}

/** A trainer's resumable state (see runtime/train/checkpoint.ts for how it is written). */
export interface TrainerState {
  updatesDone: number;
  optimizer: AdamWState;
  /** Named RNG streams as xoshiro128** state words. */
  rng: Record<string, number[]>;
}

export interface StepLog {
  /** Updates done after this one (1-based step number). */
  step: number;
  /** Mean token loss over the window (what HF logs as `loss`). */
  loss: number;
  /** Global gradient norm before clipping. */
  gradNorm: number;
  /** Learning rate this update used. */
  lr: number;
  labelTokens: number;
  tokens: number;
}

export class SftTrainer {
  readonly optimizer: AdamW;
  readonly schedule: LrSchedule;
  private done = 0;
  private readonly rng: Rng;

  constructor(
    readonly model: LlamaModel,
    readonly params: TrainableParam[],
    readonly options: SftStepOptions,
  ) {
    if (params.length === 0) throw new Error("SftTrainer: nothing to train");
    this.optimizer = new AdamW(options.adam);
    this.schedule = new LrSchedule(options.schedule, options.lr, options.warmupSteps, options.totalSteps);
    this.rng = new Rng(options.seed ?? 42);
  }

  get updatesDone(): number {
    return this.done;
  }

  /** What a checkpoint must hold to continue bit-identically: updates done, optimizer moments, RNG streams. */
  exportState(): TrainerState {
    return { updatesDone: this.done, optimizer: this.optimizer.exportState(), rng: { dropout: this.rng.state() } };
  }

  /** Continue from `exportState()` of an earlier trainer with the same settings (parameters restored by the caller). */
  restoreState(s: TrainerState): void {
    this.optimizer.loadState(s.optimizer);
    const dropout = s.rng["dropout"];
    if (dropout) this.rng.restore(dropout);
    this.done = s.updatesDone;
  }

  /** One optimizer update over `micro` (the accumulation window). */
  step(micro: LmBatch[]): StepLog {
    if (micro.length === 0) throw new Error("SftTrainer.step: empty accumulation window");
    const counts = micro.map((mb) => countLabelTokens(mb));
    const windowTokens = counts.reduce((a, b) => a + b, 0);
    const grads = this.params.map((p) => new Float32Array(p.variable.size));
    let loss = 0;
    micro.forEach((mb, i) => {
      const denom = this.options.lossNormalization === "micro_mean" ? counts[i] * micro.length : windowTokens;
      loss += this.accumulate(mb, denom, grads);
    });
    const { norm } = clipGradNorm(grads, this.options.maxGradNorm);
    const lr = this.schedule.lrAt(this.done);
    this.applyUpdate(grads, lr);
    this.done += 1;
    const tokens = micro.reduce((n, mb) => n + mb.batch * mb.seqLen, 0);
    return { step: this.done, loss, gradNorm: norm, lr, labelTokens: windowTokens, tokens };
  }

  /** Backprop one micro-batch's loss (Σ CE / denom) and add its gradients into `acc`; returns the loss value. */
  private accumulate(mb: LmBatch, denom: number, acc: Float32Array[]): number {
    const ctx: ForwardContext = { training: true, rng: this.rng };
    const vars = this.params.map((p) => p.variable);
    const { value, grads } = tf.variableGrads(() => causalLmLoss(this.model, mb, ctx, denom), vars);
    const loss = value.dataSync()[0];
    value.dispose();
    addGradients(this.params, grads, acc);
    return loss;
  }

  private applyUpdate(grads: Float32Array[], lr: number): void {
    applyAdamW(this.optimizer, this.params, grads, lr, this.options.weightDecay);
  }
}

/**
 * Loss over evaluation batches without gradients. `loss` is HF's eval_loss: each batch's mean token loss,
 * repeated per row and averaged (Trainer.evaluation_loop); `tokenMean` is Σ CE / Σ label tokens.
 */
export function evalLoss(model: LlamaModel, batches: LmBatch[]): { loss: number; tokenMean: number; labelTokens: number } {
  let sum = 0;
  let count = 0;
  let rowWeighted = 0;
  let rows = 0;
  for (const b of batches) {
    const r = causalLmLossSum(model, b);
    const s = r.sum.dataSync()[0];
    r.sum.dispose();
    sum += s;
    count += r.count;
    if (r.count > 0) {
      rowWeighted += (s / r.count) * b.batch;
      rows += b.batch;
    }
  }
  return { loss: rows > 0 ? rowWeighted / rows : Number.NaN, tokenMean: count > 0 ? sum / count : Number.NaN, labelTokens: count };
}

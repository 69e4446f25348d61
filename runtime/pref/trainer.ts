// One DPO / IPO / hinge / robust / SamPO optimizer update over an accumulation window, and evaluation.
//
// Why this exists: this is what the graph executor calls once per optimizer step of a `method = dpo` stage.
// It mirrors runtime/train/step.ts (SftTrainer) and HF Trainer + TRL DPOTrainer (algorithms.md §5–7):
//   per micro-batch: reference log-probs (no grad) and policy log-probs (one forward over [chosen; rejected]),
//   loss = mean over the micro-batch's pairs (loss.ts), backprop loss / GA (HF: DPOTrainer does not take
//   num_items_in_batch, so the Trainer divides by gradient_accumulation_steps); gradients summed over the
//   window; clip to max_grad_norm (logging the pre-clip norm); AdamW at the scheduled lr; zero.
// Logged values with TRL's names: `loss` = mean of the micro-batch losses (HF tr_loss / GA accumulation);
// rewards/*, logps/*, logits/* = mean over micro-batches of each micro-batch's mean (TRL stores per-batch
// metrics and averages them at log time); plus grad_norm and learning_rate.
// Randomness: one run seed; SamPO draws come from rng.fork("sampo") (training) and rng.fork("sampo-eval")
// (evaluation), policy pass first then reference pass, so each pass has its own subset. Dropout is off by
// default (TRL disable_dropout=True also zeroes PEFT's lora_dropout).

import * as tf from "@tensorflow/tfjs";
import { Rng } from "../data/rng.js";
import type { LlamaModel } from "../model/llama.js";
import { AdamW, type AdamWOptions } from "../train/adamw.js";
import { clipGradNorm } from "../train/clip.js";
import type { TrainerState } from "../train/step.js";
import { addGradients, applyAdamW, type TrainableParam } from "../train/params.js";
import { validPositions, type PrefBatch, type ValidPositions } from "./batch.js";
import { dpoLoss, dpoMetrics, type DpoLossKind, type DpoLossResult } from "./loss.js";
import { logpSums, weightedLogpSums, type PositionWeights } from "./logps.js";
import type { Reference, ReferenceCache } from "./reference.js";
import { sampoDraw } from "./sampo.js";
import { makeSchedule, type LrSource, type PrefScheduleKind } from "./warmup-decay.js";

export interface DpoOptions {
  loss: DpoLossKind;
  beta: number;
  labelSmoothing?: number;
  lr: number;
  schedule: PrefScheduleKind;
  warmupSteps: number;
  totalSteps: number;
  weightDecay: number;
  /** 0 disables clipping. */
  maxGradNorm: number;
  adam?: Partial<AdamWOptions>;
  /** The run's seed (SamPO draws, dropout); recorded in every log. Default 42 (HF). */
  seed?: number;
  /** Default true, as TRL. */
  disableDropout?: boolean;
}

export interface DpoStepLog {
  /** Updates done after this one. */
  step: number;
  /** TRL/HF names: loss, grad_norm, learning_rate, rewards/*, logps/*, logits/*. */
  metrics: Record<string, number>;
  pairs: number;
  tokens: number;
  /** SamPO: the seed and each pair's kept token count in the policy pass (min(T_c, T_r)); null otherwise. */
  sampo: { seed: number; kept: number[] } | null;
}

export interface DpoEvalLog {
  /** eval_loss, eval_rewards/*, eval_logps/*, eval_logits/* (HF / TRL `eval_` prefix). */
  metrics: Record<string, number>;
  pairs: number;
}

/** One scored micro-batch: loss result, policy log-probs and TRL's batch metrics. */
interface Scored {
  result: DpoLossResult;
  metrics: Record<string, number>;
  kept: number[];
}

export class DpoTrainer {
  readonly optimizer: AdamW;
  readonly schedule: LrSource;
  readonly seed: number;
  private done = 0;
  private readonly trainDraws: Rng;
  private readonly evalDraws: Rng;
  private readonly dropout: Rng;

  constructor(
    readonly model: LlamaModel,
    readonly params: TrainableParam[],
    readonly reference: Reference,
    readonly options: DpoOptions,
  ) {
    if (params.length === 0) throw new Error("DpoTrainer: nothing to train");
    this.optimizer = new AdamW(options.adam);
    this.schedule = makeSchedule(options.schedule, options.lr, options.warmupSteps, options.totalSteps);
    const rng = new Rng(options.seed ?? 42);
    this.seed = rng.seed;
    this.trainDraws = rng.fork("sampo");
    this.evalDraws = rng.fork("sampo-eval");
    this.dropout = rng.fork("dropout");
  }

  get updatesDone(): number {
    return this.done;
  }

  /** Updates done, optimizer moments and the SamPO/dropout RNG streams (for checkpoints). */
  exportState(): TrainerState {
    return { updatesDone: this.done, optimizer: this.optimizer.exportState(), rng: { sampo: this.trainDraws.state(), "sampo-eval": this.evalDraws.state(), dropout: this.dropout.state() } };
  }

  /** Continue from `exportState()` of a trainer with the same settings (parameters restored by the caller). */
  restoreState(s: TrainerState): void {
    this.optimizer.loadState(s.optimizer);
    const streams: [string, Rng][] = [["sampo", this.trainDraws], ["sampo-eval", this.evalDraws], ["dropout", this.dropout]];
    for (const [name, rng] of streams) if (s.rng[name]) rng.restore(s.rng[name]!);
    this.done = s.updatesDone;
  }

  /** Position weights of one log-prob pass: SamPO draws a fresh subset, IPO averages, others sum. */
  private weights(vp: ValidPositions, draws: Rng): { w: PositionWeights; kept: number[] } {
    if (this.options.loss === "ipo") return { w: "mean", kept: [] };
    if (this.options.loss !== "sampo") return { w: "sum", kept: [] };
    const d = sampoDraw(draws, vp.counts);
    return { w: d.weights, kept: Array.from(d.kept.slice(0, vp.counts.length / 2)) };
  }

  private score(mb: PrefBatch, vp: ValidPositions, policy: Float64Array, ref: Float64Array | null, logitSums: Float64Array): Scored {
    const B = mb.pairs;
    const lp = {
      policyChosen: policy.subarray(0, B), policyRejected: policy.subarray(B),
      referenceChosen: ref ? ref.subarray(0, B) : null, referenceRejected: ref ? ref.subarray(B) : null,
    };
    const result = dpoLoss(lp, { kind: this.options.loss, beta: this.options.beta, labelSmoothing: this.options.labelSmoothing });
    const V = this.model.config.vocabSize;
    const pooled = (from: number, to: number): number => {
      let s = 0;
      let n = 0;
      for (let r = from; r < to; r++) {
        s += logitSums[r];
        n += vp.counts[r];
      }
      return n > 0 ? s / (n * V) : Number.NaN;
    };
    const metrics: Record<string, number> = { ...dpoMetrics(result, lp), "logits/chosen": pooled(0, B), "logits/rejected": pooled(B, 2 * B) };
    return { result, metrics, kept: [] };
  }

  /**
   * Gradients summed over the window (pre-clip), the window's loss and metrics, without updating anything
   * (draws SamPO subsets like a step does). `step` is this plus clip + AdamW.
   */
  windowGradients(micro: PrefBatch[]): { grads: Float32Array[]; loss: number; metrics: Record<string, number>; kept: number[] } {
    if (micro.length === 0) throw new Error("DpoTrainer.step: empty accumulation window");
    const ga = micro.length;
    const grads = this.params.map((p) => new Float32Array(p.variable.size));
    const metrics: Record<string, number> = {};
    let loss = 0;
    const kept: number[] = [];
    for (const mb of micro) {
      const s = this.accumulate(mb, ga, grads);
      loss += s.result.loss / ga;
      for (const [k, v] of Object.entries(s.metrics)) metrics[k] = (metrics[k] ?? 0) + v / ga;
      kept.push(...s.kept);
    }
    return { grads, loss, metrics, kept };
  }

  /** One optimizer update over `micro` (the accumulation window). */
  step(micro: PrefBatch[]): DpoStepLog {
    const { grads, loss, metrics, kept } = this.windowGradients(micro);
    const { norm } = clipGradNorm(grads, this.options.maxGradNorm);
    const lr = this.schedule.lrAt(this.done);
    this.applyUpdate(grads, lr);
    this.done += 1;
    return {
      step: this.done,
      metrics: { loss, grad_norm: norm, learning_rate: lr, ...metrics },
      pairs: micro.reduce((n, mb) => n + mb.pairs, 0),
      tokens: micro.reduce((n, mb) => n + mb.batch * mb.seqLen, 0),
      sampo: this.options.loss === "sampo" ? { seed: this.seed, kept } : null,
    };
  }

  /** Backprop one micro-batch's (loss / GA) and add its gradients into `acc`. */
  private accumulate(mb: PrefBatch, ga: number, acc: Float32Array[]): Scored {
    const vp = validPositions(mb);
    const pw = this.weights(vp, this.trainDraws);
    const rw = this.reference.usesWeights ? this.weights(vp, this.trainDraws).w : "sum";
    const ref = this.reference.logps(mb, rw, vp);
    const ctx = this.options.disableDropout === false ? { training: true, rng: this.dropout } : {};
    const box: { scored?: Scored } = {};
    const vars = this.params.map((p) => p.variable);
    const { value, grads } = tf.variableGrads(() => {
      const { sums, logitSums } = weightedLogpSums(this.model, mb, pw.w, ctx, vp);
      box.scored = this.score(mb, vp, Float64Array.from(sums.dataSync()), ref, logitSums);
      const r = box.scored.result;
      const coef = new Float32Array(mb.batch);
      for (let b = 0; b < mb.pairs; b++) {
        coef[b] = r.gradChosen[b] / ga;
        coef[b + mb.pairs] = r.gradRejected[b] / ga;
      }
      // Σ coef_i · logπ_i has the loss's gradient with respect to every parameter (loss.ts header).
      return tf.sum(tf.mul(sums, tf.tensor1d(coef))) as tf.Scalar;
    }, vars);
    value.dispose();
    addGradients(this.params, grads, acc);
    if (!box.scored) throw new Error("DpoTrainer: the loss closure did not run");
    return { ...box.scored, kept: pw.kept };
  }

  private applyUpdate(grads: Float32Array[], lr: number): void {
    applyAdamW(this.optimizer, this.params, grads, lr, this.options.weightDecay);
  }

  /**
   * Loss and metrics over validation batches, no gradients. eval_loss weights each batch's mean loss by its
   * pair count (HF evaluation_loop repeats the batch loss per sample); the other metrics are means of the batch
   * means (TRL). SamPO draws come from the separate evaluation stream.
   */
  evaluate(batches: PrefBatch[]): DpoEvalLog {
    let lossWeighted = 0;
    let pairs = 0;
    const sums: Record<string, number> = {};
    for (const mb of batches) {
      const vp = validPositions(mb);
      const pw = this.weights(vp, this.evalDraws);
      const rw = this.reference.usesWeights ? this.weights(vp, this.evalDraws).w : "sum";
      const ref = this.reference.logps(mb, rw, vp);
      const { sums: t, logitSums } = weightedLogpSums(this.model, mb, pw.w, {}, vp);
      const policy = Float64Array.from(t.dataSync());
      t.dispose();
      const s = this.score(mb, vp, policy, ref, logitSums);
      lossWeighted += s.result.loss * mb.pairs;
      pairs += mb.pairs;
      for (const [k, v] of Object.entries(s.metrics)) sums[k] = (sums[k] ?? 0) + v;
    }
    const metrics: Record<string, number> = { eval_loss: pairs > 0 ? lossWeighted / pairs : Number.NaN };
    for (const [k, v] of Object.entries(sums)) metrics[`eval_${k}`] = v / batches.length;
    return { metrics, pairs };
  }
}

/**
 * Reference log-probs of every pair in `batches`, computed once (TRL precompute_ref_log_probs), for
 * `cachedReference`. SamPO (loss "sampo") draws each pair's reference subset here, once, from `seed`'s
 * "sampo-ref" stream; IPO stores per-token means.
 */
export function precomputeReference(
  model: LlamaModel,
  batches: PrefBatch[],
  loss: DpoLossKind,
  seed = 42,
  run: <T>(fn: () => T) => T = (fn) => fn(),
): ReferenceCache {
  const draws = new Rng(seed).fork("sampo-ref");
  const cache: ReferenceCache = new Map();
  for (const mb of batches) {
    const vp = validPositions(mb);
    const w: PositionWeights = loss === "ipo" ? "mean" : loss === "sampo" ? sampoDraw(draws, vp.counts).weights : "sum";
    const lp = run(() => logpSums(model, mb, w, vp));
    mb.exampleIndex.forEach((ix, b) => cache.set(ix, { chosen: lp[b], rejected: lp[b + mb.pairs] }));
  }
  return cache;
}

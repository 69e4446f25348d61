// Reference set-up for a DPO stage's round, and iterative DPO/SamPO (round i > 1 starts from round i − 1).
//
// Why this exists: SamPO's `dpo_iterative.sh` (algorithms.md §7) runs each round as a fresh run whose policy
// AND reference are both the previous round's checkpoint, with optimizer state and warmup/decay schedule
// restarted. A stage chain (SFT → DPO with `reference = sft`) needs the same thing for round 1: the SFT adapter
// is the policy's start and the SFT model (base + that adapter) the reference. Two ways to make "the current
// policy" a reference without a second copy of the base weights:
//   • "frozen_adapter" (default): keep training the same adapter; the reference pass swaps in a frozen
//     snapshot of the adapter's A/B (TRL's named "ref" adapter) — base weights untouched;
//   • "merge": fold the adapter into the base weights in place (W += s·A·B), restart the adapter (A re-drawn
//     as PEFT does, B = 0); the reference is then the base with the adapter disabled. The base is modified,
//     so the final adapter is relative to the merged weights.
// Full fine-tuning: the reference is a frozen copy of the current weights. The caller builds a new DpoTrainer
// per round, which restarts AdamW and the schedule.

import * as tf from "@tensorflow/tfjs";
import { Rng } from "../data/rng.js";
import type { LoraAdapter } from "../lora/adapter.js";
import type { LlamaModel } from "../model/llama.js";
import { transpose2d } from "../model/weights.js";
import { fullParams, loraParams, type TrainableParam } from "../train/step.js";
import { logpSums } from "./logps.js";
import { adapterDisabledReference, frozenCopy, frozenModelReference, NO_REFERENCE, type Reference } from "./reference.js";

export type RoundMode = "frozen_adapter" | "merge";

export interface PolicyState {
  model: LlamaModel;
  /** The LoRA adapter being trained, or null for full fine-tuning. */
  adapter: LoraAdapter | null;
}

/** Where round 1's reference comes from (rounds > 1 always use "policy"). */
export type ReferenceSpec =
  | { kind: "policy" } // the policy as it is now (stage chain: reference = the `from` stage)
  | { kind: "base" } // the LoRA policy's base model, adapter disabled (reference = the base model)
  | { kind: "model"; model: LlamaModel } // another frozen model
  | { kind: "none" }; // reference-free

export interface RoundSetup {
  round: number;
  reference: Reference;
  params: TrainableParam[];
  /** Free what this set-up created (frozen copies, snapshots). */
  dispose(): void;
}

/** A frozen snapshot of the adapter's factors; the reference pass runs with them swapped in. */
export function snapshotAdapterReference(model: LlamaModel, adapter: LoraAdapter): { reference: Reference; dispose(): void } {
  const frozen = new Map<string, { A: tf.Tensor; B: tf.Tensor }>();
  for (const m of adapter.modules.values()) frozen.set(m.name, { A: tf.clone(m.A), B: tf.clone(m.B) });
  const reference: Reference = {
    kind: "frozen_model",
    usesWeights: true,
    logps: (batch, weights, vp) => {
      const live = new Map<string, { A: tf.Tensor; B: tf.Tensor }>();
      for (const m of adapter.modules.values()) {
        live.set(m.name, { A: tf.clone(m.A), B: tf.clone(m.B) });
        m.A.assign(frozen.get(m.name)!.A);
        m.B.assign(frozen.get(m.name)!.B);
      }
      try {
        return logpSums(model, batch, weights, vp);
      } finally {
        for (const m of adapter.modules.values()) {
          const l = live.get(m.name)!;
          m.A.assign(l.A);
          m.B.assign(l.B);
          l.A.dispose();
          l.B.dispose();
        }
      }
    },
  };
  return {
    reference,
    dispose: () => {
      for (const f of frozen.values()) {
        f.A.dispose();
        f.B.dispose();
      }
    },
  };
}

/** W ← W + s·A·B for every adapted module, then A re-drawn (kaiming-uniform, PEFT) from `seed` and B ← 0. */
export function mergeAndRestartAdapter(model: LlamaModel, adapter: LoraAdapter, seed: number | string): void {
  if (adapter.merged) adapter.unmerge();
  const rng = new Rng(seed);
  const r = adapter.settings.r;
  for (const m of adapter.modules.values()) {
    const W = model.w(`${m.name}.weight`);
    const next = tf.tidy(() => tf.add(W, tf.mul(tf.matMul(m.A, m.B), m.scale)));
    W.assign(next);
    next.dispose();
    const bound = 1 / Math.sqrt(m.inFeatures);
    const aPeft = new Float32Array(r * m.inFeatures);
    for (let i = 0; i < aPeft.length; i++) aPeft[i] = (2 * rng.nextFloat() - 1) * bound;
    const a = tf.tensor2d(transpose2d(aPeft, r, m.inFeatures), [m.inFeatures, r]);
    const b = tf.zeros([r, m.outFeatures]);
    m.A.assign(a);
    m.B.assign(b);
    a.dispose();
    b.dispose();
  }
}

/**
 * Set up round `round` (1-based) of a DPO stage on `policy`: the reference and the trainable parameters.
 * Round 1 uses `first`; round i > 1 makes the current policy (= round i − 1's result) the reference, by `mode`.
 */
export function setupRound(
  round: number,
  policy: PolicyState,
  opts: { first?: ReferenceSpec; mode?: RoundMode; seed?: number | string } = {},
): RoundSetup {
  if (!Number.isInteger(round) || round < 1) throw new Error(`setupRound: round must be a positive integer, got ${round}`);
  const { model, adapter } = policy;
  const spec: ReferenceSpec = round === 1 ? (opts.first ?? (adapter ? { kind: "base" } : { kind: "policy" })) : { kind: "policy" };
  const params = adapter ? loraParams(adapter) : fullParams(model);
  const done = (reference: Reference, dispose: () => void = () => {}): RoundSetup => ({ round, reference, params, dispose });
  switch (spec.kind) {
    case "none":
      return done(NO_REFERENCE);
    case "model":
      return done(frozenModelReference(spec.model));
    case "base":
      if (!adapter) throw new Error("setupRound: reference \"base\" needs a LoRA policy (full fine-tuning has no base to fall back to)");
      return done(adapterDisabledReference(model, adapter));
    case "policy":
      if (!adapter) {
        const copy = frozenCopy(model);
        return done(frozenModelReference(copy), () => copy.dispose());
      }
      if ((opts.mode ?? "frozen_adapter") === "merge") {
        mergeAndRestartAdapter(model, adapter, `${opts.seed ?? 42}/round${round}`);
        return done(adapterDisabledReference(model, adapter));
      }
      {
        const snap = snapshotAdapterReference(model, adapter);
        return done(snap.reference, snap.dispose);
      }
  }
}

// The DPO reference model: what logπref comes from.
//
// Why this exists: TRL's choices (algorithms.md §6) each cost differently and the graph picks one per stage:
//   • adapter disabled — a LoRA policy's own base model (PEFT `disable_adapter()`): no extra memory;
//   • frozen model — a separate frozen copy of the starting model (full fine-tuning, or `reference = other`);
//   • precomputed — log-probs computed once per round and cached by source-row index (TRL
//     `precompute_ref_log_probs`); with SamPO the subset is then drawn once, at precompute time;
//   • none — reference-free (logπref := 0).
// A reference scores a batch with the same position weights as the policy pass (sum, per-token mean for IPO,
// or a SamPO mask drawn for this pass), always without gradients and without dropout.

import type { LoraAdapter } from "../lora/adapter.js";
import { LlamaModel } from "../model/llama.js";
import type { PrefBatch, ValidPositions } from "./batch.js";
import { logpSums, type PositionWeights } from "./logps.js";

export interface Reference {
  readonly kind: "adapter_disabled" | "frozen_model" | "precomputed" | "none";
  /** Whether `logps` uses the weights it is given (false: precomputed or none; no SamPO draw is needed). */
  readonly usesWeights: boolean;
  /** logπref per row of the concatenated batch [2B], or null when reference-free. */
  logps(batch: PrefBatch, weights: PositionWeights, vp: ValidPositions): Float64Array | null;
}

/** The policy's base model: the LoRA adapter switched off for the pass. */
export function adapterDisabledReference(model: LlamaModel, adapter: LoraAdapter): Reference {
  return {
    kind: "adapter_disabled",
    usesWeights: true,
    logps: (batch, weights, vp) => adapter.withDisabled(() => logpSums(model, batch, weights, vp)),
  };
}

/** A separate frozen model (its weights are never trained; any adapter on it stays as it is). */
export function frozenModelReference(model: LlamaModel): Reference {
  return { kind: "frozen_model", usesWeights: true, logps: (batch, weights, vp) => logpSums(model, batch, weights, vp) };
}

/**
 * A frozen copy of `model` as it is now: base weights with any merged LoRA folded in, plus, when `adapter` is
 * given and not merged, its branch merged into the copy (so the copy equals the current policy).
 */
export function frozenCopy(model: LlamaModel, adapter?: LoraAdapter | null): LlamaModel {
  const copy = LlamaModel.fromHfWeights(model.config, model.exportHfWeights());
  if (adapter && !adapter.merged && adapter.enabled) {
    for (const m of adapter.modules.values()) {
      const W = copy.w(`${m.name}.weight`);
      const delta = m.A.matMul(m.B).mul(m.scale);
      const next = W.add(delta);
      W.assign(next);
      delta.dispose();
      next.dispose();
    }
  }
  return copy;
}

/** Reference-free DPO: logπref := 0. */
export const NO_REFERENCE: Reference = { kind: "none", usesWeights: false, logps: () => null };

/** Cached log-probs by source-row index: chosen and rejected score of each pair. */
export type ReferenceCache = Map<number, { chosen: number; rejected: number }>;

/** Reference log-probs read from a cache (every pair of every batch must be in it). */
export function cachedReference(cache: ReferenceCache): Reference {
  return {
    kind: "precomputed",
    usesWeights: false,
    logps: (batch) => {
      const out = new Float64Array(batch.batch);
      batch.exampleIndex.forEach((ix, b) => {
        const hit = cache.get(ix);
        if (!hit) throw new Error(`precomputed reference log-probs lack example ${ix}; precompute over the same examples`);
        out[b] = hit.chosen;
        out[b + batch.pairs] = hit.rejected;
      });
      return out;
    },
  };
}

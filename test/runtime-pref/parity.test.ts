// DpoTrainer on the tiny Llama + LoRA vs the PyTorch reference: losses, LoRA gradients, clipping, AdamW, schedule.
//
// Why this exists: the whole DPO path — concatenated [chosen; rejected] forward, completion-only log-prob sums
// (IPO: per-token means; SamPO: down-sampled subsets), reference = the same model with the adapter disabled,
// loss / GA accumulation, clip, AdamW, linear warmup — must give the numbers TRL + HF Trainer would. The
// reference is test/fixtures/pref/make_pref_fixture.py on the weights of test/fixtures/llama (3 updates, GA 2).
// Tolerances (float32 model, different summation orders): losses and metrics relative ≤ 2e-5 (metrics below
// 0.01 in size absolute ≤ 2e-7: rewards are β·(difference of two float32 sums)), grad norms relative ≤ 2e-5,
// step-1 LoRA gradients max |Δ| / max |ref| ≤ 1e-4, parameters after 3 steps ≤ 1e-4.
// Measured (wasm, tfjs 4.22, torch 1.13, all four losses): losses 8.5e-7, grad norms 4.5e-7, gradients 2.1e-6,
// parameters 2.1e-7, metrics 1.4e-5 of the floored scale (IPO's tiny rewards).

import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { initBackend } from "../../runtime/backend/index.js";
import { LoraAdapter } from "../../runtime/lora/adapter.js";
import { LlamaModel } from "../../runtime/model/llama.js";
import { transpose2d, type HostWeights } from "../../runtime/model/weights.js";
import { microBatches } from "../../runtime/pref/batch.js";
import type { PrefExample } from "../../runtime/pref/data.js";
import { adapterDisabledReference } from "../../runtime/pref/reference.js";
import { DpoTrainer } from "../../runtime/pref/trainer.js";
import { loraParams } from "../../runtime/train/step.js";
import { loadAdapter, loadExpected, loadWeights, relMaxDiff, toConfig } from "../runtime-model/fixture.js";
import { loadPrefExpected, relErr } from "./fixture.js";

const exp = loadPrefExpected();
const M = exp.model;
let weights: HostWeights;
let adapterWeights: HostWeights;

beforeAll(async () => {
  await initBackend("wasm");
  weights = await loadWeights();
  adapterWeights = await loadAdapter();
});

function setup(kind: "sigmoid" | "ipo" | "hinge" | "sampo", beta: number) {
  const model = LlamaModel.fromHfWeights(toConfig(loadExpected().config["default"]), weights);
  const adapter = LoraAdapter.attach(model, { r: M.lora.r, alpha: M.lora.alpha, dropout: 0, targetModules: M.lora.targets, useRslora: false, seed: 0 });
  adapter.loadPeft(adapterWeights);
  const params = loraParams(adapter);
  const trainer = new DpoTrainer(model, params, adapterDisabledReference(model, adapter), {
    loss: kind, beta, lr: M.lr, schedule: "linear", warmupSteps: M.warmup, totalSteps: M.steps,
    weightDecay: M.weight_decay, maxGradNorm: M.max_grad_norm, seed: 42,
  });
  const examples: PrefExample[] = M.pairs.map(([p, c, r], index) => ({
    index, promptIds: p, chosenIds: c, rejectedIds: r, truncatedPrompt: false, truncatedResponse: false,
  }));
  const micro = microBatches(examples, M.micro_pairs);
  const dispose = () => {
    adapter.detach();
    model.dispose();
  };
  return { model, adapter, params, trainer, micro, dispose };
}

/** A LoRA tensor in PEFT layout (A [r, in], B [out, r]) from its in-memory [in, r] / [r, out] data. */
function peft(data: Float32Array, shape: number[]): Float32Array {
  return transpose2d(data, shape[0], shape[1]);
}

const CASES = [
  ["sigmoid", 0.1],
  ["ipo", 0.1],
  ["hinge", 0.5],
  ["sampo", 0.1],
] as const;

describe("DpoTrainer vs PyTorch (tiny Llama, LoRA q/v, GA 2, clip 0.5, AdamW, linear warmup 1 of 3)", () => {
  for (const [kind, beta] of CASES) {
    it(`${kind}: step-1 gradients, then 3 updates' loss, grad_norm, lr, TRL metrics and final weights`, () => {
      const ref = M.runs[kind];
      const s = setup(kind, beta);
      try {
        // gradients of the first window on a separate trainer (same seed ⇒ same SamPO subsets)
        const g = setup(kind, beta);
        try {
          const w = g.trainer.windowGradients(g.micro);
          g.params.forEach((p, i) => {
            const want = ref.grads_step1[p.name];
            expect(want, p.name).toBeDefined();
            expect(relMaxDiff(peft(w.grads[i], p.variable.shape), want), p.name).toBeLessThan(1e-4);
          });
        } finally {
          g.dispose();
        }
        for (let step = 0; step < M.steps; step++) {
          const log = s.trainer.step(s.micro);
          expect(relErr(log.metrics["loss"], ref.loss[step]), `loss ${step}`).toBeLessThan(2e-5);
          expect(relErr(log.metrics["grad_norm"], ref.grad_norm[step]), `grad_norm ${step}`).toBeLessThan(2e-5);
          expect(log.metrics["learning_rate"]).toBeCloseTo(ref.learning_rate[step], 12);
          // rewards/* are β·(log π − log π_ref), differences of summed log-probs (|logps| ≈ 8–32 here) that torch
          // and tune each round in float32: allow 4 float32 ulps of the log-prob sums, times β, besides 2e-5 relative.
          const logps = Math.max(Math.abs(ref.metrics[step]["logps/chosen"] ?? 0), Math.abs(ref.metrics[step]["logps/rejected"] ?? 0));
          for (const [k, v] of Object.entries(ref.metrics[step])) {
            const allowed = k.startsWith("rewards/") && k !== "rewards/accuracies"
              ? Math.max(2e-5 * Math.abs(v), beta * 4 * 2 ** -23 * logps)
              : 2e-5 * Math.max(Math.abs(v), 1e-2);
            expect(Math.abs(log.metrics[k] - v), `${k} step ${step}`).toBeLessThanOrEqual(allowed);
          }
          if (kind === "sampo") {
            expect(log.sampo?.seed).toBe(42);
            const kept = M.pairs.map(([, c, r]) => Math.min(c.length, r.length));
            expect(log.sampo?.kept).toEqual(kept);
          } else expect(log.sampo).toBeNull();
        }
        for (const [name, want] of Object.entries(ref.final)) {
          const p = s.params.find((q) => q.name === name)!;
          expect(relMaxDiff(peft(p.variable.dataSync() as Float32Array, p.variable.shape), want), name).toBeLessThan(1e-4);
        }
      } finally {
        s.dispose();
      }
    });
  }

  it("leaves no tensors behind per step", () => {
    const s = setup("sampo", 0.1);
    try {
      s.trainer.step(s.micro);
      const before = tf.memory().numTensors;
      s.trainer.step(s.micro);
      s.trainer.evaluate(s.micro);
      expect(tf.memory().numTensors).toBe(before);
    } finally {
      s.dispose();
    }
  });
});

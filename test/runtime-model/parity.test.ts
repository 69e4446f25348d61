// Parity of the TF.js (wasm) Llama, LoRA, loss, AdamW and SFT step with the PyTorch reference fixture.
//
// Why this exists: tune promises HF/PEFT/torch numerics; these tests pin them to numbers produced by
// test/fixtures/llama/make_llama_fixture.py. Tolerances (float32 everywhere, different summation orders):
//   logits max |Δ| ≤ 1e-4; losses relative ≤ 1e-5; LoRA gradients max |Δ| / max |ref| ≤ 1e-5;
//   AdamW/SFT parameters max |Δ| / max |ref| ≤ 5e-5 after 5 steps; grad norms relative ≤ 1e-5; lrs to 1e-12.
// Measured (wasm, tfjs 4.22, torch 1.13): logits 8.1e-6, losses ≤ 6e-7, grads 1.3e-6, params 2.3e-6 (LoRA)
// and 5.1e-6 (full), grad norms 2.4e-7.

import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { initBackend } from "../../runtime/backend/index.js";
import { LoraAdapter } from "../../runtime/lora/adapter.js";
import { LlamaModel } from "../../runtime/model/llama.js";
import { toHfLayout, transpose2d, type HostWeights } from "../../runtime/model/weights.js";
import { causalLmLoss, type LmBatch } from "../../runtime/train/loss.js";
import { fullParams, loraParams, SftTrainer, type TrainableParam } from "../../runtime/train/step.js";
import { type Expected, flatIds, loadAdapter, loadExpected, loadWeights, maxAbsDiff, relMaxDiff, toConfig } from "./fixture.js";

let exp: Expected;
let weights: HostWeights;
let adapterWeights: HostWeights;

const rel = (a: number, b: number) => Math.abs(a - b) / Math.abs(b);

function lossBatch(): LmBatch {
  return { ids: flatIds(exp.input_ids), labels: flatIds(exp.labels), batch: 2, seqLen: 8 };
}

function baseModel(variant = "default"): LlamaModel {
  return LlamaModel.fromHfWeights(toConfig(exp.config[variant]), weights);
}

function withLora(model: LlamaModel): LoraAdapter {
  const adapter = LoraAdapter.attach(model, {
    r: exp.lora.r, alpha: exp.lora.alpha, dropout: 0, targetModules: exp.lora.targets, useRslora: false, seed: 0,
  });
  adapter.loadPeft(adapterWeights);
  return adapter;
}

/** Gradient of a variable in PEFT layout ([r, in] for A, [out, r] for B). */
function peftGrad(g: tf.Tensor): Float32Array {
  const [rows, cols] = g.shape;
  return transpose2d(g.dataSync() as Float32Array, rows, cols);
}

function sftMicroBatches(): LmBatch[] {
  const rows = exp.sft.micro_batch_rows;
  const out: LmBatch[] = [];
  for (let i = 0; i < exp.sft.input_ids.length; i += rows) {
    out.push({
      ids: flatIds(exp.sft.input_ids.slice(i, i + rows)),
      labels: flatIds(exp.sft.labels.slice(i, i + rows)),
      batch: rows,
      seqLen: exp.sft.input_ids[0].length,
    });
  }
  return out;
}

function runSft(model: LlamaModel, params: TrainableParam[]) {
  const s = exp.sft;
  const trainer = new SftTrainer(model, params, {
    lr: s.lr, schedule: "linear", warmupSteps: s.warmup_steps, totalSteps: s.total_steps,
    weightDecay: s.weight_decay, maxGradNorm: s.max_grad_norm,
  });
  const micro = sftMicroBatches();
  return Array.from({ length: s.total_steps }, () => trainer.step(micro));
}

beforeAll(async () => {
  await initBackend("wasm");
  exp = loadExpected();
  weights = await loadWeights();
  adapterWeights = await loadAdapter();
});

describe("Llama forward parity (wasm vs PyTorch)", () => {
  for (const variant of ["default", "llama3", "linear_untied"]) {
    it(`logits match, rope/tying variant "${variant}" (max |Δ| ≤ 1e-4)`, () => {
      const model = baseModel(variant);
      const logits = model.logits({ ids: flatIds(exp.input_ids), batch: 2, seqLen: 8 });
      expect(maxAbsDiff(logits.dataSync(), exp.logits[variant])).toBeLessThanOrEqual(1e-4);
      logits.dispose();
      model.dispose();
    });
  }

  it("masked causal-LM loss matches HF ForCausalLMLoss (relative ≤ 1e-5)", () => {
    const model = baseModel();
    const loss = causalLmLoss(model, lossBatch());
    expect(rel(loss.dataSync()[0], exp.loss)).toBeLessThanOrEqual(1e-5);
    loss.dispose();
    model.dispose();
  });
});

describe("LoRA parity (PEFT semantics)", () => {
  it("loss with adapter and gradients of A and B match (grads max |Δ|/max|ref| ≤ 1e-5)", () => {
    const model = baseModel();
    const adapter = withLora(model);
    const vars = adapter.trainableVariables();
    const { value, grads } = tf.variableGrads(() => causalLmLoss(model, lossBatch()), [...vars.values()]);
    expect(rel(value.dataSync()[0], exp.loss_lora)).toBeLessThanOrEqual(1e-5);
    for (const [name, v] of vars) {
      const want = exp.lora_grads[name];
      expect(want, name).toBeDefined();
      expect(relMaxDiff(peftGrad(grads[v.name]!), want), name).toBeLessThanOrEqual(1e-5);
    }
    tf.dispose([value, ...Object.values(grads)]);
    adapter.detach();
    model.dispose();
  });

  it("merged weights give the reference merged logits (max |Δ| ≤ 1e-4)", () => {
    const model = baseModel();
    const adapter = withLora(model);
    adapter.merge();
    const logits = model.logits({ ids: flatIds(exp.input_ids), batch: 2, seqLen: 8 });
    expect(maxAbsDiff(logits.dataSync(), exp.logits_merged)).toBeLessThanOrEqual(1e-4);
    logits.dispose();
    adapter.detach();
    model.dispose();
  });
});

describe("AdamW and SFT step parity (torch.optim.AdamW, clip_grad_norm_, HF schedule)", () => {
  it("5 AdamW steps (lr 1e-2, wd 0.01) on LoRA params: losses and final params", () => {
    const model = baseModel();
    const adapter = withLora(model);
    const trainer = new SftTrainer(model, loraParams(adapter), {
      lr: 1e-2, schedule: "constant", warmupSteps: 0, totalSteps: 5, weightDecay: 0.01, maxGradNorm: 0,
    });
    const losses = Array.from({ length: 5 }, () => trainer.step([lossBatch()]).loss);
    losses.forEach((l, i) => expect(rel(l, exp.adamw.losses[i]), `step ${i + 1}`).toBeLessThanOrEqual(1e-5));
    for (const [name, data] of adapter.exportPeft()) {
      expect(relMaxDiff(data.data, exp.adamw.params[name]), name).toBeLessThanOrEqual(5e-5);
    }
    adapter.detach();
    model.dispose();
  });

  it("LoRA SFT: GA 2, window-normalised loss, clip 0.05, linear warmup — losses, grad norms, lrs", () => {
    const model = baseModel();
    const adapter = withLora(model);
    const before = tf.memory().numTensors;
    const logs = runSft(model, loraParams(adapter));
    expect(tf.memory().numTensors, "no tensors leak across steps").toBe(before);
    const ref = exp.sft.lora;
    logs.forEach((l, i) => {
      expect(rel(l.loss, ref.losses[i]), `loss ${i + 1}`).toBeLessThanOrEqual(1e-5);
      expect(rel(l.gradNorm, ref.grad_norms[i]), `grad_norm ${i + 1}`).toBeLessThanOrEqual(1e-5);
      expect(l.lr).toBeCloseTo(ref.lrs[i], 12);
    });
    adapter.detach();
    model.dispose();
  });

  it("full fine-tuning SFT: no decay on norms; losses, grad norms and final weights", () => {
    const model = baseModel();
    const logs = runSft(model, fullParams(model));
    const ref = exp.sft.full;
    logs.forEach((l, i) => {
      expect(rel(l.loss, ref.losses[i]), `loss ${i + 1}`).toBeLessThanOrEqual(1e-5);
      expect(rel(l.gradNorm, ref.grad_norms[i]), `grad_norm ${i + 1}`).toBeLessThanOrEqual(1e-5);
    });
    for (const [name, want] of Object.entries(ref.final)) {
      expect(relMaxDiff(toHfLayout(name, model.w(name)).data, want), name).toBeLessThanOrEqual(5e-5);
    }
    model.dispose();
  });
});

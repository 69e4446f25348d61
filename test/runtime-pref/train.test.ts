// End to end on a random tiny Llama + LoRA: DPO and SamPO learn a preference; references and iterative rounds.
//
// Why this exists: beyond matching PyTorch on three steps (parity.test.ts), training must actually move the
// policy toward the chosen answers: on synthetic pairs where the chosen answer is a polite word and the rejected
// one a rude word (the llm_from_scratch preference set's idea), rewards/accuracies and the margin must rise over
// training, and on held-out pairs (topics never trained on) the policy's log-prob gap logπ(c) − logπ(r) must grow
// over the start model's and the eval rewards/accuracies exceed 0.5.
// Also: precomputed reference log-probs equal live ones; round 2 starts with reference = round 1's policy
// (rewards exactly 0 at its start) in both round modes; "merge" leaves the policy's outputs unchanged.

import { beforeAll, describe, expect, it } from "vitest";
import { initBackend } from "../../runtime/backend/index.js";
import { Rng } from "../../runtime/data/rng.js";
import type { TokenizerLike } from "../../runtime/data/tokenize.js";
import { LoraAdapter } from "../../runtime/lora/adapter.js";
import type { LlamaConfig } from "../../runtime/model/config.js";
import { LlamaModel } from "../../runtime/model/llama.js";
import { microBatches, validPositions, type PrefBatch } from "../../runtime/pref/batch.js";
import { tokenizePreferences, type PrefExample } from "../../runtime/pref/data.js";
import { logpSums } from "../../runtime/pref/logps.js";
import { adapterDisabledReference, cachedReference, frozenCopy, frozenModelReference } from "../../runtime/pref/reference.js";
import { setupRound } from "../../runtime/pref/rounds.js";
import { DpoTrainer, precomputeReference, type DpoOptions } from "../../runtime/pref/trainer.js";
import { loraParams } from "../../runtime/train/step.js";

const ALPHABET = "abcdefghijklmnopqrstuvwxyz ?!.:";
const tok: TokenizerLike = { encode: (s) => Array.from(s, (c) => 3 + ALPHABET.indexOf(c)) };
const CONFIG: LlamaConfig = {
  vocabSize: 40, hiddenSize: 32, intermediateSize: 64, numLayers: 2, numHeads: 4, numKvHeads: 2, headDim: 8,
  rmsNormEps: 1e-5, ropeTheta: 10000, ropeScaling: null, maxPositionEmbeddings: 64, tieWordEmbeddings: true,
  bosTokenId: 1, eosTokenIds: [2], padTokenId: 0,
};
const POLITE = ["thanks", "please", "kindly", "sure"];
const RUDE = ["no", "go away", "shut up", "whatever"];
const TOPICS = ["rain", "cats", "tea", "maps", "bikes", "jazz", "soup", "kites", "owls", "sand", "milk", "pens"];

function pairs(topics: string[], seed: number): Record<string, string>[] {
  const rng = new Rng(seed);
  return topics.map((t) => ({ prompt: `${t}?`, chosen: `${t}: ${POLITE[rng.int(4)]}.`, rejected: `${t}: ${RUDE[rng.int(4)]}!` }));
}

function data(topics: string[], seed: number): PrefExample[] {
  return tokenizePreferences(pairs(topics, seed), tok, { name: "qa", prompt: "q: {{prompt}} a: ", eos: true }, {
    maxLength: 48, maxPromptLength: 24, truncation: "keep_start", bosId: 1, eosId: 2,
  }).examples;
}

function lora(model: LlamaModel): LoraAdapter {
  return LoraAdapter.attach(model, { r: 8, alpha: 16, dropout: 0, targetModules: "all-linear", useRslora: false, seed: 3 });
}

const OPTS: DpoOptions = {
  loss: "sigmoid", beta: 0.1, lr: 2e-2, schedule: "constant", warmupSteps: 0, totalSteps: 12, weightDecay: 0, maxGradNorm: 1, seed: 42,
};

/** Mean over pairs of logπ(chosen) − logπ(rejected): how much the model prefers the chosen answers. */
function preference(model: LlamaModel, batches: PrefBatch[]): number {
  let sum = 0;
  let n = 0;
  for (const b of batches) {
    const lp = logpSums(model, b, "sum");
    for (let i = 0; i < b.pairs; i++, n++) sum += lp[i] - lp[i + b.pairs];
  }
  return sum / n;
}

beforeAll(async () => {
  await initBackend("wasm");
});

describe("DPO end to end on a random tiny Llama + LoRA", () => {
  for (const loss of ["sigmoid", "sampo"] as const) {
    it(`${loss}: accuracies and margins rise; held-out pairs are preferred more than by the start model`, () => {
      const model = LlamaModel.random(CONFIG, 7);
      const adapter = lora(model);
      const train = microBatches(data(TOPICS.slice(0, 8), 1), 4);
      const heldOut = microBatches(data(TOPICS.slice(8), 2), 4);
      const trainer = new DpoTrainer(model, loraParams(adapter), adapterDisabledReference(model, adapter), { ...OPTS, loss });
      const startHeldOut = preference(model, heldOut);
      const logs = Array.from({ length: OPTS.totalSteps }, () => trainer.step(train));
      const first = logs[0].metrics;
      const last = logs[logs.length - 1].metrics;
      const ev = trainer.evaluate(heldOut).metrics;
      const endHeldOut = preference(model, heldOut);
      // Report-worthy numbers (printed once per run).
      console.log(`${loss}: acc ${first["rewards/accuracies"]} → ${last["rewards/accuracies"]}, margin ${first["rewards/margins"].toFixed(4)} → ${last["rewards/margins"].toFixed(4)}, loss ${first["loss"].toFixed(4)} → ${last["loss"].toFixed(4)}; held-out logπ(c) − logπ(r) ${startHeldOut.toFixed(3)} → ${endHeldOut.toFixed(3)}, eval acc ${ev["eval_rewards/accuracies"]}, eval margin ${ev["eval_rewards/margins"].toFixed(4)}`);
      // policy = reference at the start: rewards 0 and strict accuracy 0 — except SamPO, whose policy and
      // reference passes score different token subsets
      if (loss === "sigmoid") expect(first["rewards/accuracies"]).toBe(0);
      else expect(first["rewards/accuracies"]).toBeLessThanOrEqual(0.5);
      expect(last["rewards/accuracies"]).toBeGreaterThanOrEqual(0.875);
      expect(last["rewards/margins"]).toBeGreaterThan(first["rewards/margins"] + 0.3);
      expect(last["loss"]).toBeLessThan(first["loss"] - 0.15);
      expect(ev["eval_rewards/accuracies"]).toBeGreaterThan(0.5);
      expect(ev["eval_rewards/margins"]).toBeGreaterThan(0);
      expect(endHeldOut).toBeGreaterThan(startHeldOut + 1);
      for (const k of ["loss", "grad_norm", "learning_rate", "rewards/chosen", "rewards/rejected", "logps/chosen", "logps/rejected", "logits/chosen"]) {
        expect(Number.isFinite(last[k]), k).toBe(true);
      }
      adapter.detach();
      model.dispose();
    });
  }

  it("precomputed reference log-probs give the same step as the live reference (sigmoid)", () => {
    const make = () => {
      const model = LlamaModel.random(CONFIG, 9);
      const adapter = lora(model);
      return { model, adapter, train: microBatches(data(TOPICS.slice(0, 4), 3), 2) };
    };
    const a = make();
    const b = make();
    const cache = precomputeReference(b.model, b.train, "sigmoid", 42, (fn) => b.adapter.withDisabled(fn));
    expect(cache.size).toBe(4);
    const la = new DpoTrainer(a.model, loraParams(a.adapter), adapterDisabledReference(a.model, a.adapter), OPTS).step(a.train).metrics;
    const lb = new DpoTrainer(b.model, loraParams(b.adapter), cachedReference(cache), OPTS).step(b.train).metrics;
    for (const k of Object.keys(la)) expect(lb[k], k).toBeCloseTo(la[k], 5);
    for (const m of [a, b]) {
      m.adapter.detach();
      m.model.dispose();
    }
  });
});

describe("iterative rounds", () => {
  for (const mode of ["frozen_adapter", "merge"] as const) {
    it(`${mode}: round 2's reference is round 1's policy; optimizer and schedule restart`, () => {
      const model = LlamaModel.random(CONFIG, 11);
      const adapter = lora(model);
      const train = microBatches(data(TOPICS.slice(0, 4), 4), 4);
      const r1 = setupRound(1, { model, adapter });
      expect(r1.reference.kind).toBe("adapter_disabled");
      const t1 = new DpoTrainer(model, r1.params, r1.reference, OPTS);
      for (let i = 0; i < 3; i++) t1.step(train);
      const policyAfter1 = logpSums(model, train[0], "sum");
      r1.dispose();

      const r2 = setupRound(2, { model, adapter }, { mode });
      const vp = validPositions(train[0]);
      const ref2 = r2.reference.logps(train[0], "sum", vp)!;
      Array.from(ref2).forEach((v, i) => expect(v).toBeCloseTo(policyAfter1[i], 4));
      // the policy itself is unchanged by the set-up (merge folds the adapter in and restarts it at B = 0)
      Array.from(logpSums(model, train[0], "sum")).forEach((v, i) => expect(v).toBeCloseTo(policyAfter1[i], 4));
      const t2 = new DpoTrainer(model, r2.params, r2.reference, OPTS);
      expect(t2.updatesDone).toBe(0);
      expect(t2.optimizer.stepCount(r2.params[0].name)).toBe(0);
      const log = t2.step(train);
      expect(Math.abs(log.metrics["rewards/chosen"])).toBeLessThan(1e-4);
      expect(Math.abs(log.metrics["rewards/margins"])).toBeLessThan(1e-4);
      expect(log.metrics["loss"]).toBeCloseTo(Math.log(2), 4);
      r2.dispose();
      adapter.detach();
      model.dispose();
    });
  }

  it("full fine-tuning: the round-2 reference is a frozen copy of round 1's weights", () => {
    const model = LlamaModel.random(CONFIG, 13);
    const train = microBatches(data(TOPICS.slice(0, 2), 5), 2);
    const r1 = setupRound(1, { model, adapter: null });
    expect(r1.reference.kind).toBe("frozen_model");
    const t1 = new DpoTrainer(model, r1.params, r1.reference, { ...OPTS, lr: 1e-3 });
    t1.step(train);
    r1.dispose();
    const r2 = setupRound(2, { model, adapter: null });
    const before = r2.reference.logps(train[0], "sum", validPositions(train[0]))!;
    new DpoTrainer(model, r2.params, r2.reference, { ...OPTS, lr: 1e-3 }).step(train);
    const after = r2.reference.logps(train[0], "sum", validPositions(train[0]))!;
    expect(Array.from(after)).toEqual(Array.from(before)); // frozen
    expect(logpSums(model, train[0], "sum")[0]).not.toBeCloseTo(before[0], 6); // the policy moved
    r2.dispose();
    model.dispose();
  });

  it("a stage chain's reference = the `from` model with its adapter (frozen copy equals the policy)", () => {
    const model = LlamaModel.random(CONFIG, 17);
    const adapter = lora(model);
    const train = microBatches(data(TOPICS.slice(0, 2), 6), 2);
    new DpoTrainer(model, loraParams(adapter), adapterDisabledReference(model, adapter), OPTS).step(train);
    const copy = frozenCopy(model, adapter);
    const vp = validPositions(train[0]);
    const fromCopy = frozenModelReference(copy).logps(train[0], "sum", vp)!;
    const policy = logpSums(model, train[0], "sum");
    Array.from(fromCopy).forEach((v, i) => expect(v).toBeCloseTo(policy[i], 4));
    const chained = setupRound(1, { model, adapter }, { first: { kind: "policy" } });
    Array.from(chained.reference.logps(train[0], "sum", vp)!).forEach((v, i) => expect(v).toBeCloseTo(policy[i], 4));
    chained.dispose();
    copy.dispose();
    adapter.detach();
    model.dispose();
  });
});

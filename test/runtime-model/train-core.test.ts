// Schedules, warmup/total-step arithmetic, AdamW, clipping, decay split and loss bookkeeping vs their formulas.
//
// Why this exists: these are HF/torch semantics restated in algorithms.md §4–§5; small off-by-one errors
// (warmup starting at lr 0, λ of updates done, ceil vs floor) change every run, so each is pinned here.

import { describe, expect, it } from "vitest";
import { AdamW } from "../../runtime/train/adamw.js";
import { clipGradNorm, globalGradNorm, isDecayed } from "../../runtime/train/clip.js";
import { countLabelTokens, IGNORE_INDEX, maskSegmentStarts, shiftedTargets } from "../../runtime/train/loss.js";
import { LrSchedule, lrLambda, totalSteps, warmupSteps } from "../../runtime/train/schedule.js";

describe("lr schedules (transformers optimization.py)", () => {
  const W = 3;
  const T = 10;
  it("linear: s/W during warmup, then (T−s)/(T−W), floored at 0", () => {
    const got = Array.from({ length: 12 }, (_, s) => lrLambda("linear", s, W, T));
    const want = [0, 1 / 3, 2 / 3, 1, 6 / 7, 5 / 7, 4 / 7, 3 / 7, 2 / 7, 1 / 7, 0, 0];
    got.forEach((g, i) => expect(g).toBeCloseTo(want[i], 12));
  });
  it("cosine (num_cycles 0.5): 0.5(1 + cos(π·p)) after warmup", () => {
    for (let s = W; s <= T; s++) {
      const p = (s - W) / (T - W);
      expect(lrLambda("cosine", s, W, T)).toBeCloseTo(0.5 * (1 + Math.cos(Math.PI * p)), 12);
    }
    expect(lrLambda("cosine", 1, W, T)).toBeCloseTo(1 / 3, 12);
    expect(lrLambda("cosine", T, W, T)).toBeCloseTo(0, 12);
  });
  it("constant_with_warmup and constant", () => {
    expect([0, 1, 2, 3, 9].map((s) => lrLambda("constant_with_warmup", s, W, T))).toEqual([0, 1 / 3, 2 / 3, 1, 1]);
    expect([0, 5, 50].map((s) => lrLambda("constant", s, W, T))).toEqual([1, 1, 1]);
  });
  it("no warmup: the first update uses the full lr; LrSchedule scales by base lr", () => {
    expect(lrLambda("linear", 0, 0, 4)).toBe(1);
    const s = new LrSchedule("linear", 2e-4, 2, 5);
    const want = [0, 1e-4, 2e-4, (2e-4 * 2) / 3, 2e-4 / 3];
    want.forEach((w, d) => expect(s.lrAt(d)).toBeCloseTo(w, 15));
    expect(() => new LrSchedule("bogus" as never, 1, 0, 1)).toThrow(/unknown lr schedule/);
  });
  it("warmup steps: explicit steps win, else ceil(T·ratio); total steps: max_steps or ceil(epochs·U)", () => {
    expect(warmupSteps(100, 5, 0.5)).toBe(5);
    expect(warmupSteps(101, 0, 0.03)).toBe(4);
    expect(totalSteps({ maxSteps: 7, epochs: 3, batchesPerEpoch: 100, gradAccum: 4 })).toBe(7);
    expect(totalSteps({ epochs: 3, batchesPerEpoch: 10, gradAccum: 4 })).toBe(6);
    expect(totalSteps({ epochs: 3, batchesPerEpoch: 10, gradAccum: 4, rounding: "ceil" })).toBe(9);
    expect(totalSteps({ epochs: 1.5, batchesPerEpoch: 3, gradAccum: 4 })).toBe(2);
  });
});

describe("AdamW (torch semantics)", () => {
  it("first step moves each weight by ≈ lr·sign(g) after decoupled decay; bias correction on", () => {
    const value = Float32Array.from([1, -2, 0.5]);
    const grad = Float32Array.from([0.3, -0.01, 2]);
    new AdamW().step([{ name: "w", value, grad, weightDecay: 0.1 }], 0.01);
    const expected = [1 * (1 - 0.001) - 0.01, -2 * (1 - 0.001) + 0.01, 0.5 * (1 - 0.001) - 0.01];
    expected.forEach((e, i) => expect(value[i]).toBeCloseTo(e, 5));
  });
  it("matches a float64 reference over several steps (eps outside the sqrt)", () => {
    const opt = new AdamW({ eps: 1e-3 });
    const value = Float32Array.from([0.2]);
    let ref = 0.2;
    let m = 0;
    let v = 0;
    for (let t = 1; t <= 4; t++) {
      const g = 0.05 * t;
      opt.step([{ name: "w", value, grad: Float32Array.from([g]), weightDecay: 0.01 }], 0.1);
      ref *= 1 - 0.1 * 0.01;
      m = 0.9 * m + 0.1 * g;
      v = 0.999 * v + 0.001 * g * g;
      ref -= (0.1 / (1 - 0.9 ** t)) * (m / (Math.sqrt(v) / Math.sqrt(1 - 0.999 ** t) + 1e-3));
      expect(value[0]).toBeCloseTo(ref, 6);
    }
    expect(opt.stepCount("w")).toBe(4);
    const state = opt.exportState();
    const copy = new AdamW();
    copy.loadState(state);
    expect(copy.stepCount("w")).toBe(4);
  });
});

describe("clipping and decay split", () => {
  it("global norm over tensors; clip scales by max/(norm+1e-6) only when above", () => {
    const a = Float32Array.from([3, 0]);
    const b = Float32Array.from([0, 4]);
    expect(globalGradNorm([a, b])).toBeCloseTo(5, 6);
    const r = clipGradNorm([a, b], 1);
    expect(r.norm).toBeCloseTo(5, 6);
    expect(a[0]).toBeCloseTo(3 / (5 + 1e-6), 6);
    expect(clipGradNorm([a, b], 10).scale).toBe(1);
    expect(clipGradNorm([a, b], 0).scale).toBe(1);
  });
  it("no weight decay on norms and biases (HF get_decay_parameter_names)", () => {
    expect(isDecayed("model.layers.0.input_layernorm.weight")).toBe(false);
    expect(isDecayed("model.layers.0.post_attention_layernorm.weight")).toBe(false);
    expect(isDecayed("model.norm.weight")).toBe(false);
    expect(isDecayed("model.layers.0.self_attn.q_proj.bias")).toBe(false);
    expect(isDecayed("model.layers.0.self_attn.q_proj.weight")).toBe(true);
    expect(isDecayed("model.embed_tokens.weight")).toBe(true);
    expect(isDecayed("base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight")).toBe(true);
  });
});

describe("label bookkeeping", () => {
  it("labels shift left; −100 and the last position carry no loss", () => {
    const labels = Int32Array.from([5, IGNORE_INDEX, 7, 8, /* row 2 */ 1, 2, IGNORE_INDEX, IGNORE_INDEX]);
    const { rows, targets } = shiftedTargets(labels, 2, 4);
    expect([...rows]).toEqual([1, 2, 4]);
    expect([...targets]).toEqual([7, 8, 2]);
    expect(countLabelTokens({ labels, batch: 2, seqLen: 4 })).toBe(3);
  });
  it("segment starts are masked so packed sequences do not predict each other", () => {
    const out = maskSegmentStarts(Int32Array.from([1, 2, 3, 4, 5]), Int32Array.from([0, 0, 1, 1, 2]), 1, 5);
    expect([...out]).toEqual([1, 2, IGNORE_INDEX, 4, IGNORE_INDEX]);
  });
});

// LoRA adapter behaviour (PEFT semantics): init, targets, merge/unmerge, disable, save/load, dropout.
//
// Why this exists: adapters must start as a no-op, touch only the targeted modules, merge into the base
// and back without drift, and switch off exactly for reference passes (DPO); these properties are
// checked here against the base model itself.

import * as tf from "@tensorflow/tfjs";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { initBackend } from "../../runtime/backend/index.js";
import { Rng } from "../../runtime/data/rng.js";
import { LoraAdapter, peftTensorName } from "../../runtime/lora/adapter.js";
import { isTargeted, type LoraSettings, loraScale } from "../../runtime/lora/config.js";
import { LlamaModel } from "../../runtime/model/llama.js";
import { type HostWeights } from "../../runtime/model/weights.js";
import { loraParams } from "../../runtime/train/step.js";
import { type Expected, flatIds, loadExpected, loadWeights, maxAbsDiff, toConfig } from "./fixture.js";

let exp: Expected;
let weights: HostWeights;
const live: { model: LlamaModel; adapter?: LoraAdapter }[] = [];

const SETTINGS: LoraSettings = { r: 4, alpha: 8, dropout: 0, targetModules: ["q_proj", "v_proj"], useRslora: false, seed: 3 };

beforeAll(async () => {
  await initBackend("wasm");
  exp = loadExpected();
  weights = await loadWeights();
});

afterEach(() => {
  for (const x of live.splice(0)) {
    x.adapter?.detach();
    x.model.dispose();
  }
});

function setup(settings: Partial<LoraSettings> = {}): { model: LlamaModel; adapter: LoraAdapter } {
  const model = LlamaModel.fromHfWeights(toConfig(exp.config["default"]), weights);
  const adapter = LoraAdapter.attach(model, { ...SETTINGS, ...settings });
  live.push({ model, adapter });
  return { model, adapter };
}

/** Give every B a nonzero value so the adapter changes the output. */
function randomizeB(adapter: LoraAdapter): void {
  const rng = new Rng(11);
  for (const m of adapter.modules.values()) {
    const t = tf.tensor(Float32Array.from({ length: m.B.size }, () => rng.nextFloat() - 0.5), m.B.shape);
    m.B.assign(t);
    t.dispose();
  }
}

function logits(model: LlamaModel): Float32Array {
  const t = model.logits({ ids: flatIds(exp.input_ids), batch: 2, seqLen: 8 });
  const d = Float32Array.from(t.dataSync());
  t.dispose();
  return d;
}

describe("LoRA init and targets", () => {
  it("starts as a no-op: B = 0 and A ~ U(−1/√in, 1/√in); base frozen, only A/B trainable", () => {
    const base = LlamaModel.fromHfWeights(toConfig(exp.config["default"]), weights);
    live.push({ model: base });
    const { model, adapter } = setup();
    expect(maxAbsDiff(logits(model), logits(base))).toBe(0);
    const bound = 1 / Math.sqrt(32);
    for (const m of adapter.modules.values()) {
      const a = m.A.dataSync();
      expect(Math.max(...a.map(Math.abs))).toBeLessThanOrEqual(bound);
      expect(Math.max(...a.map(Math.abs))).toBeGreaterThan(bound * 0.8);
      expect(m.B.dataSync().every((x) => x === 0)).toBe(true);
    }
    expect([...model.weights.values()].every((v) => !v.trainable)).toBe(true);
    expect(loraParams(adapter).every((p) => p.variable.trainable && p.decay)).toBe(true);
    expect(adapter.modules.size).toBe(4);
  });

  it("init is reproducible from the seed", () => {
    const a = setup().adapter.exportPeft();
    const b = setup().adapter.exportPeft();
    const c = setup({ seed: 4 }).adapter.exportPeft();
    const name = peftTensorName("model.layers.1.self_attn.v_proj", "A");
    expect(maxAbsDiff(a.get(name)!.data, b.get(name)!.data)).toBe(0);
    expect(maxAbsDiff(a.get(name)!.data, c.get(name)!.data)).toBeGreaterThan(0);
  });

  it("target matching: names, all-linear (never lm_head), regex", () => {
    expect(isTargeted("model.layers.0.self_attn.q_proj", ["q_proj"])).toBe(true);
    expect(isTargeted("model.layers.0.self_attn.q_proj", ["proj"])).toBe(false);
    expect(isTargeted("model.layers.0.mlp.down_proj", "all-linear")).toBe(true);
    expect(isTargeted("lm_head", "all-linear")).toBe(false);
    expect(isTargeted("model.layers.1.mlp.up_proj", String.raw`.*\.1\.mlp\.(up|down)_proj`)).toBe(true);
    expect(isTargeted("model.layers.0.mlp.up_proj", String.raw`.*\.1\.mlp\.(up|down)_proj`)).toBe(false);
    expect(setup({ targetModules: "all-linear" }).adapter.modules.size).toBe(14);
    expect(() => setup({ targetModules: ["nope"] })).toThrow(/matched no module/);
  });

  it("scale is alpha/r, or alpha/√r with rsLoRA", () => {
    expect(loraScale({ r: 4, alpha: 8, useRslora: false })).toBe(2);
    expect(loraScale({ r: 4, alpha: 8, useRslora: true })).toBe(4);
  });
});

describe("merge, unmerge, disable", () => {
  it("merged forward equals the unmerged adapter forward; unmerge restores the base weights", () => {
    const { model, adapter } = setup({ targetModules: "all-linear" });
    randomizeB(adapter);
    const before = model.exportHfWeights();
    const unmerged = logits(model);
    adapter.merge();
    expect(adapter.merged).toBe(true);
    expect(maxAbsDiff(logits(model), unmerged)).toBeLessThan(1e-4);
    adapter.unmerge();
    const after = model.exportHfWeights();
    for (const [name, t] of before) expect(maxAbsDiff(after.get(name)!.data, t.data), name).toBeLessThan(1e-6);
    expect(maxAbsDiff(logits(model), unmerged)).toBeLessThan(1e-5);
  });

  it("a disabled adapter gives exactly the base model, merged or not, and re-enables afterwards", () => {
    const base = LlamaModel.fromHfWeights(toConfig(exp.config["default"]), weights);
    live.push({ model: base });
    const ref = logits(base);
    const { model, adapter } = setup();
    randomizeB(adapter);
    const adapted = logits(model);
    expect(maxAbsDiff(adapted, ref)).toBeGreaterThan(1e-3);
    expect(maxAbsDiff(adapter.withDisabled(() => logits(model)), ref)).toBe(0);
    adapter.merge();
    expect(maxAbsDiff(adapter.withDisabled(() => logits(model)), ref)).toBeLessThan(1e-5);
    expect(adapter.merged).toBe(true);
    expect(maxAbsDiff(logits(model), adapted)).toBeLessThan(1e-4);
  });
});

describe("PEFT files and dropout", () => {
  it("exportPeft/loadPeft and runtime/io PeftAdapter round trips in PEFT names and layouts", () => {
    const { adapter } = setup();
    randomizeB(adapter);
    const saved = adapter.exportPeft();
    const q0A = saved.get("base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight")!;
    const v0B = saved.get("base_model.model.model.layers.0.self_attn.v_proj.lora_B.weight")!;
    expect(q0A.shape).toEqual([4, 32]);
    expect(v0B.shape).toEqual([16, 4]);
    const other = setup({ seed: 99 }).adapter;
    const withDefault = new Map([...saved].map(([k, v]) => [k.replace(".lora_A.", ".lora_A.default."), v]));
    other.loadPeft(withDefault);
    for (const [k, v] of other.exportPeft()) expect(maxAbsDiff(v.data, saved.get(k)!.data)).toBe(0);
    const peft = adapter.toPeftAdapter("tiny");
    expect(peft).toMatchObject({ baseModel: "tiny", r: 4, alpha: 8, dropout: 0, targets: ["q_proj", "v_proj"], rslora: false });
    expect(peft.layers.get("model.layers.0.self_attn.q_proj")!.A.shape).toEqual([4, 32]);
    const third = setup({ seed: 7 }).adapter;
    third.loadPeftAdapter(peft);
    for (const [k, v] of third.exportPeft()) expect(maxAbsDiff(v.data, saved.get(k)!.data)).toBe(0);
    expect(setup({ targetModules: "all-linear" }).adapter.toPeftAdapter("x").targets).toEqual(
      ["down_proj", "gate_proj", "k_proj", "o_proj", "q_proj", "up_proj", "v_proj"],
    );
  });

  it("dropout acts on the branch input only, and only in training", () => {
    const { model, adapter } = setup({ dropout: 0.5 });
    randomizeB(adapter);
    const evalRun = logits(model);
    expect(maxAbsDiff(logits(model), evalRun)).toBe(0);
    const train = (seed: number) => {
      const t = model.logits({ ids: flatIds(exp.input_ids), batch: 2, seqLen: 8 }, { training: true, rng: new Rng(seed) });
      const d = Float32Array.from(t.dataSync());
      t.dispose();
      return d;
    };
    expect(maxAbsDiff(train(1), evalRun)).toBeGreaterThan(1e-4);
    expect(maxAbsDiff(train(1), train(1))).toBe(0);
    expect(maxAbsDiff(adapter.withDisabled(() => train(1)), adapter.withDisabled(() => logits(model)))).toBe(0);
    expect(() => model.logits({ ids: flatIds(exp.input_ids), batch: 2, seqLen: 8 }, { training: true })).toThrow(/rng/);
  });
});

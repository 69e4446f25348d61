import { describe, expect, test } from "vitest";
import { estimateGraph, type StageEstimate } from "../../compiler/plan/estimate.js";
import { estimateMemory, quantizedBytes, type MemoryInput } from "../../compiler/plan/memory.js";
import { archFromJson } from "../../compiler/plan/params.js";
import { GiB } from "../../compiler/plan/units.js";
import { compileText, dpoRecipe, sftRecipe } from "./helpers.js";

// A toy Llama small enough to compute by hand: V 100, D 16, I 32, 2 layers, 4 heads of 4, 2 kv heads.
// Parameters: embeddings 1600 + lm_head 1600 + 2 × (q 256 + k 128 + v 128 + o 256 + MLP 1536 + norms 32) + 16 = 7888,
// of which decoder Linears 2 × 2304 = 4608.
const toy = archFromJson({ vocab: 100, hidden: 16, intermediate: 32, layers: 2, heads: 4, kv_heads: 2, max_position: 64 })!;

const base: MemoryInput = {
  arch: toy,
  training: { kind: "full" },
  weightBytes: 2,
  activationBytes: 2,
  optimizer: "adamw",
  microBatch: 2,
  seqLen: 8,
  dpo: false,
  reference: null,
  flashAttention: false,
  gradientCheckpointing: false,
  strategy: { kind: "single", zero: 0, world: 1, offload: "none" },
};

const mem = (over: Partial<MemoryInput>) => estimateMemory({ ...base, ...over }).memory;

// Activations, s = 8, b = 2, h = 16, a = 4 → s·b·h = 256:
//   per layer 34·256 + 5·a·s²·b = 8704 + 2560 = 11264; logits s·b·V·10 = 16000.
describe("memory breakdown on a hand-computed toy model", () => {
  test("full fine-tune, bf16 mixed precision, AdamW, single device", () => {
    expect(mem({})).toEqual({
      weights: 7888 * 2,
      adapter: 0,
      gradients: 7888 * 2,
      optimizer: 7888 * (4 + 8), // fp32 master + m + v
      activations: 2 * 11264 + 16000,
      reference: 0,
      overhead: GiB,
      total: 15776 + 15776 + 94656 + 38528 + GiB,
      offloaded: 0,
    });
  });

  test("activation forms: flash attention, gradient checkpointing, both, DPO pairs, fp32", () => {
    expect(mem({ flashAttention: true }).activations).toBe(2 * 8704 + 16000);
    expect(mem({ gradientCheckpointing: true }).activations).toBe(2 * 2 * 256 + 11264 + 16000);
    expect(mem({ gradientCheckpointing: true, flashAttention: true }).activations).toBe(2 * 2 * 256 + 8704 + 16000);
    expect(mem({ dpo: true }).activations).toBe(2 * (2 * 11264 + 16000));
    // fp32 compute doubles the 16-bit body; logits are 4 + 8 bytes per element
    expect(mem({ activationBytes: 4 }).activations).toBe(2 * 2 * 11264 + 8 * 2 * 100 * 12);
  });

  test("full fine-tune in fp32 has no master copy; 8-bit AdamW and SGD shrink the state", () => {
    const fp32 = mem({ weightBytes: 4 });
    expect([fp32.weights, fp32.gradients, fp32.optimizer]).toEqual([7888 * 4, 7888 * 4, 7888 * 8]);
    expect(mem({ optimizer: "adamw_8bit" }).optimizer).toBe(7888 * (4 + 2));
    expect(mem({ optimizer: "sgd" }).optimizer).toBe(7888 * 4);
  });

  test("LoRA r=2 on q,v: 2 layers × (2·(16+16) + 2·(16+8)) = 224 trainable at 16 B each", () => {
    const m = mem({ training: { kind: "lora", trainable: 224 } });
    expect([m.weights, m.adapter, m.gradients, m.optimizer]).toEqual([7888 * 2, 224 * 4, 224 * 4, 224 * 8]);
  });

  test("QLoRA: 4-bit Linears with absmax constants, the rest in the compute dtype", () => {
    // one 256-weight q_proj: 128 B of codes + 4 blocks; fp32 absmax 16 B, or 8-bit absmax 4 B + 1 fp32 constant + offset
    expect(quantizedBytes(256, false)).toBe(128 + 16);
    expect(quantizedBytes(256, true)).toBe(128 + 4 + 4 + 4);
    // per layer: q,o 256; k,v 128; gate,up,down 512 weights
    const perLayerDq = 2 * (128 + 12) + 2 * (64 + 10) + 3 * (256 + 16);
    const perLayer = 2 * (128 + 16) + 2 * (64 + 8) + 3 * (256 + 32);
    const nonLinear = (7888 - 4608) * 2;
    expect(mem({ training: { kind: "qlora", trainable: 224, doubleQuant: true, computeBytes: 2 } }).weights).toBe(2 * perLayerDq + nonLinear);
    expect(mem({ training: { kind: "qlora", trainable: 224, doubleQuant: false, computeBytes: 2 } }).weights).toBe(2 * perLayer + nonLinear);
  });

  test("a DPO reference copy is held in its dtype", () => {
    expect(mem({ dpo: true, reference: { params: 7888, bytes: 2 } }).reference).toBe(15776);
  });
});

describe("sharding per strategy (4 devices, full fine-tune)", () => {
  const world = 4;
  const on = (kind: MemoryInput["strategy"]["kind"], zero: number, offload: MemoryInput["strategy"]["offload"] = "none") => mem({ strategy: { kind, zero, world, offload } });
  // one gathered layer under ZeRO-3: (4608 + 2·2·16) / 2 layers = 2336 params × 2 B
  const gathered = 2336 * 2;

  test("DDP replicates; ZeRO-1 shards optimizer state; ZeRO-2 also gradients; ZeRO-3 also weights", () => {
    const ddp = on("ddp", 0);
    expect([ddp.weights, ddp.gradients, ddp.optimizer]).toEqual([15776, 15776, 94656]);
    const z1 = on("deepspeed", 1);
    expect([z1.weights, z1.gradients, z1.optimizer]).toEqual([15776, 15776, 94656 / 4]);
    const z2 = on("deepspeed", 2);
    expect([z2.weights, z2.gradients, z2.optimizer]).toEqual([15776, 15776 / 4, 94656 / 4]);
    const z3 = on("deepspeed", 3);
    expect([z3.weights, z3.gradients, z3.optimizer]).toEqual([15776 / 4 + gathered, 15776 / 4, 94656 / 4]);
    expect(on("fsdp", 3)).toEqual(z3);
    expect(z1.activations).toBe(ddp.activations);
  });

  test("CPU offload moves the (sharded) optimizer state off the GPU", () => {
    const m = on("deepspeed", 2, "cpu");
    expect(m.optimizer).toBe(0);
    expect(m.offloaded).toBe(94656 / 4);
    expect(m.total).toBe(on("deepspeed", 2).total - 94656 / 4);
    expect(on("ddp", 0, "cpu").offloaded).toBe(0);
  });

  test("the reference model is sharded only by ZeRO-3 / FSDP", () => {
    const ref = { params: 7888, bytes: 2 };
    expect(mem({ dpo: true, reference: ref, strategy: { kind: "deepspeed", zero: 2, world, offload: "none" } }).reference).toBe(15776);
    expect(mem({ dpo: true, reference: ref, strategy: { kind: "fsdp", zero: 3, world, offload: "none" } }).reference).toBe(15776 / 4);
  });
});

describe("estimates from compiled recipes", () => {
  const one = (parts: Parameters<typeof sftRecipe>[0]): StageEstimate => estimateGraph(compileText(sftRecipe(parts)))[0]!;
  const lora = "method = lora\n  r = 16\n  targets = all_linear";
  const qlora = "method = qlora\n  r = 16\n  targets = all_linear\n  double_quant = true";

  test("QLoRA < LoRA < full fine-tune on one device", () => {
    const hw = "gpu = a100_80gb\n  devices = 1\n  strategy = single";
    const [q, l, f] = [one({ adapter: qlora, hardware: hw }), one({ adapter: lora, hardware: hw }), one({ hardware: hw })];
    expect(q.memory!.total).toBeLessThan(l.memory!.total);
    expect(l.memory!.total).toBeLessThan(f.memory!.total);
    // 7B full fine-tune at 16 B/parameter does not fit 80 GiB; LoRA does
    expect(f.exceeds).toBe(true);
    expect(l.exceeds).toBe(false);
    expect(f.device).toEqual({ gpu: "a100_80gb", bytes: 80 * GiB });
  });

  test("ZeRO-2 on 8 GPUs < DDP on 8 GPUs, and ZeRO-3 < ZeRO-2", () => {
    const gpus = (s: string) => one({ hardware: `gpu = a100_80gb\n  devices = 8\n  ${s}` });
    const ddp = gpus("strategy = ddp");
    const z2 = gpus("strategy = deepspeed\n  zero = 2");
    const z3 = gpus("strategy = deepspeed\n  zero = 3");
    expect(z2.memory!.total).toBeLessThan(ddp.memory!.total);
    expect(z3.memory!.total).toBeLessThan(z2.memory!.total);
    expect(z2.world).toBe(8);
    expect(z2.strategy).toBe("DeepSpeed ZeRO-2 × 8 devices");
  });

  test("device memory: `memory` overrides `gpu`; no hardware means nothing to compare", () => {
    expect(one({ adapter: lora, hardware: "gpu = a100_80gb\n  memory = 24 GB\n  strategy = single" }).device.bytes).toBe(24e9);
    const none = one({ adapter: lora });
    expect(none.device.bytes).toBeNull();
    expect(none.exceeds).toBe(false);
  });

  test("a model without arch has unknown sizes and says so", () => {
    const text = sftRecipe({ adapter: lora }).replace("  arch = llama2_7b\n", "");
    const [e] = estimateGraph(compileText(text));
    expect(e!.parameters).toBeNull();
    expect(e!.memory).toBeNull();
    expect(e!.assumptions.some((a) => a.includes("has no `arch`"))).toBe(true);
  });
});

describe("DPO", () => {
  const dpo = (parts: Parameters<typeof dpoRecipe>[0]): StageEstimate[] => estimateGraph(compileText(dpoRecipe(parts)));

  test("a LoRA policy's reference is the adapter-disabled model: no second copy", () => {
    const [e] = dpo({ adapter: "method = lora\n  r = 8" });
    expect(e!.memory!.reference).toBe(0);
    expect(e!.assumptions.some((a) => a.includes("adapter disabled"))).toBe(true);
    expect(e!.sequenceLength).toBe(512);
    // 1000 rows × 3 epochs × (chosen + rejected) × 512
    expect(e!.tokens).toEqual({ bound: "at_most", n: 1000 * 3 * 2 * 512 });
  });

  test("a full fine-tune holds a frozen bf16 copy of the starting model; reference = none holds nothing", () => {
    const [full] = dpo({});
    expect(full!.memory!.reference).toBe(6_738_415_616 * 2);
    const [free] = dpo({ stage: "reference = none" });
    expect(free!.memory!.reference).toBe(0);
  });

  test("chosen and rejected double the activations of the same micro-batch", () => {
    const [d] = dpo({ adapter: "method = lora\n  r = 8" });
    const [s] = estimateGraph(compileText(sftRecipe({ adapter: "method = lora\n  r = 8", micro: 2, batch: 8, stage: "cutoff = 512 tokens" })));
    expect(d!.memory!.activations).toBe(2 * s!.memory!.activations);
  });

  test("iterative rounds estimate every round", () => {
    const rounds = dpo({ adapter: "method = lora\n  r = 8", stage: "rounds = 2" });
    expect(rounds.map((e) => [e.node, e.round])).toEqual([["train:d/round1", 1], ["train:d/round2", 2]]);
    expect(rounds[1]!.memory!.reference).toBe(0);
  });
});

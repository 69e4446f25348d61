import { describe, expect, test } from "vitest";
import type { Json } from "../../compiler/graph.js";
import { estimateGraph } from "../../compiler/plan/estimate.js";
import { archFromJson, countParams, LINEAR_MODULES, loraTargets, loraTrainable, type ArchShape } from "../../compiler/plan/params.js";
import { compileText, sftRecipe } from "./helpers.js";

// Shapes as std/models lowers them into load_model params.arch.
const ARCH: Record<string, Json> = {
  llama2_7b: { vocab: 32000, hidden: 4096, intermediate: 11008, layers: 32, heads: 32, kv_heads: 32, max_position: 4096, tied: false },
  llama2_13b: { vocab: 32000, hidden: 5120, intermediate: 13824, layers: 40, heads: 40, kv_heads: 40, max_position: 4096, tied: false },
  llama2_70b: { vocab: 32000, hidden: 8192, intermediate: 28672, layers: 80, heads: 64, kv_heads: 8, max_position: 4096, tied: false },
  llama3_8b: { vocab: 128256, hidden: 4096, intermediate: 14336, layers: 32, heads: 32, kv_heads: 8, max_position: 8192, tied: false },
  llama3_70b: { vocab: 128256, hidden: 8192, intermediate: 28672, layers: 80, heads: 64, kv_heads: 8, max_position: 8192, tied: false },
  tiny_llama: { vocab: 2048, hidden: 128, intermediate: 384, layers: 4, heads: 4, kv_heads: 2, max_position: 512, tied: true },
};

const arch = (name: string): ArchShape => archFromJson(ARCH[name])!;

describe("parameter counts (published totals)", () => {
  test.each([
    ["llama2_7b", 6_738_415_616],
    ["llama2_13b", 13_015_864_320],
    ["llama2_70b", 68_976_648_192],
    ["llama3_8b", 8_030_261_248],
    ["llama3_70b", 70_553_706_496],
    // tied: 2048·128 + 4·(128·128 + 2·128·64 + 128·128 + 3·128·384 + 2·128) + 128
    ["tiny_llama", 1_049_728],
  ])("%s has %d parameters", (name, total) => {
    expect(countParams(arch(name)).total).toBe(total);
  });

  test("the parts add up and lm_head is counted once when tied", () => {
    const p = countParams(arch("llama2_7b"));
    expect(p.embedding + p.lmHead + p.norms + p.linear).toBe(p.total);
    expect(p.lmHead).toBe(32000 * 4096);
    expect(countParams(arch("tiny_llama")).lmHead).toBe(0);
  });

  test("kv_heads and head_dim default from heads and hidden", () => {
    const a = archFromJson({ vocab: 10, hidden: 64, intermediate: 128, layers: 1, heads: 8, max_position: 16 })!;
    expect(a.kvHeads).toBe(8);
    expect(a.headDim).toBe(8);
    expect(a.tied).toBe(false);
  });

  test("an explicit head_dim changes the attention shapes", () => {
    const a = archFromJson({ vocab: 10, hidden: 64, intermediate: 128, layers: 1, heads: 4, kv_heads: 2, head_dim: 32, max_position: 16 })!;
    // q 64·128, k/v 64·64, o 128·64, MLP 3·64·128, norms 2·64; embeddings 2·10·64; final norm 64
    expect(countParams(a).total).toBe(64 * 128 + 2 * 64 * 64 + 128 * 64 + 3 * 64 * 128 + 2 * 64 + 2 * 10 * 64 + 64);
  });

  test("no arch, or a missing dimension, is unknown", () => {
    expect(archFromJson(null)).toBeNull();
    expect(archFromJson({ vocab: 10, hidden: 64 })).toBeNull();
  });
});

describe("LoRA trainable parameters", () => {
  test("r=8 on q_proj, v_proj of Llama-2-7B = 4,194,304", () => {
    // 32 layers × 8 × ((4096 + 4096) + (4096 + 4096))
    expect(loraTrainable(arch("llama2_7b"), 8, ["q_proj", "v_proj"]).trainable).toBe(4_194_304);
  });

  test("r=16 all_linear on Llama-2-70B = 207,093,760", () => {
    // per layer 16 × [q 2·8192 + k,v 2·(8192+1024) + o 2·8192 + gate,up,down 3·(8192+28672)] = 16 × 161,792
    const targets = loraTargets("all_linear");
    expect(targets).toEqual([...LINEAR_MODULES]);
    expect(loraTrainable(arch("llama2_70b"), 16, targets).trainable).toBe(207_093_760);
  });

  test("unknown targets are reported and count 0; duplicates count once", () => {
    const c = loraTrainable(arch("llama2_7b"), 8, ["v_proj", "q_proj", "q_proj", "attn"]);
    expect(c.trainable).toBe(4_194_304);
    expect(c.modules).toEqual(["q_proj", "v_proj"]);
    expect(c.unmatched).toEqual(["attn"]);
  });

  test("the adapter block's default targets are q_proj and v_proj", () => {
    expect(loraTargets(undefined)).toEqual(["q_proj", "v_proj"]);
  });
});

describe("counts from a compiled recipe", () => {
  test("Llama-2-7B LoRA r=8 on q,v", () => {
    const [e] = estimateGraph(compileText(sftRecipe({ adapter: "method = lora\n  r = 8\n  targets = [q_proj, v_proj]" })));
    expect(e!.parameters).toBe(6_738_415_616);
    expect(e!.trainable).toBe(4_194_304);
    expect(e!.trainableFraction).toBeCloseTo(4_194_304 / 6_738_415_616, 12);
    expect(e!.training).toBe("lora");
  });

  test("Llama-2-70B r=16 all_linear, and a full fine-tune trains everything", () => {
    const [lora] = estimateGraph(compileText(sftRecipe({ arch: "llama2_70b", adapter: "method = lora\n  r = 16\n  targets = all_linear" })));
    expect(lora!.trainable).toBe(207_093_760);
    const [full] = estimateGraph(compileText(sftRecipe({ arch: "llama3_8b" })));
    expect(full!.parameters).toBe(8_030_261_248);
    expect(full!.trainable).toBe(8_030_261_248);
    expect(full!.training).toBe("full");
  });
});

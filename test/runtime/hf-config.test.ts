// config.json parsing/writing with released Llama configs (values as published on the Hub; algorithms.md §3).
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { HfConfigError, parseHfConfig, readHfConfig, writeHfConfig } from "../../runtime/io/hf-config.js";

const LLAMA2_7B = {
  architectures: ["LlamaForCausalLM"], bos_token_id: 1, eos_token_id: 2, hidden_act: "silu", hidden_size: 4096,
  initializer_range: 0.02, intermediate_size: 11008, max_position_embeddings: 4096, model_type: "llama",
  num_attention_heads: 32, num_hidden_layers: 32, num_key_value_heads: 32, pretraining_tp: 1, rms_norm_eps: 1e-5,
  rope_scaling: null, tie_word_embeddings: false, torch_dtype: "float16", transformers_version: "4.31.0.dev0",
  use_cache: true, vocab_size: 32000,
};

const LLAMA32_1B_INSTRUCT = {
  architectures: ["LlamaForCausalLM"], attention_bias: false, attention_dropout: 0.0, bos_token_id: 128000,
  eos_token_id: [128001, 128008, 128009], head_dim: 64, hidden_act: "silu", hidden_size: 2048, initializer_range: 0.02,
  intermediate_size: 8192, max_position_embeddings: 131072, mlp_bias: false, model_type: "llama", num_attention_heads: 32,
  num_hidden_layers: 16, num_key_value_heads: 8, pretraining_tp: 1, rms_norm_eps: 1e-5,
  rope_scaling: { factor: 32.0, high_freq_factor: 4.0, low_freq_factor: 1.0, original_max_position_embeddings: 8192, rope_type: "llama3" },
  rope_theta: 500000.0, tie_word_embeddings: true, torch_dtype: "bfloat16", transformers_version: "4.45.0.dev0",
  use_cache: true, vocab_size: 128256,
};

function errorOf(json: unknown): HfConfigError {
  try {
    parseHfConfig(json, "cfg.json");
  } catch (e) {
    expect(e).toBeInstanceOf(HfConfigError);
    return e as HfConfigError;
  }
  throw new Error("expected HfConfigError");
}

describe("parseHfConfig", () => {
  it("normalizes Llama-2-7B (defaults: rope_theta 1e4, no scaling)", () => {
    expect(parseHfConfig(LLAMA2_7B)).toEqual({
      vocabSize: 32000, hiddenSize: 4096, intermediateSize: 11008, numLayers: 32, numHeads: 32, numKvHeads: 32,
      headDim: 128, rmsNormEps: 1e-5, ropeTheta: 10000, ropeScaling: null, maxPositionEmbeddings: 4096,
      tieWordEmbeddings: false, bosTokenId: 1, eosTokenIds: [2], padTokenId: null, dtype: "float16",
    });
  });

  it("normalizes Llama-3.2-1B-Instruct (GQA, tied, llama3 rope, eos list)", () => {
    const c = parseHfConfig(LLAMA32_1B_INSTRUCT);
    expect(c).toMatchObject({ numKvHeads: 8, headDim: 64, tieWordEmbeddings: true, ropeTheta: 500000, eosTokenIds: [128001, 128008, 128009] });
    expect(c.ropeScaling).toEqual({ type: "llama3", factor: 32, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositionEmbeddings: 8192 });
  });

  it("accepts transformers v5 rope_parameters and dtype, and legacy rope_scaling.type", () => {
    const { rope_theta: _t, rope_scaling: _s, torch_dtype: _d, ...rest } = LLAMA32_1B_INSTRUCT;
    const v5 = { ...rest, dtype: "bfloat16", rope_parameters: { rope_theta: 500000.0, ...LLAMA32_1B_INSTRUCT.rope_scaling } };
    expect(parseHfConfig(v5)).toEqual(parseHfConfig(LLAMA32_1B_INSTRUCT));
    const plain = parseHfConfig({ ...rest, rope_parameters: { rope_type: "default", rope_theta: 10000 } });
    expect([plain.ropeTheta, plain.ropeScaling, plain.dtype]).toEqual([10000, null, null]);
    const linear = parseHfConfig({ ...LLAMA2_7B, rope_scaling: { type: "linear", factor: 2.0 } });
    expect(linear.ropeScaling).toEqual({ type: "linear", factor: 2 });
  });

  it("defaults num_key_value_heads to the head count and head_dim to hidden/heads", () => {
    const { num_key_value_heads: _k, ...noKv } = LLAMA2_7B;
    expect(parseHfConfig(noKv)).toMatchObject({ numKvHeads: 32, headDim: 128 });
  });

  it("reports invalid fields with code, field and hint", () => {
    const { hidden_size: _h, ...missing } = LLAMA2_7B;
    const e1 = errorOf(missing);
    expect([e1.code, e1.field, e1.file]).toEqual(["T6030", "hidden_size", "cfg.json"]);
    expect(e1.message).toMatch(/cfg\.json.*hidden_size/);
    expect(e1.hint).toMatch(/released config/);
    expect(errorOf({ ...LLAMA2_7B, vocab_size: -5 }).field).toBe("vocab_size");
    expect(errorOf({ ...LLAMA2_7B, eos_token_id: "2" }).field).toBe("eos_token_id");
    const e2 = errorOf({ ...LLAMA32_1B_INSTRUCT, rope_scaling: { ...LLAMA32_1B_INSTRUCT.rope_scaling, low_freq_factor: undefined } });
    expect([e2.code, e2.field]).toEqual(["T6030", "rope_scaling.low_freq_factor"]);
  });

  it("rejects unsupported architectures and features, and inconsistent sizes", () => {
    expect([errorOf({ ...LLAMA2_7B, model_type: "mistral" }).code, errorOf({ ...LLAMA2_7B, model_type: "mistral" }).field]).toEqual(["T6031", "model_type"]);
    expect(errorOf({ ...LLAMA2_7B, hidden_act: "gelu" }).field).toBe("hidden_act");
    expect(errorOf({ ...LLAMA2_7B, attention_bias: true }).code).toBe("T6031");
    expect(errorOf({ ...LLAMA2_7B, rope_scaling: { rope_type: "yarn", factor: 4 } }).field).toBe("rope_scaling.rope_type");
    expect(errorOf({ ...LLAMA2_7B, num_key_value_heads: 5 })).toMatchObject({ code: "T6032", field: "num_key_value_heads" });
    expect(errorOf({ ...LLAMA2_7B, num_attention_heads: 30 })).toMatchObject({ code: "T6032", field: "num_attention_heads" });
  });
});

describe("writeHfConfig / readHfConfig", () => {
  it("writes the transformers keys and round-trips", async () => {
    const cfg = parseHfConfig(LLAMA32_1B_INSTRUCT);
    const out = writeHfConfig(cfg);
    expect(Object.keys(out).sort()).toEqual([
      "architectures", "attention_bias", "attention_dropout", "bos_token_id", "eos_token_id", "head_dim", "hidden_act",
      "hidden_size", "initializer_range", "intermediate_size", "max_position_embeddings", "mlp_bias", "model_type",
      "num_attention_heads", "num_hidden_layers", "num_key_value_heads", "pad_token_id", "pretraining_tp", "rms_norm_eps",
      "rope_scaling", "rope_theta", "tie_word_embeddings", "torch_dtype", "transformers_version", "use_cache", "vocab_size",
    ]);
    for (const key of Object.keys(LLAMA32_1B_INSTRUCT).filter((k) => k !== "transformers_version")) {
      expect(out[key], key).toEqual((LLAMA32_1B_INSTRUCT as Record<string, unknown>)[key]);
    }
    const dir = await mkdtemp(join(tmpdir(), "tune-cfg-"));
    try {
      await writeFile(join(dir, "config.json"), JSON.stringify(out, null, 2));
      expect(await readHfConfig(dir)).toEqual(cfg);
      expect(writeHfConfig(parseHfConfig(LLAMA2_7B)).eos_token_id).toBe(2);
      await writeFile(join(dir, "config.json"), "{oops");
      await expect(readHfConfig(dir)).rejects.toMatchObject({ code: "T6033" });
      await expect(readHfConfig(join(dir, "missing"))).rejects.toMatchObject({ code: "T6033" });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

// Model directories: save → load gives identical logits (F32), BF16/F16 and sharded layouts load, the written
// files have transformers' layout, the save is atomic, and broken directories fail with coded errors.
//
// Why this exists: every model tune trains ends as a directory other tools load, and every run starts by loading
// one; a transposed or misnamed tensor would not crash, it would silently compute something else.

import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { initBackend } from "../../runtime/backend/index.js";
import { CheckpointError, loadModelDir, saveModelDir } from "../../runtime/checkpoint/index.js";
import type { LlamaConfig } from "../../runtime/io/hf-config.js";
import { readSafetensorsHeader, writeSafetensors } from "../../runtime/io/safetensors.js";
import { llamaWeightNames } from "../../runtime/model/config.js";
import { LlamaModel } from "../../runtime/model/llama.js";
import { TINY_SPECIAL_TOKENS, trainByteLevelBpe, writeTokenizerFiles } from "../../runtime/tokenizer/index.js";

const CONFIG: LlamaConfig = {
  vocabSize: 320, hiddenSize: 16, intermediateSize: 40, numLayers: 2, numHeads: 4, numKvHeads: 2, headDim: 4,
  rmsNormEps: 1e-5, ropeTheta: 10000, ropeScaling: null, maxPositionEmbeddings: 64, tieWordEmbeddings: true,
  bosTokenId: 1, eosTokenIds: [2], padTokenId: 0,
};
const IDS = Int32Array.from([1, 40, 77, 300, 12, 9, 250, 2]);

let root: string;
let tokDir: string;

function logitsOf(model: LlamaModel): Float32Array {
  const t = model.logits({ ids: IDS, batch: 1, seqLen: IDS.length });
  const out = t.dataSync() as Float32Array;
  t.dispose();
  return Float32Array.from(out);
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

beforeAll(async () => {
  await initBackend("wasm");
  root = await mkdtemp(join(tmpdir(), "tune-ckpt-"));
  tokDir = join(root, "tok");
  const bpe = trainByteLevelBpe(["the cat sat on the mat, the end. ".repeat(20), "Hello world! 123"], { vocabSize: 300, specialTokens: [...TINY_SPECIAL_TOKENS] });
  await writeTokenizerFiles(tokDir, bpe, { bosToken: "<|begin_of_text|>", eosToken: "<|end_of_text|>", padToken: "<pad>" });
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe("saveModelDir → loadModelDir", () => {
  it("round-trips weights exactly (F32): identical logits, config and tokenizer", async () => {
    const model = LlamaModel.random(CONFIG, 11);
    const before = logitsOf(model);
    const dir = join(root, "f32");
    await saveModelDir(dir, model, CONFIG, { tokenizerFrom: tokDir });
    const loaded = await loadModelDir(dir);
    expect(maxAbsDiff(logitsOf(loaded.model), before)).toBe(0);
    expect({ ...loaded.config, dtype: undefined }).toEqual({ ...CONFIG, dtype: undefined });
    expect(loaded.config.dtype).toBe("float32");
    expect(loaded.tokenizer!.decode(loaded.tokenizer!.encode("the cat 🐈"))).toBe("the cat 🐈");
    expect(loaded.generation).toEqual({ eosTokenIds: [2], bosTokenId: 1, padTokenId: 0 });
    model.dispose();
    loaded.model.dispose();
  });

  it("writes transformers' layout: the file set, HF tensor names and [out, in] shapes, tied lm_head omitted", async () => {
    const dir = join(root, "f32");
    expect((await readdir(dir)).sort()).toEqual(["config.json", "generation_config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json"]);
    const header = await readSafetensorsHeader(join(dir, "model.safetensors"));
    expect(header.metadata).toEqual({ format: "pt" });
    expect(header.tensors.map((t) => t.name).sort()).toEqual(llamaWeightNames(CONFIG).sort());
    const shape = (n: string): number[] => header.tensors.find((t) => t.name === n)!.shape;
    expect(shape("model.layers.0.self_attn.k_proj.weight")).toEqual([8, 16]);
    expect(shape("model.layers.1.mlp.down_proj.weight")).toEqual([16, 40]);
    expect(shape("model.embed_tokens.weight")).toEqual([320, 16]);
    const cfg = JSON.parse(await readFile(join(dir, "config.json"), "utf8")) as Record<string, unknown>;
    expect(cfg).toMatchObject({ architectures: ["LlamaForCausalLM"], model_type: "llama", num_key_value_heads: 2, tie_word_embeddings: true, torch_dtype: "float32", vocab_size: 320 });
    const gen = JSON.parse(await readFile(join(dir, "generation_config.json"), "utf8")) as Record<string, unknown>;
    expect(gen).toMatchObject({ bos_token_id: 1, eos_token_id: 2, pad_token_id: 0 });
  });

  it("BF16: stored as BF16, config dtype bfloat16, logits within bf16 rounding", async () => {
    const model = LlamaModel.random(CONFIG, 12);
    const before = logitsOf(model);
    const dir = join(root, "bf16");
    await saveModelDir(dir, model, CONFIG, { tokenizerFrom: tokDir, dtype: "BF16" });
    const header = await readSafetensorsHeader(join(dir, "model.safetensors"));
    expect(new Set(header.tensors.map((t) => t.dtype))).toEqual(new Set(["BF16"]));
    const loaded = await loadModelDir(dir);
    expect(loaded.config.dtype).toBe("bfloat16");
    const d = maxAbsDiff(logitsOf(loaded.model), before);
    expect(d).toBeGreaterThan(0);
    expect(d).toBeLessThan(0.02);
    model.dispose();
    loaded.model.dispose();
  });

  it("replaces an existing directory atomically and leaves no temporary directories", async () => {
    const dir = join(root, "replace");
    const a = LlamaModel.random(CONFIG, 1);
    const b = LlamaModel.random(CONFIG, 2);
    await saveModelDir(dir, a, CONFIG, { tokenizerFrom: tokDir });
    await writeFile(join(dir, "stale.txt"), "old");
    await saveModelDir(dir, b, CONFIG, { tokenizerFrom: tokDir });
    expect(await readdir(dir)).not.toContain("stale.txt");
    const loaded = await loadModelDir(dir, { tokenizer: false });
    expect(loaded.tokenizer).toBeNull();
    expect(maxAbsDiff(logitsOf(loaded.model), logitsOf(b))).toBe(0);
    expect((await readdir(root)).filter((n) => n.includes(".tmp-"))).toEqual([]);
    for (const m of [a, b, loaded.model]) m.dispose();
  });

  it("refuses a config whose shapes differ from the model (T6091) and writes nothing", async () => {
    const model = LlamaModel.random(CONFIG, 3);
    const err = await saveModelDir(join(root, "wrong"), model, { ...CONFIG, numLayers: 3 }).catch((e: unknown) => e);
    expect((err as CheckpointError).code).toBe("T6091");
    expect(await readdir(root)).not.toContain("wrong");
    model.dispose();
  });
});

describe("loading other HF layouts", () => {
  async function hfDir(name: string, configJson: Record<string, unknown>, files: Record<string, string[]>, dtype: "F32" | "F16" | "BF16", seed: number) {
    const dir = join(root, name);
    await mkdir(dir, { recursive: true });
    const model = LlamaModel.random(CONFIG, seed);
    const hf = model.exportHfWeights();
    const weightMap: Record<string, string> = {};
    for (const [file, names] of Object.entries(files)) {
      await writeSafetensors(join(dir, file), names.map((n) => ({ name: n, dtype, shape: hf.get(n)!.shape, data: hf.get(n)!.data })));
      for (const n of names) weightMap[n] = file;
    }
    if (Object.keys(files).length > 1) await writeFile(join(dir, "model.safetensors.index.json"), JSON.stringify({ metadata: { total_size: 0 }, weight_map: weightMap }));
    await writeFile(join(dir, "config.json"), JSON.stringify(configJson));
    for (const f of ["tokenizer.json", "tokenizer_config.json"]) await writeFile(join(dir, f), await readFile(join(tokDir, f)));
    return { dir, model };
  }
  const v5Config = {
    model_type: "llama", vocab_size: 320, hidden_size: 16, intermediate_size: 40, num_hidden_layers: 2, num_attention_heads: 4,
    num_key_value_heads: 2, max_position_embeddings: 64, rms_norm_eps: 1e-5, tie_word_embeddings: true, bos_token_id: 1,
    eos_token_id: [2, 5], rope_parameters: { rope_type: "default", rope_theta: 500000 }, dtype: "float16",
  };

  it("sharded F16 weights with an index and a transformers v5 config (rope_parameters)", async () => {
    const names = llamaWeightNames(CONFIG);
    const half = Math.ceil(names.length / 2);
    const { dir, model } = await hfDir("sharded", v5Config, {
      "model-00001-of-00002.safetensors": names.slice(0, half), "model-00002-of-00002.safetensors": names.slice(half),
    }, "F16", 4);
    const loaded = await loadModelDir(dir);
    expect(loaded.config.ropeTheta).toBe(500000);
    expect(loaded.config.eosTokenIds).toEqual([2, 5]);
    expect(loaded.generation.eosTokenIds).toEqual([2, 5]);
    // same weights rounded to f16, with rope θ 500000 instead of 10000 in the reference model: compare with a
    // reference rebuilt from the loaded (f16-rounded) weights under the loaded config.
    const ref = LlamaModel.fromHfWeights(loaded.config, loaded.model.exportHfWeights());
    expect(maxAbsDiff(logitsOf(loaded.model), logitsOf(ref))).toBe(0);
    const orig = LlamaModel.fromHfWeights({ ...CONFIG, ropeTheta: 500000 }, model.exportHfWeights());
    expect(maxAbsDiff(logitsOf(loaded.model), logitsOf(orig))).toBeLessThan(5e-3);
    for (const m of [model, loaded.model, ref, orig]) m.dispose();
  });

  it("ignores a redundant lm_head copy in a tied checkpoint and rotary inv_freq buffers", async () => {
    const names = llamaWeightNames(CONFIG);
    const { dir, model } = await hfDir("tiedcopy", { ...v5Config, dtype: "float32" }, { "model.safetensors": names }, "F32", 5);
    const hf = model.exportHfWeights();
    const emb = hf.get("model.embed_tokens.weight")!;
    await writeSafetensors(join(dir, "model.safetensors"), [
      ...names.map((n) => ({ name: n, dtype: "F32" as const, shape: hf.get(n)!.shape, data: hf.get(n)!.data })),
      { name: "lm_head.weight", dtype: "F32", shape: emb.shape, data: emb.data },
      { name: "model.layers.0.self_attn.rotary_emb.inv_freq", dtype: "F32", shape: [2], data: new Float32Array(2) },
    ]);
    const loaded = await loadModelDir(dir);
    expect(loaded.model.weights.has("lm_head.weight")).toBe(false);
    model.dispose();
    loaded.model.dispose();
  });
});

describe("broken model directories → coded errors naming the file and tensor", () => {
  const baseNames = llamaWeightNames(CONFIG);
  async function dirWith(name: string, tensors: { name: string; dtype: "F32" | "U8"; shape: number[] }[], config: Record<string, unknown> = {}): Promise<string> {
    const dir = join(root, name);
    await mkdir(dir, { recursive: true });
    const src = await loadModelDir(join(root, "f32"), { tokenizer: false });
    const hf = src.model.exportHfWeights();
    src.model.dispose();
    await writeSafetensors(join(dir, "model.safetensors"), tensors.map((t) => {
      const n = t.shape.reduce((a, b) => a * b, 1);
      const base = hf.get(t.name);
      const data = t.dtype === "U8" ? new Uint8Array(n) : base && base.data.length === n ? base.data : new Float32Array(n);
      return { name: t.name, dtype: t.dtype, shape: t.shape, data };
    }));
    const cfg = JSON.parse(await readFile(join(root, "f32", "config.json"), "utf8")) as Record<string, unknown>;
    await writeFile(join(dir, "config.json"), JSON.stringify({ ...cfg, ...config }));
    for (const f of ["tokenizer.json", "tokenizer_config.json"]) await writeFile(join(dir, f), await readFile(join(tokDir, f)));
    return dir;
  }
  const hfShape = (n: string): number[] => {
    const m = LlamaModel.random(CONFIG, 0);
    const s = m.exportHfWeights().get(n)!.shape;
    m.dispose();
    return s;
  };
  async function codeOf(p: Promise<unknown>): Promise<{ code: string; message: string; hint: string }> {
    const e = (await p.then(() => null, (x: unknown) => x)) as { code: string; message: string; hint: string } | null;
    expect(e).not.toBeNull();
    expect(e!.hint.length).toBeGreaterThan(0);
    return e!;
  }

  it("no config.json → T6033; no weights → T6020; no tokenizer.json → T6080", async () => {
    const empty = join(root, "empty");
    await mkdir(empty, { recursive: true });
    expect((await codeOf(loadModelDir(empty))).code).toBe("T6033");
    await writeFile(join(empty, "config.json"), await readFile(join(root, "f32", "config.json")));
    expect((await codeOf(loadModelDir(empty))).code).toBe("T6020");
    await writeFile(join(empty, "model.safetensors"), await readFile(join(root, "f32", "model.safetensors")));
    const e = await codeOf(loadModelDir(empty));
    expect(e.code).toBe("T6080");
    expect(e.message).toContain("tokenizer.json");
  });

  it("missing tensor → T6090, wrong shape → T6091, foreign tensor → T6092, integer dtype → T6093", async () => {
    const all = baseNames.map((n) => ({ name: n, dtype: "F32" as const, shape: hfShape(n) }));
    let e = await codeOf(loadModelDir(await dirWith("missing", all.filter((t) => t.name !== "model.layers.1.mlp.up_proj.weight"))));
    expect([e.code, e.message]).toEqual(["T6090", expect.stringContaining("`model.layers.1.mlp.up_proj.weight` is missing")]);
    e = await codeOf(loadModelDir(await dirWith("shape", all.map((t) => (t.name === "model.layers.0.self_attn.q_proj.weight" ? { ...t, shape: [8, 16] } : t)))));
    expect(e.code).toBe("T6091");
    expect(e.message).toMatch(/shape\/model\.safetensors: tensor `model\.layers\.0\.self_attn\.q_proj\.weight` has shape \[8,16\], config\.json implies \[16,16\]/);
    e = await codeOf(loadModelDir(await dirWith("extra", [...all, { name: "model.layers.0.self_attn.q_proj.lora_A.weight", dtype: "F32", shape: [2, 16] }])));
    expect([e.code, e.message]).toEqual(["T6092", expect.stringContaining("lora_A")]);
    e = await codeOf(loadModelDir(await dirWith("int8", all.map((t) => (t.name === "model.layers.0.mlp.gate_proj.weight" ? { ...t, dtype: "U8" as const } : t)))));
    expect([e.code, e.message]).toEqual(["T6093", expect.stringContaining("stored as U8")]);
  });

  it("untied config without lm_head → T6090 with the tie_word_embeddings hint; tokenizer larger than vocab → T6094", async () => {
    const all = baseNames.map((n) => ({ name: n, dtype: "F32" as const, shape: hfShape(n) }));
    let e = await codeOf(loadModelDir(await dirWith("untied", all, { tie_word_embeddings: false })));
    expect(e.code).toBe("T6090");
    expect(e.hint).toContain("tie_word_embeddings");
    const small = { ...CONFIG, vocabSize: 200 };
    const m = LlamaModel.random(small, 1);
    const dir = join(root, "smallvocab");
    await saveModelDir(dir, m, small, { tokenizerFrom: tokDir });
    e = await codeOf(loadModelDir(dir));
    expect(e.code).toBe("T6094");
    m.dispose();
  });

  it("a corrupt safetensors header keeps runtime/io's code (T6002 truncated)", async () => {
    const dir = join(root, "corrupt");
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, "config.json"), await readFile(join(root, "f32", "config.json")));
    await writeFile(join(dir, "model.safetensors"), (await readFile(join(root, "f32", "model.safetensors"))).subarray(0, 100));
    expect((await codeOf(loadModelDir(dir))).code).toBe("T6002");
  });

  it("an unknown dtype in the header (FP8) keeps runtime/io's code (T6005) and names the file", async () => {
    const dir = join(root, "fp8");
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, "config.json"), await readFile(join(root, "f32", "config.json")));
    const json = Buffer.from(JSON.stringify({ "model.norm.weight": { dtype: "F8_E4M3", shape: [16], data_offsets: [0, 16] } }));
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(BigInt(json.length));
    await writeFile(join(dir, "model.safetensors"), Buffer.concat([len, json, Buffer.alloc(16)]));
    const e = await codeOf(loadModelDir(dir));
    expect(e.code).toBe("T6005");
    expect(e.message).toContain("fp8/model.safetensors");
  });
});

describe("tensor memory", () => {
  it("load + dispose leaves no tensors behind", async () => {
    const before = tf.memory().numTensors;
    const loaded = await loadModelDir(join(root, "f32"));
    loaded.model.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});

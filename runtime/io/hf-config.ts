// Read and write Hugging Face Llama `config.json` files as one normalized, validated `LlamaConfig`.
//
// Why this exists: every model tune builds, loads or exports is described by a config.json, and its spelling varies
// across transformers versions (rope_theta/rope_scaling in v4, `rope_parameters` in v5; torch_dtype vs dtype;
// rope_scaling "type" vs "rope_type"; eos_token_id as int or list). Normalizing once here keeps the model code free of
// those cases, and validating with zod turns a typo'd or unsupported config into an error naming the field instead of
// a shape mismatch deep inside a forward pass. Spec: /work/shared/reference/algorithms.md §3.
//
// Error codes (HfConfigError): T6030 invalid field · T6031 unsupported feature (architecture, activation, biases,
// rope type) · T6032 inconsistent sizes (heads vs hidden size, etc.) · T6033 unreadable file.

import { readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { z } from "zod";

export type RopeScaling =
  | null
  | { type: "llama3"; factor: number; lowFreqFactor: number; highFreqFactor: number; originalMaxPositionEmbeddings: number }
  | { type: "linear"; factor: number };

export interface LlamaConfig {
  vocabSize: number;
  hiddenSize: number;
  intermediateSize: number;
  numLayers: number;
  numHeads: number;
  numKvHeads: number;
  headDim: number;
  rmsNormEps: number;
  ropeTheta: number;
  ropeScaling: RopeScaling;
  maxPositionEmbeddings: number;
  tieWordEmbeddings: boolean;
  bosTokenId: number | null;
  eosTokenIds: number[];
  padTokenId: number | null;
  /** torch dtype name the weights were saved in (`torch_dtype` / v5 `dtype`); parseHfConfig always sets it */
  dtype?: string | null;
}

export class HfConfigError extends Error {
  code: string;
  field: string;
  hint: string;
  file: string;
  constructor(code: string, field: string, message: string, hint: string, file: string) {
    super(`${code}: ${file}: ${field ? `\`${field}\`: ` : ""}${message}`);
    this.name = "HfConfigError";
    this.code = code;
    this.field = field;
    this.hint = hint;
    this.file = file;
  }
}

// ---- schema ------------------------------------------------------------------------------------------------

const posInt = z.number().int().positive();
const tokenId = z.number().int().nonnegative();
const posNum = z.number().positive();
const ropeObject = z.looseObject({
  rope_type: z.string().optional(),
  type: z.string().optional(),
  rope_theta: posNum.optional(),
  factor: posNum.optional(),
  low_freq_factor: posNum.optional(),
  high_freq_factor: posNum.optional(),
  original_max_position_embeddings: posInt.optional(),
});

const RawConfig = z.looseObject({
  model_type: z.string().optional(),
  architectures: z.array(z.string()).nullish(),
  vocab_size: posInt,
  hidden_size: posInt,
  intermediate_size: posInt,
  num_hidden_layers: posInt,
  num_attention_heads: posInt,
  num_key_value_heads: posInt.nullish(),
  head_dim: posInt.nullish(),
  hidden_act: z.string().optional(),
  max_position_embeddings: posInt.optional(),
  rms_norm_eps: posNum.optional(),
  rope_theta: posNum.optional(),
  rope_scaling: ropeObject.nullish(),
  rope_parameters: ropeObject.nullish(),
  tie_word_embeddings: z.boolean().optional(),
  bos_token_id: tokenId.nullish(),
  eos_token_id: z.union([tokenId, z.array(tokenId)]).nullish(),
  pad_token_id: z.number().int().nullish(), // some converted Llama-1 configs use -1 for "none"
  attention_bias: z.boolean().optional(),
  mlp_bias: z.boolean().optional(),
  torch_dtype: z.string().nullish(),
  dtype: z.string().nullish(),
});
type Raw = z.infer<typeof RawConfig>;

// ---- parsing -----------------------------------------------------------------------------------------------

function unsupported(field: string, message: string, hint: string, file: string): HfConfigError {
  return new HfConfigError("T6031", field, message, hint, file);
}

function checkSupported(raw: Raw, file: string): void {
  if (raw.model_type !== undefined && raw.model_type !== "llama") {
    throw unsupported("model_type", `model_type "${raw.model_type}" is not supported`, 'tune runs Llama-architecture models (model_type "llama")', file);
  }
  if (raw.hidden_act !== undefined && raw.hidden_act !== "silu") {
    throw unsupported("hidden_act", `activation "${raw.hidden_act}" is not supported`, 'Llama uses "silu" (SwiGLU MLP)', file);
  }
  for (const key of ["attention_bias", "mlp_bias"] as const) {
    if (raw[key] === true) throw unsupported(key, "bias terms are not supported", "tune's Llama has bias-free projections", file);
  }
}

function parseRope(raw: Raw, file: string): { theta: number; scaling: RopeScaling } {
  const params = raw.rope_parameters ?? null;
  const field = params ? "rope_parameters" : "rope_scaling";
  const theta = params?.rope_theta ?? raw.rope_theta ?? 10000;
  const s = params ?? raw.rope_scaling ?? null;
  const type = s?.rope_type ?? s?.type ?? "default";
  if (s === null || type === "default") return { theta, scaling: null };
  const need = (key: "factor" | "low_freq_factor" | "high_freq_factor" | "original_max_position_embeddings"): number => {
    const v = s[key];
    if (v === undefined) throw new HfConfigError("T6030", `${field}.${key}`, `missing for rope type "${type}"`, "copy the rope settings from the released config", file);
    return v;
  };
  if (type === "linear") return { theta, scaling: { type: "linear", factor: need("factor") } };
  if (type === "llama3") {
    return {
      theta,
      scaling: {
        type: "llama3", factor: need("factor"), lowFreqFactor: need("low_freq_factor"),
        highFreqFactor: need("high_freq_factor"), originalMaxPositionEmbeddings: need("original_max_position_embeddings"),
      },
    };
  }
  throw unsupported(`${field}.rope_type`, `rope type "${type}" is not supported`, 'supported: "default", "linear", "llama3"', file);
}

function checkSizes(c: LlamaConfig, headDimGiven: boolean, file: string): void {
  const bad = (field: string, message: string, hint: string): HfConfigError => new HfConfigError("T6032", field, message, hint, file);
  if (!headDimGiven && c.hiddenSize % c.numHeads !== 0) {
    throw bad("num_attention_heads", `hidden_size ${c.hiddenSize} is not divisible by ${c.numHeads} heads`, "set head_dim explicitly or fix the head count");
  }
  if (c.numHeads % c.numKvHeads !== 0) {
    throw bad("num_key_value_heads", `${c.numHeads} query heads are not a multiple of ${c.numKvHeads} key/value heads`, "GQA needs num_attention_heads % num_key_value_heads == 0");
  }
  if (c.headDim % 2 !== 0) throw bad("head_dim", `head_dim ${c.headDim} is odd`, "rotary embeddings need an even head_dim");
}

function eosList(eos: Raw["eos_token_id"]): number[] {
  if (eos === undefined) return [2];
  if (eos === null) return [];
  return Array.isArray(eos) ? eos.slice() : [eos];
}

/** Validate and normalize a parsed config.json object. */
export function parseHfConfig(json: unknown, file = "config.json"): LlamaConfig {
  const parsed = RawConfig.safeParse(json);
  if (!parsed.success) {
    const issues = parsed.error.issues;
    const field = issues[0].path.join(".");
    const all = issues.map((i) => `${i.path.join(".") || "<root>"}: ${i.message}`).join("; ");
    throw new HfConfigError("T6030", field, all, "compare with the model's released config.json", file);
  }
  const raw = parsed.data;
  checkSupported(raw, file);
  const rope = parseRope(raw, file);
  const cfg: LlamaConfig = {
    vocabSize: raw.vocab_size,
    hiddenSize: raw.hidden_size,
    intermediateSize: raw.intermediate_size,
    numLayers: raw.num_hidden_layers,
    numHeads: raw.num_attention_heads,
    numKvHeads: raw.num_key_value_heads ?? raw.num_attention_heads,
    headDim: raw.head_dim ?? Math.floor(raw.hidden_size / raw.num_attention_heads),
    rmsNormEps: raw.rms_norm_eps ?? 1e-6,
    ropeTheta: rope.theta,
    ropeScaling: rope.scaling,
    maxPositionEmbeddings: raw.max_position_embeddings ?? 2048,
    tieWordEmbeddings: raw.tie_word_embeddings ?? false,
    bosTokenId: raw.bos_token_id === undefined ? 1 : raw.bos_token_id,
    eosTokenIds: eosList(raw.eos_token_id),
    padTokenId: raw.pad_token_id != null && raw.pad_token_id >= 0 ? raw.pad_token_id : null,
    dtype: raw.dtype ?? raw.torch_dtype ?? null,
  };
  checkSizes(cfg, raw.head_dim != null, file);
  return cfg;
}

/** Read `config.json` from a file path or a model directory. */
export async function readHfConfig(pathOrDir: string): Promise<LlamaConfig> {
  let path = pathOrDir;
  let text: string;
  try {
    if ((await stat(pathOrDir)).isDirectory()) path = join(pathOrDir, "config.json");
    text = await readFile(path, "utf8");
  } catch (err) {
    throw new HfConfigError("T6033", "", `cannot read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, "point to a HF model directory or its config.json", path);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new HfConfigError("T6033", "", `not valid JSON (${(err as Error).message})`, "the file is corrupt", path);
  }
  return parseHfConfig(json, path);
}

// ---- writing -----------------------------------------------------------------------------------------------

function ropeScalingJson(s: RopeScaling): Record<string, unknown> | null {
  if (s === null) return null;
  if (s.type === "linear") return { factor: s.factor, rope_type: "linear" };
  return {
    factor: s.factor, high_freq_factor: s.highFreqFactor, low_freq_factor: s.lowFreqFactor,
    original_max_position_embeddings: s.originalMaxPositionEmbeddings, rope_type: "llama3",
  };
}

/** A transformers (v4 layout, also read by v5) `config.json` object for a LlamaForCausalLM. */
export function writeHfConfig(cfg: LlamaConfig, opts: { transformersVersion?: string; dtype?: string } = {}): Record<string, unknown> {
  const eos = cfg.eosTokenIds.length === 0 ? null : cfg.eosTokenIds.length === 1 ? cfg.eosTokenIds[0] : cfg.eosTokenIds.slice();
  return {
    architectures: ["LlamaForCausalLM"],
    attention_bias: false,
    attention_dropout: 0.0,
    bos_token_id: cfg.bosTokenId,
    eos_token_id: eos,
    head_dim: cfg.headDim,
    hidden_act: "silu",
    hidden_size: cfg.hiddenSize,
    initializer_range: 0.02,
    intermediate_size: cfg.intermediateSize,
    max_position_embeddings: cfg.maxPositionEmbeddings,
    mlp_bias: false,
    model_type: "llama",
    num_attention_heads: cfg.numHeads,
    num_hidden_layers: cfg.numLayers,
    num_key_value_heads: cfg.numKvHeads,
    pad_token_id: cfg.padTokenId,
    pretraining_tp: 1,
    rms_norm_eps: cfg.rmsNormEps,
    rope_scaling: ropeScalingJson(cfg.ropeScaling),
    rope_theta: cfg.ropeTheta,
    tie_word_embeddings: cfg.tieWordEmbeddings,
    torch_dtype: opts.dtype ?? cfg.dtype ?? "float32",
    transformers_version: opts.transformersVersion ?? "4.46.0",
    use_cache: true,
    vocab_size: cfg.vocabSize,
  };
}

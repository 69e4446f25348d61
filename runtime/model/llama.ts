// Llama as HF `LlamaForCausalLM`, in TensorFlow.js, for training and inference inside tune's runtime.
//
// Why this exists: tune runs small models in-process (tests, CI, demos, CPU fine-tuning) with the same math as
// the PyTorch reference (algorithms.md §3): pre-norm blocks, RMSNorm, half-split RoPE with llama3/linear
// scaling, GQA, SwiGLU, tied embeddings, a causal mask that optionally also separates packed sequences, and a
// KV cache for generation. Adapters (LoRA) plug in through `LinearHook` without the model knowing about them.

import * as tf from "@tensorflow/tfjs";
import { type LlamaConfig, validateConfig } from "./config.js";
import { ropeHeads } from "./fused.js";
import { attend, rmsNorm, silu } from "./layers.js";
import { buildAttentionMask, defaultPositions, positionsFromSegments } from "./mask.js";
import { ropeInvFreq, ropeTables } from "./rope.js";
import { checkWeights, type HostWeights, randomHfWeights, toHfLayout, toMemoryLayout } from "./weights.js";

/** A rectangular batch of token ids, row-major [batch, seqLen]. */
export interface TokenBatch {
  ids: Int32Array;
  batch: number;
  seqLen: number;
  /** Per-token sequence ids for packed rows; tokens attend only within their own segment. */
  segmentIds?: Int32Array;
  /** Absolute positions; default: restart per segment when segmentIds are given, else 0..T−1. */
  positionIds?: Int32Array;
}

/** Per-call options that adapters and dropout see. */
export interface ForwardContext {
  training?: boolean;
  /** Uniform [0,1) source for dropout masks; required when training with dropout. */
  rng?: { nextFloat(): number };
}

/** Hook run after every projection y = x·W (LoRA adds its branch here). */
export interface LinearHook {
  apply(module: string, x: tf.Tensor2D, y: tf.Tensor2D, ctx: ForwardContext): tf.Tensor2D;
}

/** Keys and values of every layer for the positions processed so far: [B, Hkv, S, hd] each. */
export interface KvCache {
  layers: { k: tf.Tensor4D; v: tf.Tensor4D }[];
  length: number;
}

/** RoPE rows for every token of the batch: [B·T, hd] each, sinSigned with its first half negated. */
interface RopeRows {
  cos: tf.Tensor2D;
  sinSigned: tf.Tensor2D;
}

interface LayerInputs {
  B: number;
  T: number;
  rope: RopeRows;
  mask: tf.Tensor4D | null;
  ctx: ForwardContext;
  past?: KvCache;
  present?: { k: tf.Tensor4D; v: tf.Tensor4D }[];
}

export class LlamaModel {
  readonly config: LlamaConfig;
  /** HF names → variables; projections are stored [in, out] (see weights.ts). */
  readonly weights: Map<string, tf.Variable>;
  hook: LinearHook | null = null;
  private readonly invFreq: Float32Array;

  private constructor(config: LlamaConfig, weights: Map<string, tf.Variable>) {
    validateConfig(config);
    this.config = config;
    this.weights = weights;
    this.invFreq = ropeInvFreq(config);
  }

  /** Build from HF-named, HF-layout float32 tensors (e.g. `readAllF32(model.safetensors)`). Frozen by default. */
  static fromHfWeights(config: LlamaConfig, hf: HostWeights, trainable = false): LlamaModel {
    checkWeights(config, hf);
    const vars = new Map<string, tf.Variable>();
    for (const [name, t] of hf) {
      if (name === "lm_head.weight" && config.tieWordEmbeddings) continue;
      if (name.endsWith("rotary_emb.inv_freq")) continue;
      const initial = toMemoryLayout(name, t);
      vars.set(name, tf.variable(initial, trainable));
      initial.dispose();
    }
    return new LlamaModel(config, vars);
  }

  /** A randomly initialised model (HF init, seeded): benches and tests. */
  static random(config: LlamaConfig, seed: number | string, trainable = false): LlamaModel {
    return LlamaModel.fromHfWeights(config, randomHfWeights(config, seed), trainable);
  }

  /** Copy all weights out in HF names and layout (what `save_pretrained` would write). */
  exportHfWeights(): HostWeights {
    const out: HostWeights = new Map();
    for (const [name, v] of this.weights) out.set(name, toHfLayout(name, v));
    return out;
  }

  /** Variable of an HF weight name (in-memory layout). */
  w(name: string): tf.Variable {
    const v = this.weights.get(name);
    if (!v) throw new Error(`model has no weight ${name}`);
    return v;
  }

  /** Mark base weights trainable or frozen (full fine-tuning vs adapters). */
  setTrainable(trainable: boolean, filter: (name: string) => boolean = () => true): void {
    for (const [name, v] of this.weights) if (filter(name)) v.trainable = trainable;
  }

  /** y = x·W for an HF module name ("model.layers.0.self_attn.q_proj"), then the adapter hook. */
  linear(module: string, x: tf.Tensor2D, ctx: ForwardContext): tf.Tensor2D {
    const y = tf.matMul(x, this.w(`${module}.weight`)) as tf.Tensor2D;
    return this.hook ? this.hook.apply(module, x, y, ctx) : y;
  }

  /** Final-normed hidden states [B·T, D]. */
  hidden(batch: TokenBatch, ctx: ForwardContext = {}): tf.Tensor2D {
    return this.run(batch, ctx).hidden;
  }

  /** logits = hidden · W_lmᵀ for rows of hidden states [N, D] → [N, V]. */
  lmHead(h: tf.Tensor2D): tf.Tensor2D {
    if (this.config.tieWordEmbeddings) return tf.matMul(h, this.w("model.embed_tokens.weight"), false, true);
    return tf.matMul(h, this.w("lm_head.weight"));
  }

  /** Logits [B, T, V]. */
  logits(batch: TokenBatch, ctx: ForwardContext = {}): tf.Tensor3D {
    return tf.tidy(() => {
      const h = this.hidden(batch, ctx);
      return tf.reshape(this.lmHead(h), [batch.batch, batch.seqLen, this.config.vocabSize]);
    });
  }

  /**
   * One forward over `batch` after the positions in `past` (if any). Returns the final-normed hidden states and,
   * when `past` is given or `wantCache` is true, the cache extended by this batch. Caller owns all tensors.
   */
  run(batch: TokenBatch, ctx: ForwardContext = {}, past?: KvCache, wantCache = false): { hidden: tf.Tensor2D; cache?: KvCache } {
    const { batch: B, seqLen: T } = batch;
    if (batch.ids.length !== B * T) throw new Error(`TokenBatch: ${batch.ids.length} ids for [${B}, ${T}]`);
    const pastLen = past?.length ?? 0;
    const present = past || wantCache ? ([] as { k: tf.Tensor4D; v: tf.Tensor4D }[]) : undefined;
    const hidden = tf.tidy(() => {
      const inputs: LayerInputs = {
        B, T, ctx, past, present,
        rope: this.ropeInputs(batch, pastLen),
        mask: this.maskTensor(batch, pastLen),
      };
      let h = tf.gather(this.w("model.embed_tokens.weight"), tf.tensor1d(batch.ids, "int32")) as tf.Tensor2D;
      for (let i = 0; i < this.config.numLayers; i++) h = this.layer(i, h, inputs);
      if (present) for (const kv of present) tf.keep(kv.k), tf.keep(kv.v);
      return rmsNorm(h, this.w("model.norm.weight") as tf.Tensor1D, this.config.rmsNormEps);
    });
    return { hidden, cache: present ? { layers: present, length: pastLen + T } : undefined };
  }

  private ropeInputs(batch: TokenBatch, pastLen: number): RopeRows {
    const { batch: B, seqLen: T } = batch;
    const positions =
      batch.positionIds ??
      (batch.segmentIds ? positionsFromSegments(batch.segmentIds, B, T) : defaultPositions(B, T, pastLen));
    const hd = this.config.headDim;
    const { cos, sinSigned } = ropeTables(this.invFreq, positions, hd);
    return { cos: tf.tensor2d(cos, [B * T, hd]), sinSigned: tf.tensor2d(sinSigned, [B * T, hd]) };
  }

  private maskTensor(batch: TokenBatch, pastLen: number): tf.Tensor4D | null {
    const m = buildAttentionMask(batch.batch, batch.seqLen, pastLen, batch.segmentIds);
    return m ? tf.tensor4d(m.data, m.shape) : null;
  }

  private layer(i: number, h: tf.Tensor2D, inp: LayerInputs): tf.Tensor2D {
    const p = `model.layers.${i}`;
    const eps = this.config.rmsNormEps;
    const x = rmsNorm(h, this.w(`${p}.input_layernorm.weight`) as tf.Tensor1D, eps);
    const h2 = tf.add(h, this.selfAttention(i, x, inp)) as tf.Tensor2D;
    const x2 = rmsNorm(h2, this.w(`${p}.post_attention_layernorm.weight`) as tf.Tensor1D, eps);
    return tf.add(h2, this.mlp(p, x2, inp.ctx)) as tf.Tensor2D;
  }

  private selfAttention(i: number, x: tf.Tensor2D, inp: LayerInputs): tf.Tensor2D {
    const { numHeads: H, numKvHeads: Hkv, headDim: hd } = this.config;
    const { B, T, ctx } = inp;
    const p = `model.layers.${i}.self_attn`;
    const q = this.linear(`${p}.q_proj`, x, ctx);
    const k = this.linear(`${p}.k_proj`, x, ctx);
    const v = this.linear(`${p}.v_proj`, x, ctx);
    const { cos, sinSigned } = inp.rope;
    // [B·T, heads·hd] → [B, heads, T, hd], queries scaled by 1/√hd, then rotated (one fused kernel each).
    const qh = ropeHeads(q, cos, sinSigned, { batch: B, heads: H, scale: 1 / Math.sqrt(hd), rotate: true });
    let kh = ropeHeads(k, cos, sinSigned, { batch: B, heads: Hkv, rotate: true });
    let vh = ropeHeads(v, cos, sinSigned, { batch: B, heads: Hkv, rotate: false });
    const cached = inp.past?.layers[i];
    if (cached) {
      kh = tf.concat([cached.k, kh], 2);
      vh = tf.concat([cached.v, vh], 2);
    }
    inp.present?.push({ k: kh, v: vh });
    return this.linear(`${p}.o_proj`, attend(qh, kh, vh, inp.mask), ctx);
  }

  private mlp(p: string, x: tf.Tensor2D, ctx: ForwardContext): tf.Tensor2D {
    const gate = this.linear(`${p}.mlp.gate_proj`, x, ctx);
    const up = this.linear(`${p}.mlp.up_proj`, x, ctx);
    return this.linear(`${p}.mlp.down_proj`, tf.mul(silu(gate), up) as tf.Tensor2D, ctx);
  }

  /** Free every variable and constant of this model. */
  dispose(): void {
    for (const v of this.weights.values()) v.dispose();
    this.weights.clear();
  }
}

/** Free a KV cache's tensors. */
export function disposeCache(cache: KvCache | undefined): void {
  if (!cache) return;
  for (const kv of cache.layers) {
    kv.k.dispose();
    kv.v.dispose();
  }
}

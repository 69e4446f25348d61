// LoRA adapters on a LlamaModel, numerically as HF PEFT `LoraLayer` / `Linear` (algorithms.md §1).
//
// Why this exists: parameter-efficient fine-tuning is tune's default; the adapter must initialise, scale,
// merge and save exactly like PEFT so adapters trained here load in PEFT and vice versa. It hooks into the
// model's projections (LinearHook): y = W x + s · B(A(dropout(x))), with only A and B trainable.
// In memory A is stored [in, r] and B [r, out] (the model's x·W layout); PEFT's files hold A [r, in], B [out, r].

import * as tf from "@tensorflow/tfjs";
import { Rng } from "../data/rng.js";
import { type PeftAdapter, peftTensorName } from "../io/peft.js";
import { llamaLinearModules } from "../model/config.js";
import type { ForwardContext, LinearHook, LlamaModel } from "../model/llama.js";
import { type HostTensor, type HostWeights, transpose2d } from "../model/weights.js";
import { isTargeted, type LoraSettings, loraScale, validateLoraSettings } from "./config.js";

export interface LoraModule {
  /** HF module name, e.g. "model.layers.0.self_attn.q_proj". */
  name: string;
  inFeatures: number;
  outFeatures: number;
  /** [in, r] */
  A: tf.Variable;
  /** [r, out] */
  B: tf.Variable;
  scale: number;
}

/** PEFT state-dict name of an adapter tensor (as saved: no ".default."). */
export { peftTensorName };

/** Inverted dropout mask [rows, cols] (keep with prob 1−p, scaled 1/(1−p)), drawn from `rng`. */
function dropoutMask(rows: number, cols: number, p: number, rng: { nextFloat(): number }): tf.Tensor2D {
  const m = new Float32Array(rows * cols);
  const keep = 1 / (1 - p);
  for (let i = 0; i < m.length; i++) m[i] = rng.nextFloat() >= p ? keep : 0;
  return tf.tensor2d(m, [rows, cols]);
}

export class LoraAdapter implements LinearHook {
  readonly settings: LoraSettings;
  readonly modules = new Map<string, LoraModule>();
  /** false ⇒ forward is the base model only (reference passes, DPO). */
  enabled = true;
  private mergedState = false;
  private readonly model: LlamaModel;

  private constructor(model: LlamaModel, settings: LoraSettings) {
    this.model = model;
    this.settings = settings;
  }

  /**
   * Create adapters on every targeted projection of `model`, freeze the base weights and install the hook.
   * A ~ U(−1/√in, 1/√in) (kaiming_uniform, a = √5), B = 0, so the adapter starts as a no-op.
   */
  static attach(model: LlamaModel, settings: LoraSettings): LoraAdapter {
    validateLoraSettings(settings);
    if (model.hook) throw new Error("model already has an adapter attached");
    const adapter = new LoraAdapter(model, settings);
    const rng = new Rng(settings.seed);
    const scale = loraScale(settings);
    const r = settings.r;
    for (const name of llamaLinearModules(model.config)) {
      if (!isTargeted(name, settings.targetModules)) continue;
      const [inF, outF] = model.w(`${name}.weight`).shape;
      const bound = 1 / Math.sqrt(inF);
      const aPeft = new Float32Array(r * inF);
      for (let i = 0; i < aPeft.length; i++) aPeft[i] = (2 * rng.nextFloat() - 1) * bound;
      const A = tf.variable(tf.tensor2d(transpose2d(aPeft, r, inF), [inF, r]), true);
      const B = tf.variable(tf.zeros([r, outF]), true);
      adapter.modules.set(name, { name, inFeatures: inF, outFeatures: outF, A, B, scale });
    }
    if (adapter.modules.size === 0) {
      throw new Error(`LoRA targetModules ${JSON.stringify(settings.targetModules)} matched no module of the model`);
    }
    model.setTrainable(false);
    model.hook = adapter;
    return adapter;
  }

  get merged(): boolean {
    return this.mergedState;
  }

  /** LinearHook: add s · (dropout(x) A) B when enabled and not merged. */
  apply(module: string, x: tf.Tensor2D, y: tf.Tensor2D, ctx: ForwardContext): tf.Tensor2D {
    const m = this.modules.get(module);
    if (!m || !this.enabled || this.mergedState) return y;
    let xin = x;
    if (ctx.training && this.settings.dropout > 0) {
      if (!ctx.rng) throw new Error("LoRA dropout in training needs ForwardContext.rng");
      xin = tf.mul(x, dropoutMask(x.shape[0], x.shape[1], this.settings.dropout, ctx.rng));
    }
    const low = tf.mul(tf.matMul(xin, m.A), m.scale) as tf.Tensor2D;
    return tf.add(y, tf.matMul(low, m.B)) as tf.Tensor2D;
  }

  /** W ← W + s·BA in place (PEFT `merge`); forward then skips the branch. */
  merge(): void {
    if (this.mergedState) return;
    this.updateBase(+1);
    this.mergedState = true;
  }

  /** W ← W − s·BA (PEFT `unmerge`). */
  unmerge(): void {
    if (!this.mergedState) return;
    this.updateBase(-1);
    this.mergedState = false;
  }

  private updateBase(sign: 1 | -1): void {
    for (const m of this.modules.values()) {
      const W = this.model.w(`${m.name}.weight`);
      const next = tf.tidy(() => tf.add(W, tf.mul(tf.matMul(m.A, m.B), sign * m.scale)));
      W.assign(next);
      next.dispose();
    }
  }

  /** Run `fn` on the base model alone (PEFT `disable_adapter()`: unmerges first if merged). */
  withDisabled<T>(fn: () => T): T {
    const wasMerged = this.mergedState;
    const wasEnabled = this.enabled;
    this.unmerge();
    this.enabled = false;
    try {
      return fn();
    } finally {
      this.enabled = wasEnabled;
      if (wasMerged) this.merge();
    }
  }

  /** Trainable tensors by PEFT name (A then B per module, forward order). */
  trainableVariables(): Map<string, tf.Variable> {
    const out = new Map<string, tf.Variable>();
    for (const m of this.modules.values()) {
      out.set(peftTensorName(m.name, "A"), m.A);
      out.set(peftTensorName(m.name, "B"), m.B);
    }
    return out;
  }

  /** Adapter tensors in PEFT names and layout (A [r, in], B [out, r]) for adapter_model.safetensors. */
  exportPeft(): HostWeights {
    const out: HostWeights = new Map();
    const r = this.settings.r;
    for (const m of this.modules.values()) {
      const a = m.A.dataSync() as Float32Array;
      const b = m.B.dataSync() as Float32Array;
      out.set(peftTensorName(m.name, "A"), { shape: [r, m.inFeatures], data: transpose2d(a, m.inFeatures, r) });
      out.set(peftTensorName(m.name, "B"), { shape: [m.outFeatures, r], data: transpose2d(b, r, m.outFeatures) });
    }
    return out;
  }

  /**
   * The adapter as `runtime/io/peft.ts` writes it (`writePeftAdapter`). String targets ("all-linear", a regex)
   * are saved as the module-name suffixes they resolved to, as PEFT does for "all-linear".
   */
  toPeftAdapter(baseModel: string): PeftAdapter {
    const t = this.settings.targetModules;
    const targets = Array.isArray(t) ? [...t] : [...new Set([...this.modules.keys()].map((n) => n.split(".").pop()!))].sort();
    const layers: PeftAdapter["layers"] = new Map();
    const host = this.exportPeft();
    for (const name of this.modules.keys()) {
      layers.set(name, { A: host.get(peftTensorName(name, "A"))!, B: host.get(peftTensorName(name, "B"))! });
    }
    const { r, alpha, dropout, useRslora } = this.settings;
    return { baseModel, r, alpha, dropout, targets, rslora: useRslora, layers };
  }

  /** Load factors read by `readPeftAdapter` (r must match; every adapted module must be present). */
  loadPeftAdapter(a: PeftAdapter): void {
    if (a.r !== this.settings.r) throw new Error(`adapter r=${a.r} does not match this adapter's r=${this.settings.r}`);
    const host: HostWeights = new Map();
    for (const [name, f] of a.layers) {
      host.set(peftTensorName(name, "A"), f.A);
      host.set(peftTensorName(name, "B"), f.B);
    }
    this.loadPeft(host);
  }

  /** Load PEFT-named tensors (".default." tolerated) into the adapters; every module must be present. */
  loadPeft(weights: HostWeights): void {
    const byName = new Map<string, HostTensor>();
    for (const [k, v] of weights) byName.set(k.replace(".default.", "."), v);
    const r = this.settings.r;
    for (const m of this.modules.values()) {
      const a = byName.get(peftTensorName(m.name, "A"));
      const b = byName.get(peftTensorName(m.name, "B"));
      if (!a || !b) throw new Error(`adapter weights lack ${m.name}`);
      if (a.shape[0] !== r || a.shape[1] !== m.inFeatures || b.shape[0] !== m.outFeatures || b.shape[1] !== r) {
        throw new Error(`adapter ${m.name}: shapes A [${a.shape}] B [${b.shape}] do not fit r=${r}, [${m.outFeatures}, ${m.inFeatures}]`);
      }
      assignHost(m.A, transpose2d(a.data, r, m.inFeatures), [m.inFeatures, r]);
      assignHost(m.B, transpose2d(b.data, m.outFeatures, r), [r, m.outFeatures]);
    }
  }

  /** Remove the hook (unmerging first) and free the adapter tensors. */
  detach(): void {
    this.unmerge();
    if (this.model.hook === this) this.model.hook = null;
    for (const m of this.modules.values()) {
      m.A.dispose();
      m.B.dispose();
    }
    this.modules.clear();
  }
}

function assignHost(v: tf.Variable, data: Float32Array, shape: number[]): void {
  const t = tf.tensor(data, shape);
  v.assign(t);
  t.dispose();
}

// AdamW exactly as `torch.optim.AdamW` (single-tensor path, torch 1.13–2.x; algorithms.md §5).
//
// Why this exists: tfjs' Adam is not AdamW (coupled L2, eps inside the bias correction), so fine-tuning runs
// would not match PyTorch ones. This runs the torch update on host float32 arrays, rounding to float32 where
// torch's float32 kernels round:
//   θ ← θ·(1 − γλ);  m ← β1·m + (1−β1)·g;  v ← β2·v + (1−β2)·g²;
//   θ ← θ − (γ / (1−β1^t)) · m / (√v / √(1−β2^t) + ε)
// Per-parameter weight decay lets the caller exempt norms and biases (HF `get_decay_parameter_names`).
// With tune's native addon loaded, the same arithmetic runs in C (native/ops.c), bit for bit.

import { nativeKernels } from "../backend/native.js";

const f32 = Math.fround;

export interface AdamWOptions {
  beta1: number;
  beta2: number;
  eps: number;
}

export const TORCH_ADAMW_DEFAULTS: AdamWOptions = { beta1: 0.9, beta2: 0.999, eps: 1e-8 };

/** One parameter tensor for an update: its values (updated in place), its gradient and its weight decay. */
export interface AdamWParam {
  name: string;
  value: Float32Array;
  grad: Float32Array;
  weightDecay: number;
}

interface Moments {
  m: Float32Array;
  v: Float32Array;
  step: number;
}

/** Serializable optimizer state (for checkpoints). */
export interface AdamWState {
  options: AdamWOptions;
  moments: Record<string, { m: Float32Array; v: Float32Array; step: number }>;
}

export class AdamW {
  readonly options: AdamWOptions;
  private readonly moments = new Map<string, Moments>();

  constructor(options: Partial<AdamWOptions> = {}) {
    this.options = { ...TORCH_ADAMW_DEFAULTS, ...options };
  }

  /** Apply one update with learning rate `lr` to every parameter (each keeps its own step count). */
  step(params: AdamWParam[], lr: number): void {
    for (const p of params) this.update(p, lr);
  }

  private update(p: AdamWParam, lr: number): void {
    if (p.value.length !== p.grad.length) throw new Error(`AdamW: ${p.name} has ${p.value.length} values, ${p.grad.length} grads`);
    let s = this.moments.get(p.name);
    if (!s) {
      s = { m: new Float32Array(p.value.length), v: new Float32Array(p.value.length), step: 0 };
      this.moments.set(p.name, s);
    }
    s.step += 1;
    const { beta1, beta2, eps } = this.options;
    const decay = f32(1 - lr * p.weightDecay);
    const b1 = f32(beta1);
    const ob1 = f32(1 - beta1);
    const b2 = f32(beta2);
    const ob2 = f32(1 - beta2);
    const stepSize = f32(-(lr / (1 - Math.pow(beta1, s.step))));
    const bc2Sqrt = f32(Math.sqrt(1 - Math.pow(beta2, s.step)));
    const e = f32(eps);
    const { m, v } = s;
    const x = p.value;
    const g = p.grad;
    const native = nativeKernels();
    if (native) {
      native.adamw(x, g, m, v, decay, b1, ob1, b2, ob2, stepSize, bc2Sqrt, e);
      return;
    }
    for (let i = 0; i < x.length; i++) {
      const gi = g[i];
      const xi = f32(x[i] * decay);
      const mi = f32(f32(m[i] * b1) + ob1 * gi);
      const vi = f32(f32(v[i] * b2) + f32(ob2 * gi) * gi);
      const denom = f32(f32(f32(Math.sqrt(vi)) / bc2Sqrt) + e);
      m[i] = mi;
      v[i] = vi;
      x[i] = f32(xi + stepSize * f32(mi / denom));
    }
  }

  /** Steps taken for `name` (0 if never updated). */
  stepCount(name: string): number {
    return this.moments.get(name)?.step ?? 0;
  }

  exportState(): AdamWState {
    const moments: AdamWState["moments"] = {};
    for (const [k, s] of this.moments) moments[k] = { m: s.m.slice(), v: s.v.slice(), step: s.step };
    return { options: { ...this.options }, moments };
  }

  loadState(state: AdamWState): void {
    this.moments.clear();
    for (const [k, s] of Object.entries(state.moments)) this.moments.set(k, { m: s.m.slice(), v: s.v.slice(), step: s.step });
  }
}

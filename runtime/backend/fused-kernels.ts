// tune's fused transformer kernels (RoPE + head split/transpose, softmax cross-entropy) and their gradients, for
// the tfjs wasm and cpu backends.
//
// Why this exists: see js-kernels.ts — each replaces 8–16 tfjs kernels per call (and as many tape entries).
// RoPE rounds to float32 at the same points as the op chain it replaces (x·scale, then x·cos + swap(x)·sin), so
// it matches it bit for bit. The cross-entropy takes softmax from the backend's own Softmax kernel (XNNPACK on
// wasm) and reads the loss as −log p[target]: within a few float32 ulps of log-sum-exp, one exp pass instead of
// two, and the backward pass is p − onehot with no exp at all. runtime/model/fused.ts is the tensor API.
// With tune's native addon loaded, RoPE runs in C (native/ops.c) with the same float32 roundings.

import * as tf from "@tensorflow/tfjs";
import { type JsKernel, type Numeric, registerJsKernel } from "./js-kernels.js";
import { nativeKernels } from "./native.js";

const f32 = Math.fround;

export const ROPE_HEADS = "TuneRopeHeads";
export const ROPE_HEADS_GRAD = "TuneRopeHeadsGrad";
export const XENT_SUM = "TuneSoftmaxXentSum";
export const XENT_GRAD = "TuneSoftmaxXentGrad";

// ---- RoPE + [B·T, H·hd] ↔ [B, H, T, hd]

interface RopeGeometry {
  B: number;
  T: number;
  H: number;
  hd: number;
  scale: number;
  rotate: boolean;
}

function ropeGeometry(rows: number, cols: number, attrs: tf.NamedAttrMap): RopeGeometry {
  const B = Number(attrs["batch"]);
  const H = Number(attrs["heads"]);
  const T = rows / B;
  const hd = cols / H;
  if (!Number.isInteger(T) || !Number.isInteger(hd) || hd % 2 !== 0) {
    throw new Error(`${ROPE_HEADS}: [${rows}, ${cols}] does not split into batch ${B} × heads ${H} with an even head dim`);
  }
  return { B, T, H, hd, scale: f32(Number(attrs["scale"] ?? 1)), rotate: Boolean(attrs["rotate"]) };
}

/**
 * x [B·T, H·hd] → y [B, H, T, hd] with y = xs·cos + swap_halves(xs)·sinSigned, xs = x·scale (scale 1: xs = x);
 * cos/sin rows [B·T, hd]. rotate false: y = xs only (the value path).
 */
const ropeHeads: JsKernel = {
  name: ROPE_HEADS,
  inputs: ["x", "cos", "sin"],
  outputShapes: ([x], attrs) => {
    const g = ropeGeometry(x[0], x[1], attrs);
    return [[g.B, g.H, g.T, g.hd]];
  },
  run: ([x, cos, sin], [xs], [y], attrs) => {
    const { B, T, H, hd, scale, rotate } = ropeGeometry(xs[0], xs[1], attrs);
    const native = nativeKernels();
    if (native && x instanceof Float32Array && cos instanceof Float32Array && sin instanceof Float32Array) {
      native.rope(false, x, cos, sin, y, B, T, H, hd, scale, rotate);
      return;
    }
    const half = hd / 2;
    const scaled = scale !== 1;
    for (let b = 0; b < B; b++) {
      for (let t = 0; t < T; t++) {
        const row = b * T + t;
        const cs = row * hd;
        for (let h = 0; h < H; h++) {
          const src = (row * H + h) * hd;
          const dst = ((b * H + h) * T + t) * hd;
          for (let j = 0; j < hd; j++) {
            const xj = scaled ? f32(x[src + j] * scale) : x[src + j];
            if (!rotate) {
              y[dst + j] = xj;
              continue;
            }
            const jp = j < half ? j + half : j - half;
            const xp = scaled ? f32(x[src + jp] * scale) : x[src + jp];
            y[dst + j] = f32(xj * cos[cs + j]) + f32(xp * sin[cs + j]);
          }
        }
      }
    }
  },
};

/** dy [B, H, T, hd] → dx [B·T, H·hd]: dxs = dy·cos + swap_halves(dy·sinSigned), dx = dxs·scale. */
const ropeHeadsGrad: JsKernel = {
  name: ROPE_HEADS_GRAD,
  inputs: ["dy", "cos", "sin"],
  outputShapes: ([dy]) => [[dy[0] * dy[2], dy[1] * dy[3]]],
  run: ([dy, cos, sin], [ds], [dx], attrs) => {
    const [, H, T, hd] = ds;
    const B = ds[0];
    const { scale, rotate } = ropeGeometry(B * T, H * hd, attrs);
    const native = nativeKernels();
    if (native && dy instanceof Float32Array && cos instanceof Float32Array && sin instanceof Float32Array) {
      native.rope(true, dy, cos, sin, dx, B, T, H, hd, scale, rotate);
      return;
    }
    const half = hd / 2;
    for (let b = 0; b < B; b++) {
      for (let h = 0; h < H; h++) {
        for (let t = 0; t < T; t++) {
          const row = b * T + t;
          const cs = row * hd;
          const src = ((b * H + h) * T + t) * hd;
          const dst = (row * H + h) * hd;
          for (let j = 0; j < hd; j++) {
            let d = dy[src + j];
            if (rotate) {
              const jp = j < half ? j + half : j - half;
              d = f32(f32(d * cos[cs + j]) + f32(dy[src + jp] * sin[cs + jp]));
            }
            dx[dst + j] = scale !== 1 ? d * scale : d;
          }
        }
      }
    }
  },
};

// ---- Σ cross-entropy of softmax(logits) against integer targets

/** Rows whose target probability is this small get an exact log-sum-exp instead of −log p (underflow guard). */
const TINY = 1e-30;

/** −log softmax(x_row)[y] exactly, as max + log Σ exp(x − max) − x_y (the rare small-probability path). */
function exactRowLoss(x: Numeric, off: number, V: number, y: number): number {
  let m = -Infinity;
  for (let v = 0; v < V; v++) if (x[off + v] > m) m = x[off + v];
  let s = 0;
  for (let v = 0; v < V; v++) s += Math.exp(x[off + v] - m);
  return m + Math.log(s) - x[off + y];
}

/**
 * [Σ_rows −log p[target] (a scalar), p = softmax(logits) [N, V]]; p comes from the backend's Softmax kernel
 * (`pre`), the sum is accumulated in float32 row by row.
 */
const xentSum: JsKernel = {
  name: XENT_SUM,
  inputs: ["logits", "targets"],
  pre: [{ kernel: "Softmax", inputs: { logits: 0 }, attrs: { dim: 1 } }],
  outputShapes: ([l, t]) => {
    if (l.length !== 2 || t.length !== 1 || t[0] !== l[0]) throw new Error(`${XENT_SUM}: logits [${l}] and targets [${t}] do not fit`);
    return [[]];
  },
  run: ([x, targets, p], [ls], [loss]) => {
    const [N, V] = ls;
    let sum = 0;
    for (let n = 0; n < N; n++) {
      const y = targets[n];
      if (!(y >= 0 && y < V)) throw new Error(`${XENT_SUM}: target ${y} outside [0, ${V})`);
      const py = p[n * V + y];
      sum = f32(sum + f32(py > TINY ? -Math.log(py) : exactRowLoss(x, n * V, V, y)));
    }
    loss[0] = sum;
  },
};

/** d logits = (p − onehot(target)) · dy: p·dy by the backend's Multiply (SIMD on wasm), then N entries patched. */
const xentGrad: JsKernel = {
  name: XENT_GRAD,
  inputs: ["dy", "probs", "targets"],
  pre: [{ kernel: "Multiply", inputs: { a: 1, b: 0 }, attrs: {} }],
  outputShapes: () => [],
  run: ([dy, p, targets, dx], [, ps]) => {
    const [N, V] = ps;
    const g = dy[0];
    for (let n = 0; n < N; n++) dx[n * V + targets[n]] = f32(p[n * V + targets[n]] - 1) * g;
  },
};

// ---- registration

const KERNELS = [ropeHeads, ropeHeadsGrad, xentSum, xentGrad];

function run(name: string, inputs: tf.NamedTensorMap, attrs: tf.NamedAttrMap = {}): tf.Tensor {
  return tf.engine().runKernel(name, inputs, attrs) as tf.Tensor;
}

function registerGradients(): void {
  tf.registerGradient({
    kernelName: ROPE_HEADS,
    inputsToSave: ["cos", "sin"],
    gradFunc: (dy, saved, attrs) => {
      const [cos, sin] = saved;
      return { x: () => run(ROPE_HEADS_GRAD, { dy: dy as tf.Tensor, cos, sin }, attrs) };
    },
  });
  tf.registerGradient({
    kernelName: XENT_SUM,
    inputsToSave: ["targets"],
    outputsToSave: [false, true],
    gradFunc: (dys, saved) => {
      const [targets, probs] = saved;
      const dy = (Array.isArray(dys) ? dys[0] : dys) as tf.Tensor;
      return {
        logits: () => run(XENT_GRAD, { dy, probs, targets }),
        targets: () => tf.zerosLike(targets),
      };
    },
  });
}

let registered = false;

/** Register the fused kernels on wasm and cpu, and their gradients; idempotent. */
export function registerFusedKernels(): void {
  if (registered) return;
  for (const k of KERNELS) registerJsKernel(k);
  registerGradients();
  registered = true;
}

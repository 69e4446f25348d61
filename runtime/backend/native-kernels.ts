// RMSNorm (forward and backward) and the SiLU gradient as single kernels computed by tune's native addon.
//
// Why this exists: as tfjs op chains, RMSNorm is 6 kernels forward and 9 backward per call (its weight gradient a
// column sum that the wasm backend runs through a transpose), and SiLU's gradient 5; a training step of the tiny
// model spends ≈ 15–20 ms in them. In C each is one pass over the rows. These kernels are registered only when the
// addon is loaded — in JavaScript they would be slower than the wasm chains they replace (js-kernels.ts) — and
// runtime/model/layers.ts uses them when the active backend has them. RMSNorm sums squares in double, so it
// agrees with the chain to float32 rounding (≈ 1e-7 relative), not bit for bit; the SiLU gradient keeps the
// chain's float32 operation order and is bit-identical.

import * as tf from "@tensorflow/tfjs";
import { type JsKernel, registerJsKernel } from "./js-kernels.js";
import { nativeKernels, type NativeKernels } from "./native.js";

export const RMS_NORM = "TuneRmsNorm";
export const RMS_NORM_GRAD_X = "TuneRmsNormGradX";
export const RMS_NORM_GRAD_W = "TuneRmsNormGradW";
export const SILU_GRAD = "TuneSiluGrad";

function rowsCols(shape: number[], name: string): [number, number] {
  if (shape.length !== 2) throw new Error(`${name}: expected a 2-D input, got [${shape}]`);
  return [shape[0], shape[1]];
}

function f32(x: unknown, name: string): Float32Array {
  if (!(x instanceof Float32Array)) throw new Error(`${name}: float32 input expected`);
  return x;
}

function kernels(native: NativeKernels): JsKernel[] {
  const rmsNorm: JsKernel = {
    name: RMS_NORM,
    inputs: ["x", "weight"],
    outputShapes: ([x, w]) => {
      const [N, D] = rowsCols(x, RMS_NORM);
      if (w.length !== 1 || w[0] !== D) throw new Error(`${RMS_NORM}: weight [${w}] does not fit x [${x}]`);
      return [[N, D], [N, D], [N, 1]];
    },
    run: ([x, w], [xs], [y, xhat, r], attrs) => {
      const [N, D] = rowsCols(xs, RMS_NORM);
      native.rmsNorm(f32(x, RMS_NORM), f32(w, RMS_NORM), y, xhat, r, N, D, Number(attrs["eps"]));
    },
  };
  // dx and dw are separate kernels: the tape computes (and tidies) each input's gradient on its own, and skips
  // dw when the norm weight is frozen (LoRA).
  const rmsNormGrad = (name: string, wantDx: boolean): JsKernel => ({
    name,
    inputs: ["dy", "xhat", "r", "weight"],
    outputShapes: ([dy]) => [wantDx ? dy : [dy[1]]],
    run: ([dy, xhat, r, w], [ds], [out]) => {
      const [N, D] = rowsCols(ds, name);
      native.rmsNormGrad(wantDx, f32(dy, name), f32(xhat, name), f32(r, name), f32(w, name), out, N, D);
    },
  });
  const siluGrad: JsKernel = {
    name: SILU_GRAD,
    inputs: ["dy", "z", "s"],
    outputShapes: ([dy, z, s]) => {
      if (String(dy) !== String(z) || String(z) !== String(s)) throw new Error(`${SILU_GRAD}: shapes [${dy}], [${z}], [${s}] differ`);
      return [dy];
    },
    run: ([dy, z, s], _shapes, [dz]) => native.siluGrad(f32(dy, SILU_GRAD), f32(z, SILU_GRAD), f32(s, SILU_GRAD), dz),
  };
  return [rmsNorm, rmsNormGrad(RMS_NORM_GRAD_X, true), rmsNormGrad(RMS_NORM_GRAD_W, false), siluGrad];
}

let registered = false;

/** Register the kernels (wasm and cpu) and RMSNorm's gradient when the native addon is loaded; else nothing. */
export function registerNativeKernels(): boolean {
  const native = nativeKernels();
  if (!native) return false;
  if (registered) return true;
  for (const k of kernels(native)) registerJsKernel(k);
  tf.registerGradient({
    kernelName: RMS_NORM,
    inputsToSave: ["weight"],
    outputsToSave: [false, true, true],
    gradFunc: (dys, saved) => {
      const [weight, xhat, r] = saved;
      const dy = (Array.isArray(dys) ? dys[0] : dys) as tf.Tensor;
      const inputs = { dy, xhat, r, weight } as tf.NamedTensorMap;
      return {
        x: () => tf.engine().runKernel(RMS_NORM_GRAD_X, inputs) as tf.Tensor,
        weight: () => tf.engine().runKernel(RMS_NORM_GRAD_W, inputs) as tf.Tensor,
      };
    },
  });
  registered = true;
  return true;
}

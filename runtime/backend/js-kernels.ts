// Register "fused" kernels written in JavaScript on the tfjs wasm and cpu backends.
//
// Why this exists: some op chains of a Llama training step are far slower as tfjs kernels than as one JS pass:
// RoPE with its head split/transpose is 8 forward + 8 backward kernels (a permutation matmul, broadcast
// multiplies, transposes), the cross-entropy over the vocabulary 10+ kernels with two exp passes. A fused kernel
// does one pass over the data in JS, reading and writing the wasm heap in place (zero-copy views), or the cpu
// backend's arrays. Measured on the 2-vCPU VM, a JS pass costs ~4× a SIMD wasm element-wise kernel over the same
// data, so fusing only pays where it removes ≥ 4 passes or kernel dispatches; plain element-wise chains
// (RMSNorm, SwiGLU) stay on the wasm kernels. Kernels are plain functions over typed arrays so the same code
// serves both backends and the tests can compare them with the unfused tfjs ops.

import * as tf from "@tensorflow/tfjs";
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";

export type Numeric = Float32Array | Int32Array;

/** One fused kernel: its input names (in order), output shapes and the computation over host arrays. */
export interface JsKernel {
  name: string;
  inputs: readonly string[];
  /** float32 output shapes from the input shapes and attributes. */
  outputShapes(shapes: number[][], attrs: tf.NamedAttrMap): number[][];
  /** Fill `outs` (fresh, unspecified contents) from `ins` (the inputs, then the `pre` results). */
  run(ins: Numeric[], shapes: number[][], outs: Float32Array[], attrs: tf.NamedAttrMap): void;
  /**
   * Backend kernels run first on the inputs (kernel input name → index of ours), e.g. XNNPACK's Softmax: their
   * results are passed to `run` after the inputs (writable: `run` may patch them) and returned after its outputs.
   */
  pre?: { kernel: string; inputs: Record<string, number>; attrs: tf.NamedAttrMap }[];
}

interface KernelArgs {
  inputs: tf.NamedTensorInfoMap;
  backend: unknown;
  attrs?: tf.NamedAttrMap;
}

/** The cpu backend's public surface we use (its class is not exported from @tensorflow/tfjs' typings). */
interface CpuBackendLike {
  readSync(dataId: tf.DataId): unknown;
  makeTensorInfo(shape: number[], dtype: tf.DataType, values?: unknown): tf.TensorInfo;
}

function inputInfos(k: JsKernel, args: KernelArgs): tf.TensorInfo[] {
  return k.inputs.map((n) => {
    const t = args.inputs[n];
    if (t == null) throw new Error(`${k.name}: missing input "${n}"`);
    if (t.dtype !== "float32" && t.dtype !== "int32") throw new Error(`${k.name}: input "${n}" has dtype ${t.dtype}`);
    return t;
  });
}

function size(shape: number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Results of the `pre` backend kernels of `k` on backend `backendName`. */
function runPre(k: JsKernel, backendName: string, ins: tf.TensorInfo[], backend: unknown): tf.TensorInfo[] {
  return (k.pre ?? []).map((p) => {
    const kernel = tf.getKernel(p.kernel, backendName);
    if (kernel == null) throw new Error(`${k.name}: backend ${backendName} has no ${p.kernel} kernel`);
    const inputs = Object.fromEntries(Object.entries(p.inputs).map(([name, i]) => [name, ins[i]!]));
    return kernel.kernelFunc({ inputs, backend, attrs: p.attrs } as Parameters<tf.KernelFunc>[0]) as tf.TensorInfo;
  });
}

function wasmKernel(k: JsKernel): tf.KernelFunc {
  return ((args: KernelArgs) => {
    const backend = args.backend as BackendWasm;
    const ins = inputInfos(k, args);
    const shapes = ins.map((t) => t.shape);
    const attrs = args.attrs ?? {};
    // Allocate every output first: an allocation may grow (and so detach) the heap under earlier views.
    const pre = runPre(k, "wasm", ins, backend);
    const outs = k.outputShapes(shapes, attrs).map((s) => backend.makeOutput(s, "float32"));
    const outViews = outs.map((o) => backend.typedArrayFromHeap(o) as Float32Array);
    const inViews = [...ins, ...pre].map((t) => backend.typedArrayFromHeap(t) as Numeric);
    k.run(inViews, [...shapes, ...pre.map((t) => t.shape)], outViews, attrs);
    const all = [...outs, ...pre];
    return all.length === 1 ? all[0] : all;
  }) as unknown as tf.KernelFunc;
}

function cpuKernel(k: JsKernel): tf.KernelFunc {
  return ((args: KernelArgs) => {
    const backend = args.backend as CpuBackendLike;
    const ins = inputInfos(k, args);
    const shapes = ins.map((t) => t.shape);
    const attrs = args.attrs ?? {};
    const pre = runPre(k, "cpu", ins, backend);
    const outShapes = k.outputShapes(shapes, attrs);
    const outData = outShapes.map((s) => new Float32Array(size(s)));
    const inData = [...ins, ...pre].map((t) => backend.readSync(t.dataId) as Numeric);
    k.run(inData, [...shapes, ...pre.map((t) => t.shape)], outData, attrs);
    const all = [...outShapes.map((s, i) => backend.makeTensorInfo(s, "float32", outData[i])), ...pre];
    return all.length === 1 ? all[0] : all;
  }) as unknown as tf.KernelFunc;
}

/** Register `k` on the wasm and cpu backends (replacing an earlier registration); idempotent. */
export function registerJsKernel(k: JsKernel): void {
  for (const backendName of ["wasm", "cpu"] as const) {
    if (tf.getKernel(k.name, backendName) != null) tf.unregisterKernel(k.name, backendName);
    tf.registerKernel({ kernelName: k.name, backendName, kernelFunc: backendName === "wasm" ? wasmKernel(k) : cpuKernel(k) });
  }
}

/** True when the active backend has kernel `name` (the tensorflow backend has none of tune's JS kernels). */
export function hasKernel(name: string): boolean {
  return tf.getKernel(name, tf.getBackend()) != null;
}

// A faster `BatchMatMul` for the tfjs wasm backend.
//
// Why this exists: the wasm backend sends a matmul to XNNPACK only when neither operand is transposed and
// the batch size is 1; every other case (transposeA/transposeB — all of backward — and every batched matmul,
// i.e. attention) runs a scalar triple loop at ~0.7–1 GFLOP/s instead of ~12–16 (runtime-notes.md measured
// 14–26× for the transposed forms). This wrapper
//   1. transposes a transposed operand explicitly (the wasm Transpose kernel), and
//   2. runs a batched product as one XNNPACK call per batch entry, on zero-copy "views": extra tensor ids
//      registered with the C++ side at an offset inside the operand's heap buffer and unregistered (never
//      freed) afterwards. The XNNPACK operator cached on a view id is deleted when the id is unregistered.
// Broadcasting other than "same batch" or "one side has batch 1" falls back to the original kernel.
//   3. keeps the transpose of a 2-D right operand used with transposeB (a weight in `x·Wᵀ`: the tied LM head,
//      every linear's input gradient `dy·Wᵀ`) until that operand is disposed. A frozen weight (LoRA, reference
//      models) is then transposed once per run instead of once per step, and XNNPACK, which caches its packed
//      weights per right-operand id, packs it once too (creating an operator costs ~0.3 ms for 128×384).
// When tune's native addon is loaded (native.ts), every float32 product instead goes to its AVX2/FMA SGEMM,
// which reads the operands in place in the wasm heap (transposed or not) and writes the output there: ~5× the
// GFLOP/s of XNNPACK on this workload. Only "same batch" / "one side has batch 1" broadcasting goes native.

import * as tf from "@tensorflow/tfjs";
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
import type { NativeKernels } from "./native.js";

/** The parts of the wasm backend's internals the view trick needs (private in its typings). */
interface WasmInternals {
  dataIdNextNumber: number;
  dataIdMap: { get(dataId: tf.DataId): { id: number; memoryOffset: number } };
  wasm: {
    cwrap(name: string, ret: null, args: string[]): (...args: unknown[]) => void;
    tfjs: {
      registerTensor(id: number, size: number, memoryOffset: number): void;
      disposeData(id: number): void;
    };
  };
}

type RawMatMul = (
  aId: number, aShape: Uint8Array, aRank: number, bId: number, bShape: Uint8Array, bRank: number,
  transposeA: boolean, transposeB: boolean, outId: number,
) => void;

interface MatMulArgs {
  inputs: tf.NamedTensorInfoMap;
  backend: unknown;
  attrs?: tf.NamedAttrMap;
}

let rawMatMul: RawMatMul | null = null;
let originalKernel: tf.KernelConfig | null = null;
let native: NativeKernels | null = null;

/** Transposes kept per source data id, and their total size (bounded so big models do not double memory). */
const transposed = new Map<tf.DataId, tf.TensorInfo>();
let transposedBytes = 0;
const TRANSPOSE_CACHE_BYTES = 256 * 2 ** 20;

/** The transpose of 2-D `b`, kept until `b`'s buffer is freed; null when the cache is full. */
function cachedTranspose(b: tf.TensorInfo, backend: BackendWasm): tf.TensorInfo | null {
  const hit = transposed.get(b.dataId);
  if (hit) return hit;
  const bytes = b.shape[0] * b.shape[1] * 4;
  if (transposedBytes + bytes > TRANSPOSE_CACHE_BYTES) return null;
  const t = transposeLast2(b, backend);
  transposed.set(b.dataId, t);
  transposedBytes += bytes;
  return t;
}

/** Evict a source's cached transpose once the backend really frees the source. */
function watchDisposals(backend: BackendWasm): void {
  const dispose = backend.disposeData.bind(backend);
  backend.disposeData = (dataId: tf.DataId, force?: boolean): boolean => {
    const freed = dispose(dataId, force);
    const t = freed ? transposed.get(dataId) : undefined;
    if (t) {
      transposed.delete(dataId);
      transposedBytes -= t.shape[0] * t.shape[1] * 4;
      dispose(t.dataId, true);
    }
    return freed;
  };
}

function shapeBytes(shape: number[]): Uint8Array {
  return new Uint8Array(new Int32Array(shape).buffer);
}

function prod(xs: number[]): number {
  return xs.reduce((a, b) => a * b, 1);
}

/** Swap the last two axes with the wasm Transpose kernel; the caller disposes the result. */
function transposeLast2(x: tf.TensorInfo, backend: BackendWasm): tf.TensorInfo {
  const rank = x.shape.length;
  const perm = [...Array(rank - 2).keys(), rank - 1, rank - 2];
  const kernel = tf.getKernel("Transpose", "wasm");
  return kernel.kernelFunc({ inputs: { x }, backend, attrs: { perm } }) as tf.TensorInfo;
}

/** Register a C++-side tensor id aliasing `size` floats at byte `offset` (no allocation). */
function makeView(internals: WasmInternals, offset: number, size: number): number {
  const id = internals.dataIdNextNumber++;
  internals.wasm.tfjs.registerTensor(id, size, offset);
  return id;
}

function broadcastBatch(a: number[], b: number[]): number[] {
  const rank = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < rank; i++) {
    const da = a[a.length - rank + i] ?? 1;
    const db = b[b.length - rank + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) throw new Error(`matMul: batch dims [${a}] and [${b}] do not broadcast`);
    out.push(Math.max(da, db));
  }
  return out;
}

/** out[i] = a[i or 0] @ b[i or 0] for each batch entry, via one XNNPACK call per entry on heap views. */
function batchedViaViews(
  backend: BackendWasm, a: tf.TensorInfo, b: tf.TensorInfo, out: tf.TensorInfo,
  batch: number, dims: { m: number; k: number; n: number; batchA: number; batchB: number },
): void {
  const internals = backend as unknown as WasmInternals;
  const { m, k, n, batchA, batchB } = dims;
  const aInfo = internals.dataIdMap.get(a.dataId);
  const bInfo = internals.dataIdMap.get(b.dataId);
  const oInfo = internals.dataIdMap.get(out.dataId);
  const aShape = shapeBytes([1, m, k]);
  const bShape = shapeBytes([1, k, n]);
  for (let i = 0; i < batch; i++) {
    const aId = batchA === 1 ? aInfo.id : makeView(internals, aInfo.memoryOffset + i * m * k * 4, m * k);
    const bId = batchB === 1 ? bInfo.id : makeView(internals, bInfo.memoryOffset + i * k * n * 4, k * n);
    const oId = makeView(internals, oInfo.memoryOffset + i * m * n * 4, m * n);
    rawMatMul!(aId, aShape, 3, bId, bShape, 3, false, false, oId);
    if (aId !== aInfo.id) internals.wasm.tfjs.disposeData(aId);
    if (bId !== bInfo.id) internals.wasm.tfjs.disposeData(bId);
    internals.wasm.tfjs.disposeData(oId);
  }
}

/** op(a) · op(b) by the native SGEMM on the heap buffers; null when the batch broadcasting is not supported. */
function nativeProduct(
  kernels: NativeKernels, backend: BackendWasm, a: tf.TensorInfo, b: tf.TensorInfo, transposeA: boolean, transposeB: boolean,
): tf.TensorInfo | null {
  const [ra, ca] = a.shape.slice(-2);
  const [rb, cb] = b.shape.slice(-2);
  const [m, k] = transposeA ? [ca, ra] : [ra, ca];
  const [k2, n] = transposeB ? [cb, rb] : [rb, cb];
  if (k !== k2) throw new Error(`matMul: inner dimensions ${k} and ${k2} differ (shapes [${a.shape}], [${b.shape}])`);
  const batchA = prod(a.shape.slice(0, -2));
  const batchB = prod(b.shape.slice(0, -2));
  const outBatch = broadcastBatch(a.shape.slice(0, -2), b.shape.slice(0, -2));
  const batch = Math.max(batchA, batchB);
  if ((batchA !== batchB && batchA !== 1 && batchB !== 1) || prod(outBatch) !== batch) return null;
  const out = backend.makeOutput([...outBatch, m, n], "float32");
  if (batch * m * n === 0) return out;
  // Views are taken after makeOutput: allocating may grow (and so replace) the heap's buffer.
  const heapA = backend.typedArrayFromHeap(a) as Float32Array;
  const heapB = backend.typedArrayFromHeap(b) as Float32Array;
  const heapOut = backend.typedArrayFromHeap(out) as Float32Array;
  kernels.sgemm(heapA, heapB, heapOut, batch, m, n, k, transposeA, transposeB, batchA === 1 ? 0 : m * k, batchB === 1 ? 0 : k * n);
  return out;
}

function fastBatchMatMul(args: MatMulArgs): tf.TensorInfo {
  const backend = args.backend as BackendWasm;
  const a0 = args.inputs["a"]!;
  const b0 = args.inputs["b"]!;
  const transposeA = Boolean(args.attrs?.["transposeA"]);
  const transposeB = Boolean(args.attrs?.["transposeB"]);
  if (a0.dtype !== "float32" || b0.dtype !== "float32") {
    return originalKernel!.kernelFunc(args as Parameters<tf.KernelFunc>[0]) as tf.TensorInfo;
  }
  if (native) {
    const out = nativeProduct(native, backend, a0, b0, transposeA, transposeB);
    if (out) return out;
  }
  const temps: tf.TensorInfo[] = [];
  const a = transposeA ? transposeLast2(a0, backend) : a0;
  if (a !== a0) temps.push(a);
  let b = b0;
  if (transposeB) {
    const kept = b0.shape.length === 2 ? cachedTranspose(b0, backend) : null;
    b = kept ?? transposeLast2(b0, backend);
    if (!kept) temps.push(b);
  }
  try {
    const [m, k] = a.shape.slice(-2);
    const [k2, n] = b.shape.slice(-2);
    if (k !== k2) throw new Error(`matMul: inner dimensions ${k} and ${k2} differ (shapes [${a0.shape}], [${b0.shape}])`);
    const batchDimsA = a.shape.slice(0, -2);
    const batchDimsB = b.shape.slice(0, -2);
    const batchA = prod(batchDimsA);
    const batchB = prod(batchDimsB);
    const outBatch = broadcastBatch(batchDimsA, batchDimsB);
    if ((batchA !== batchB && batchA !== 1 && batchB !== 1) || prod(outBatch) !== Math.max(batchA, batchB)) {
      const plain = { ...args, inputs: { a, b }, attrs: { transposeA: false, transposeB: false } };
      return originalKernel!.kernelFunc(plain as Parameters<tf.KernelFunc>[0]) as tf.TensorInfo;
    }
    const batch = Math.max(batchA, batchB);
    const out = backend.makeOutput([...outBatch, m, n], "float32");
    if (m * n === 0) return out;
    if (k === 0) {
      backend.typedArrayFromHeap(out).fill(0);
      return out;
    }
    batchedViaViews(backend, a, b, out, batch, { m, k, n, batchA, batchB });
    return out;
  } finally {
    for (const t of temps) backend.disposeData(t.dataId);
  }
}

/**
 * Replace the wasm BatchMatMul kernel with the wrapper above. Call after `tf.setBackend("wasm")` resolved;
 * idempotent. `kernels` (the native addon, or null) decides which path products take from now on.
 */
export function registerFastWasmMatMul(backend: BackendWasm, kernels: NativeKernels | null = null): void {
  native = kernels;
  const current = tf.getKernel("BatchMatMul", "wasm");
  if (current == null) throw new Error("wasm backend has no BatchMatMul kernel to wrap");
  if (current.kernelFunc === (fastBatchMatMul as unknown)) return;
  originalKernel = current;
  const internals = backend as unknown as WasmInternals;
  rawMatMul = internals.wasm.cwrap("BatchMatMul", null, [
    "number", "array", "number", "number", "array", "number", "number", "number", "number",
  ]) as unknown as RawMatMul;
  watchDisposals(backend);
  tf.unregisterKernel("BatchMatMul", "wasm");
  tf.registerKernel({
    kernelName: "BatchMatMul",
    backendName: "wasm",
    setupFunc: current.setupFunc,
    disposeFunc: current.disposeFunc,
    kernelFunc: fastBatchMatMul as unknown as tf.KernelFunc,
  });
}

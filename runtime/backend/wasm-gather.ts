// A row-copy `GatherV2` for the tfjs wasm backend (axis 0, no batch dims: embedding lookups, row selection).
//
// Why this exists: the wasm Gather kernel computes a strided index per element; an embedding lookup of 512
// rows × 128 takes ~3.8 ms, longer than the matmuls around it. Copying whole rows with TypedArray.set is
// ~50× faster. Other axes and batchDims > 0 fall back to the original kernel.

import * as tf from "@tensorflow/tfjs";
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";

type Numeric = Float32Array | Int32Array | Uint8Array;

interface GatherArgs {
  inputs: tf.NamedTensorInfoMap;
  backend: unknown;
  attrs?: tf.NamedAttrMap;
}

let original: tf.KernelConfig | null = null;

function rowGather(args: GatherArgs): tf.TensorInfo {
  const x = args.inputs["x"]!;
  const indices = args.inputs["indices"]!;
  const axis = Number(args.attrs?.["axis"] ?? 0);
  const batchDims = Number(args.attrs?.["batchDims"] ?? 0);
  if (axis !== 0 || batchDims !== 0 || x.dtype === "string" || x.shape.length === 0) {
    return original!.kernelFunc(args as Parameters<tf.KernelFunc>[0]) as tf.TensorInfo;
  }
  const backend = args.backend as BackendWasm;
  const rows = x.shape[0];
  const inner = x.shape.slice(1).reduce((a, b) => a * b, 1);
  const out = backend.makeOutput([...indices.shape, ...x.shape.slice(1)], x.dtype);
  const o = backend.typedArrayFromHeap(out) as Numeric;
  const src = backend.typedArrayFromHeap(x) as Numeric;
  const idx = backend.typedArrayFromHeap(indices) as Numeric;
  for (let i = 0; i < idx.length; i++) {
    const r = idx[i];
    if (r < 0 || r >= rows) {
      backend.disposeData(out.dataId);
      throw new Error(`gather: index ${r} is outside [0, ${rows})`);
    }
    if (inner === 1) o[i] = src[r];
    else o.set(src.subarray(r * inner, (r + 1) * inner), i * inner);
  }
  return out;
}

/** Replace the wasm GatherV2 kernel with the row-copy one; idempotent. */
export function registerRowGather(): void {
  const current = tf.getKernel("GatherV2", "wasm");
  if (current == null) throw new Error("wasm backend has no GatherV2 kernel to wrap");
  if (current.kernelFunc === (rowGather as unknown)) return;
  original = current;
  tf.unregisterKernel("GatherV2", "wasm");
  tf.registerKernel({
    kernelName: "GatherV2",
    backendName: "wasm",
    setupFunc: current.setupFunc,
    disposeFunc: current.disposeFunc,
    kernelFunc: rowGather as unknown as tf.KernelFunc,
  });
}

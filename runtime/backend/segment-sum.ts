// Direct scatter-add `UnsortedSegmentSum` kernels for the wasm and cpu backends.
//
// Why this exists: `UnsortedSegmentSum` is the gradient of `gather`, i.e. of every embedding lookup. The wasm
// backend has no kernel for it at all, and the pure-JS cpu kernel loops over segments (O(segments × rows)):
// 66 s for a [512,256] input into 2,000 segments, unusable with 32k–128k vocabularies. A single pass that adds
// each row into its segment is O(rows × inner) (runtime-notes.md, "wasm backend in Node").

import * as tf from "@tensorflow/tfjs";
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";

type Numeric = Float32Array | Int32Array | Uint8Array;

/** The attributes and inputs tfjs passes to an UnsortedSegmentSum kernel. */
interface SegmentSumArgs {
  inputs: tf.NamedTensorInfoMap;
  attrs?: tf.NamedAttrMap;
}

/** Output shape: [numSegments, ...x.shape after the segment-id dims]. */
function outputShape(x: tf.TensorInfo, ids: tf.TensorInfo, numSegments: number): number[] {
  return [numSegments, ...x.shape.slice(ids.shape.length)];
}

/** out[ids[i]] += x[i] for every row i; ids outside [0, numSegments) are dropped (as TensorFlow does). */
export function scatterAdd(x: Numeric, ids: Numeric, out: Numeric, numSegments: number): void {
  const rows = ids.length;
  const inner = rows === 0 ? 0 : x.length / rows;
  out.fill(0);
  for (let i = 0; i < rows; i++) {
    const s = ids[i];
    if (s < 0 || s >= numSegments) continue;
    const src = i * inner;
    const dst = s * inner;
    for (let j = 0; j < inner; j++) out[dst + j] += x[src + j];
  }
}

function readArgs(args: SegmentSumArgs): { x: tf.TensorInfo; ids: tf.TensorInfo; numSegments: number } {
  const x = args.inputs["x"];
  const ids = args.inputs["segmentIds"];
  const numSegments = Number(args.attrs?.["numSegments"]);
  if (x == null || ids == null || !Number.isInteger(numSegments)) {
    throw new Error("UnsortedSegmentSum: expected inputs {x, segmentIds} and attr numSegments");
  }
  return { x, ids, numSegments };
}

/** wasm: allocate the output on the heap first (allocation may grow memory), then take views of all three. */
function wasmSegmentSum(args: SegmentSumArgs & { backend: unknown }): tf.TensorInfo {
  const backend = args.backend as BackendWasm;
  const { x, ids, numSegments } = readArgs(args);
  const out = backend.makeOutput(outputShape(x, ids, numSegments), x.dtype);
  const outView = backend.typedArrayFromHeap(out) as Numeric;
  const xView = backend.typedArrayFromHeap(x) as Numeric;
  const idView = backend.typedArrayFromHeap(ids) as Numeric;
  scatterAdd(xView, idView, outView, numSegments);
  return out;
}

/** The cpu backend's public surface we use (its class is not exported from @tensorflow/tfjs' typings). */
interface CpuBackendLike {
  readSync(dataId: tf.DataId): unknown;
  makeTensorInfo(shape: number[], dtype: tf.DataType, values?: unknown): tf.TensorInfo;
}

function cpuSegmentSum(args: SegmentSumArgs & { backend: unknown }): tf.TensorInfo {
  const backend = args.backend as CpuBackendLike;
  const { x, ids, numSegments } = readArgs(args);
  const shape = outputShape(x, ids, numSegments);
  const size = shape.reduce((a, b) => a * b, 1);
  const out = x.dtype === "int32" ? new Int32Array(size) : new Float32Array(size);
  scatterAdd(backend.readSync(x.dataId) as Numeric, backend.readSync(ids.dataId) as Numeric, out, numSegments);
  return backend.makeTensorInfo(shape, x.dtype, out);
}

/** Replace UnsortedSegmentSum on `backendName` ("wasm" or "cpu") with the direct scatter-add. */
export function registerSegmentSum(backendName: "wasm" | "cpu"): void {
  const kernelFunc = backendName === "wasm" ? wasmSegmentSum : cpuSegmentSum;
  if (tf.getKernel("UnsortedSegmentSum", backendName) != null) tf.unregisterKernel("UnsortedSegmentSum", backendName);
  tf.registerKernel({ kernelName: "UnsortedSegmentSum", backendName, kernelFunc: kernelFunc as tf.KernelFunc });
}

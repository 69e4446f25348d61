// A zero-copy `Identity` kernel for the tfjs wasm backend.
//
// Why this exists: while recording gradients, tfjs clones every tensor it saves for the backward pass
// (`engine.saveTensorsForBackwardMode` → Identity). The wasm kernel copies the data each time (~300 copies per
// training step of a 4-layer model); the cpu backend instead shares the buffer and bumps its reference count,
// which is safe because tfjs tensors are immutable. This does the same on wasm (as wasm's own Reshape does).
// `Cast` to the dtype a tensor already has is the same copy: every Multiply gradient casts both operands to
// float32 (tfjs `mul` grad), i.e. ~30 full copies of [tokens, hidden] tensors per step; it shares the buffer too.

import * as tf from "@tensorflow/tfjs";

interface RefCounting {
  incRef(dataId: tf.DataId): void;
}

function sharedIdentity(args: { inputs: tf.NamedTensorInfoMap; backend: unknown }): tf.TensorInfo {
  const x = args.inputs["x"]!;
  if (x.dtype === "string") throw new Error("tune Identity kernel: string tensors are not supported on wasm");
  (args.backend as RefCounting).incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape.slice(), dtype: x.dtype };
}

let originalCast: tf.KernelConfig | null = null;

function sharedCast(args: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap }): tf.TensorInfo {
  const x = args.inputs["x"]!;
  if (args.attrs?.["dtype"] === x.dtype && x.dtype !== "string") return sharedIdentity(args);
  return originalCast!.kernelFunc(args as Parameters<tf.KernelFunc>[0]) as tf.TensorInfo;
}

/** Replace the wasm Identity kernel with the buffer-sharing one, and same-dtype Cast likewise; idempotent. */
export function registerSharedIdentity(): void {
  const current = tf.getKernel("Identity", "wasm");
  if (current?.kernelFunc !== (sharedIdentity as unknown)) {
    if (current) tf.unregisterKernel("Identity", "wasm");
    tf.registerKernel({ kernelName: "Identity", backendName: "wasm", kernelFunc: sharedIdentity as unknown as tf.KernelFunc });
  }
  const cast = tf.getKernel("Cast", "wasm");
  if (cast == null || cast.kernelFunc === (sharedCast as unknown)) return;
  originalCast = cast;
  tf.unregisterKernel("Cast", "wasm");
  tf.registerKernel({
    kernelName: "Cast", backendName: "wasm", setupFunc: cast.setupFunc, disposeFunc: cast.disposeFunc,
    kernelFunc: sharedCast as unknown as tf.KernelFunc,
  });
}

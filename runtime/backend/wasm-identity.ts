// A zero-copy `Identity` kernel for the tfjs wasm backend.
//
// Why this exists: while recording gradients, tfjs clones every tensor it saves for the backward pass
// (`engine.saveTensorsForBackwardMode` → Identity). The wasm kernel copies the data each time (~300 copies per
// training step of a 4-layer model); the cpu backend instead shares the buffer and bumps its reference count,
// which is safe because tfjs tensors are immutable. This does the same on wasm (as wasm's own Reshape does).

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

/** Replace the wasm Identity kernel with the buffer-sharing one; idempotent. */
export function registerSharedIdentity(): void {
  const current = tf.getKernel("Identity", "wasm");
  if (current?.kernelFunc === (sharedIdentity as unknown)) return;
  if (current) tf.unregisterKernel("Identity", "wasm");
  tf.registerKernel({ kernelName: "Identity", backendName: "wasm", kernelFunc: sharedIdentity as unknown as tf.KernelFunc });
}

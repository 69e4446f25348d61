// The two halves of an optimizer step that every trainer (SFT, DPO) shares:
// adding a micro-batch's gradients into host accumulators, and applying one
// AdamW update (per-parameter weight decay) back into the tf variables.
import * as tf from "@tensorflow/tfjs";
import { nativeKernels } from "../backend/native.js";
import type { AdamW } from "./adamw.js";

/** A tensor being trained, under the name used for logs, checkpoints and the decay decision. */
export interface TrainableParam {
  name: string;
  variable: tf.Variable;
  decay: boolean;
}

/** acc[i] += grads of params[i] (by variable name); disposes every gradient tensor. */
export function addGradients(params: readonly TrainableParam[], grads: tf.NamedTensorMap, acc: Float32Array[]): void {
  params.forEach((p, i) => {
    const g = grads[p.variable.name];
    if (!g) return;
    const data = g.dataSync() as Float32Array;
    const a = acc[i]!;
    const native = nativeKernels();
    if (native && data instanceof Float32Array && data.length === a.length) native.addInto(a, data);
    else for (let j = 0; j < a.length; j++) a[j] += data[j]!;
  });
  for (const g of Object.values(grads)) g?.dispose();
}

/** The values as a Float32Array this code may write (dataSync's result may be the backend's own buffer). */
function ownedCopy(data: tf.TypedArray): Float32Array {
  return data instanceof Float32Array ? data.slice() : Float32Array.from(data);
}

/** One AdamW step with the accumulated `grads` at learning rate `lr`; norms and biases (decay false) skip weight decay. */
export function applyAdamW(optimizer: AdamW, params: readonly TrainableParam[], grads: Float32Array[], lr: number, weightDecay: number): void {
  const updates = params.map((p, i) => ({
    name: p.name,
    value: ownedCopy(p.variable.dataSync()),
    grad: grads[i]!,
    weightDecay: p.decay ? weightDecay : 0,
  }));
  optimizer.step(updates, lr);
  params.forEach((p, i) => {
    const t = tf.tensor(updates[i]!.value, p.variable.shape, "float32");
    p.variable.assign(t);
    t.dispose();
  });
}

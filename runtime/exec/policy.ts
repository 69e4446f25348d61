// Building the model a training stage updates from the model it starts from.
// Every stage trains its own copy, so a base model evaluated after training is
// still the base model. A stage that continues its predecessor's adapter
// (`inherited`) reloads that adapter's weights; a new adapter on a trained
// stage starts from the predecessor merged into the base. QLoRA rounds the
// frozen decoder Linears through NF4 (bitsandbytes' codes, blocks of 64,
// optional double quant), so the forward sees exactly the dequantized weights.
import { LlamaModel } from "../model/llama.js";
import { LoraAdapter } from "../lora/adapter.js";
import { dequantize4bit, quantize4bit, quantizedBytes } from "../quant/nf4.js";
import type { HostWeights } from "../model/weights.js";
import type { LoraSettings } from "../lora/config.js";
import type { ModelValue } from "./types.js";

export interface AdapterParams {
  name: string;
  method: "lora" | "qlora";
  r: number;
  alpha: number;
  dropout: number;
  targets: string[] | string;
  rslora: boolean;
  quant_type: "nf4" | "fp4";
  double_quant: boolean;
  inherited: boolean;
}

/** Host weights of `m` with its adapter (if any) merged in; the source model is left as it was. */
export function mergedWeights(m: ModelValue): HostWeights {
  if (!m.adapter) return m.model.exportHfWeights();
  m.adapter.merge();
  try {
    return m.model.exportHfWeights();
  } finally {
    m.adapter.unmerge();
  }
}

export function loraSettings(a: AdapterParams, seed: number): LoraSettings {
  const targets = a.targets === "all_linear" ? "all-linear" : a.targets;
  return { r: a.r, alpha: a.alpha, dropout: a.dropout, targetModules: targets, useRslora: a.rslora, seed };
}

const DECODER_LINEAR = /\.(q|k|v|o|gate|up|down)_proj\.weight$/;

/** Round every decoder Linear through 4-bit quantization; returns the bytes the 4-bit weights take. */
export function quantizeBase(weights: HostWeights, a: AdapterParams): number {
  let bytes = 0;
  for (const [name, t] of weights) {
    if (!DECODER_LINEAR.test(name)) continue;
    const q = quantize4bit(t.data, t.shape, { quantType: a.quant_type, blocksize: 64, doubleQuant: a.double_quant });
    t.data.set(dequantize4bit(q));
    bytes += quantizedBytes(t.data.length, 64, a.double_quant);
  }
  return bytes;
}

export interface Trainable {
  model: LlamaModel;
  adapter: LoraAdapter | null;
  /** Bytes of the 4-bit base weights under QLoRA, else null. */
  quantizedBytes: number | null;
}

export function buildTrainable(start: ModelValue, adapter: AdapterParams | null, seed: number): Trainable {
  if (!adapter) {
    const model = LlamaModel.fromHfWeights(start.config, mergedWeights(start), true);
    return { model, adapter: null, quantizedBytes: null };
  }
  const continuing = adapter.inherited && start.adapter !== null;
  // Copies: a backend may hand out its own buffer from dataSync, and quantization rewrites these in place.
  const weights: HostWeights = new Map([...(continuing ? start.model.exportHfWeights() : mergedWeights(start))].map(([k, t]) => [k, { ...t, data: Float32Array.from(t.data) }]));
  const qBytes = adapter.method === "qlora" ? quantizeBase(weights, adapter) : null;
  const model = LlamaModel.fromHfWeights(start.config, weights, false);
  const lora = LoraAdapter.attach(model, loraSettings(adapter, seed));
  if (continuing) lora.loadPeft(start.adapter!.exportPeft());
  return { model, adapter: lora, quantizedBytes: qBytes };
}

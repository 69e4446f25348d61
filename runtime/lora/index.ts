// Public surface of LoRA (HF PEFT semantics) for the in-process model.
//
// Why this exists: one import for the executor and the adapter writer.

export { LoraAdapter, peftTensorName } from "./adapter.js";
export type { LoraModule } from "./adapter.js";
export { DEFAULT_LORA, LLAMA_DEFAULT_TARGETS, isTargeted, loraScale, validateLoraSettings } from "./config.js";
export type { LoraSettings } from "./config.js";

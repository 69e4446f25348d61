// Public surface of the in-process Llama model (HF LlamaForCausalLM in TensorFlow.js).
//
// Why this exists: callers (graph executor, eval, CLI) import one module instead of the file layout.

export * from "./config.js";
export { LlamaModel, disposeCache } from "./llama.js";
export type { ForwardContext, KvCache, LinearHook, TokenBatch } from "./llama.js";
export { buildAttentionMask, defaultPositions, positionsFromSegments } from "./mask.js";
export { ropeInvFreq, ropeTables } from "./rope.js";
export { checkWeights, randomHfWeights, toHfLayout, toMemoryLayout, transpose2d } from "./weights.js";
export type { HostTensor, HostWeights } from "./weights.js";
export { generate } from "./generate.js";
export type { GenerateOptions, GenerateResult } from "./generate.js";
export { argmax, sampleToken, warpedDistribution } from "./sampling.js";
export type { SamplingOptions } from "./sampling.js";
export { batchTokenLogProbs, continuationLogProb, tokenLogProbs } from "./logprobs.js";
export type { TokenLogProbs } from "./logprobs.js";

// Autoregressive generation with a KV cache.
//
// Why this exists: evaluation (`generate_until` tasks, judge prompts, demos) needs completions from the model
// being trained. The prompt is run once; each new token then attends to cached keys/values, so a step costs
// O(length) instead of O(length²). Stops on an EOS id, a stop string (needs `decode`), or max new tokens.

import * as tf from "@tensorflow/tfjs";
import { Rng } from "../data/rng.js";
import { disposeCache, type KvCache, type LlamaModel } from "./llama.js";
import { type SamplingOptions, sampleToken } from "./sampling.js";

export interface GenerateOptions extends SamplingOptions {
  maxNewTokens: number;
  /** Token ids that end generation (default: the model config's eosTokenIds). Included in `tokens`. */
  eosTokenIds?: number[];
  /** Strings that end generation; the returned text is cut before the first one. Requires `decode`. */
  stopStrings?: string[];
  /** Detokenizer for stop strings and `text`. */
  decode?: (ids: number[]) => string;
  /** Seed of the sampling stream (ignored for greedy). */
  seed?: number | string;
}

export interface GenerateResult {
  /** New tokens only (prompt excluded). */
  tokens: number[];
  /** decode(tokens), cut before a matched stop string; undefined without `decode`. */
  text?: string;
  finishReason: "eos" | "stop" | "length";
}

/** Logits of the last position of a forward, as a host array. */
function lastLogits(model: LlamaModel, hidden: tf.Tensor2D): Float32Array {
  return tf.tidy(() => {
    const last = tf.slice(hidden, [hidden.shape[0] - 1, 0], [1, hidden.shape[1]]);
    return model.lmHead(last as tf.Tensor2D);
  }).dataSync() as Float32Array;
}

/** Run `ids` after `past`; returns last-position logits and the extended cache (old cache freed). */
function advance(model: LlamaModel, ids: number[], past: KvCache | undefined): { logits: Float32Array; cache: KvCache } {
  const { hidden, cache } = model.run({ ids: Int32Array.from(ids), batch: 1, seqLen: ids.length }, {}, past, true);
  const logits = lastLogits(model, hidden);
  hidden.dispose();
  disposeCache(past);
  return { logits, cache: cache! };
}

function findStop(text: string, stops: string[]): number {
  let at = -1;
  for (const s of stops) {
    const i = s.length > 0 ? text.indexOf(s) : -1;
    if (i >= 0 && (at < 0 || i < at)) at = i;
  }
  return at;
}

/** Generate a continuation of `prompt` (token ids) for one sequence. */
export function generate(model: LlamaModel, prompt: number[], o: GenerateOptions): GenerateResult {
  if (prompt.length === 0) throw new Error("generate: empty prompt (prepend BOS)");
  const stops = o.stopStrings ?? [];
  if (stops.length > 0 && !o.decode) throw new Error("generate: stopStrings need a decode function");
  const eos = new Set(o.eosTokenIds ?? model.config.eosTokenIds);
  const rng = new Rng(o.seed ?? 0);
  const tokens: number[] = [];
  let finishReason: GenerateResult["finishReason"] = "length";
  let text: string | undefined;
  let step = advance(model, prompt, undefined);
  try {
    while (tokens.length < o.maxNewTokens) {
      const next = sampleToken(step.logits, o, rng);
      tokens.push(next);
      if (eos.has(next)) {
        finishReason = "eos";
        break;
      }
      if (stops.length > 0) {
        const decoded = o.decode!(tokens);
        const at = findStop(decoded, stops);
        if (at >= 0) {
          text = decoded.slice(0, at);
          finishReason = "stop";
          break;
        }
      }
      if (tokens.length >= o.maxNewTokens) break;
      step = advance(model, [next], step.cache);
    }
  } finally {
    disposeCache(step.cache);
  }
  if (text === undefined && o.decode) text = o.decode(tokens);
  return { tokens, text, finishReason };
}

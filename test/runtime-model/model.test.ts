// Model behaviour beyond reference parity: KV-cache generation, packed sequences, sampling, log-probs.
//
// Why this exists: generation and packing take code paths the PyTorch fixture does not cover (cache,
// segment masks, restarting positions); each is checked against the plain full forward it must equal.

import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { initBackend } from "../../runtime/backend/index.js";
import { Rng } from "../../runtime/data/rng.js";
import { type LlamaConfig, llamaParamCount } from "../../runtime/model/config.js";
import { generate } from "../../runtime/model/generate.js";
import { LlamaModel } from "../../runtime/model/llama.js";
import { batchTokenLogProbs, continuationLogProb } from "../../runtime/model/logprobs.js";
import { buildAttentionMask, positionsFromSegments } from "../../runtime/model/mask.js";
import { IGNORE_INDEX, sequenceLogProbSums } from "../../runtime/train/loss.js";
import { argmax, sampleToken, warpedDistribution } from "../../runtime/model/sampling.js";
import { type Expected, loadExpected, loadWeights, maxAbsDiff, toConfig } from "./fixture.js";

let exp: Expected;
let config: LlamaConfig;
let model: LlamaModel;

beforeAll(async () => {
  await initBackend("wasm");
  exp = loadExpected();
  config = toConfig(exp.config["llama3"]);
  model = LlamaModel.fromHfWeights(config, await loadWeights());
});

function logitsOf(ids: number[]): Float32Array {
  const t = model.logits({ ids: Int32Array.from(ids), batch: 1, seqLen: ids.length });
  const d = t.dataSync() as Float32Array;
  t.dispose();
  return d;
}

/** Greedy continuation computed the slow way: a full forward per new token. */
function greedyNoCache(prompt: number[], n: number): number[] {
  const ids = [...prompt];
  const V = config.vocabSize;
  for (let i = 0; i < n; i++) {
    const lg = logitsOf(ids);
    ids.push(argmax(lg.subarray((ids.length - 1) * V, ids.length * V)));
  }
  return ids.slice(prompt.length);
}

describe("KV-cache generation", () => {
  it("greedy tokens with the cache equal the argmax of full forwards", () => {
    const prompt = exp.input_ids[0].slice(0, 5);
    const withCache = generate(model, prompt, { maxNewTokens: 10, eosTokenIds: [] });
    expect(withCache.tokens).toEqual(greedyNoCache(prompt, 10));
    expect(withCache.finishReason).toBe("length");
  });

  it("cached last-position logits equal the full forward's", () => {
    const ids = exp.input_ids[1];
    const first = model.run({ ids: Int32Array.from(ids.slice(0, 6)), batch: 1, seqLen: 6 }, {}, undefined, true);
    const second = model.run({ ids: Int32Array.from(ids.slice(6)), batch: 1, seqLen: ids.length - 6 }, {}, first.cache);
    const cached = model.lmHead(second.hidden).dataSync();
    const full = logitsOf(ids).subarray(6 * config.vocabSize);
    expect(maxAbsDiff(cached, full)).toBeLessThan(1e-4);
    tf.dispose([first.hidden, second.hidden]);
    for (const c of [first.cache!, second.cache!]) for (const kv of c.layers) tf.dispose([kv.k, kv.v]);
  });

  it("stops on EOS ids and on stop strings (text cut before the stop string)", () => {
    const prompt = exp.input_ids[0].slice(0, 4);
    const free = generate(model, prompt, { maxNewTokens: 6, eosTokenIds: [] }).tokens;
    const eos = generate(model, prompt, { maxNewTokens: 6, eosTokenIds: [free[2]] });
    expect(eos.finishReason).toBe("eos");
    expect(eos.tokens).toEqual(free.slice(0, free.indexOf(free[2]) + 1));
    const decode = (ids: number[]) => ids.map((i) => `<${i}>`).join("");
    const stop = generate(model, prompt, { maxNewTokens: 6, eosTokenIds: [], decode, stopStrings: [`<${free[1]}>`] });
    expect(stop.finishReason).toBe("stop");
    expect(stop.text).toBe(decode(free.slice(0, free.indexOf(free[1]))));
  });

  it("sampling is reproducible from the seed and differs across seeds", () => {
    const prompt = exp.input_ids[0].slice(0, 3);
    const opts = { maxNewTokens: 8, eosTokenIds: [], temperature: 1.5, topP: 0.95 };
    const a = generate(model, prompt, { ...opts, seed: 1 }).tokens;
    expect(generate(model, prompt, { ...opts, seed: 1 }).tokens).toEqual(a);
    const others = [2, 3, 4].map((seed) => generate(model, prompt, { ...opts, seed }).tokens.join(","));
    expect(others.some((o) => o !== a.join(","))).toBe(true);
  });
});

describe("sampling warpers (HF order: temperature, top-k, top-p)", () => {
  const logits = Float32Array.from([Math.log(0.5), Math.log(0.3), Math.log(0.15), Math.log(0.05)]);
  it("top-p keeps the smallest most-likely set reaching p", () => {
    expect(warpedDistribution(logits, { temperature: 1, topP: 0.8 }).map((d) => d.token)).toEqual([0, 1]);
    expect(warpedDistribution(logits, { temperature: 1, topP: 0.81 }).map((d) => d.token)).toEqual([0, 1, 2]);
    expect(warpedDistribution(logits, { temperature: 1, topP: 0.01 }).map((d) => d.token)).toEqual([0]);
  });
  it("top-k and temperature", () => {
    const d = warpedDistribution(logits, { temperature: 1, topK: 2 });
    expect(d.map((x) => x.token)).toEqual([0, 1]);
    expect(d[0].p).toBeCloseTo(0.625, 6);
    expect(sampleToken(logits, { temperature: 0 }, new Rng(0))).toBe(0);
  });
  it("sampled frequencies follow the distribution", () => {
    const rng = new Rng(5);
    const counts = [0, 0, 0, 0];
    for (let i = 0; i < 4000; i++) counts[sampleToken(logits, { temperature: 1 }, rng)]++;
    expect(counts[0] / 4000).toBeCloseTo(0.5, 1);
    expect(counts[3] / 4000).toBeCloseTo(0.05, 1);
  });
});

describe("packed sequences (segment ids)", () => {
  it("a packed row gives the same logits as its sequences run separately", () => {
    const a = exp.input_ids[0].slice(0, 5);
    const b = exp.input_ids[1].slice(0, 3);
    const segmentIds = Int32Array.from([0, 0, 0, 0, 0, 1, 1, 1]);
    const packed = model.logits({ ids: Int32Array.from([...a, ...b]), batch: 1, seqLen: 8, segmentIds });
    const p = packed.dataSync();
    const V = config.vocabSize;
    expect(maxAbsDiff(p.subarray(0, 5 * V), logitsOf(a))).toBeLessThan(1e-4);
    expect(maxAbsDiff(p.subarray(5 * V), logitsOf(b))).toBeLessThan(1e-4);
    packed.dispose();
  });

  it("positions restart per segment and the mask blocks other segments and the future", () => {
    expect([...positionsFromSegments(Int32Array.from([0, 0, 1, 1, 1, 2]), 1, 6)]).toEqual([0, 1, 0, 1, 2, 0]);
    const m = buildAttentionMask(1, 3, 0, Int32Array.from([0, 1, 1]))!;
    const allowed = [...m.data].map((x) => (x === 0 ? 1 : 0));
    expect(allowed).toEqual([1, 0, 0, 0, 1, 0, 0, 1, 1]);
  });
});

describe("log-probabilities", () => {
  it("per-token log-probs equal log-softmax of the full logits; padding does not leak", () => {
    const rows = [exp.input_ids[0], exp.input_ids[1].slice(0, 4)];
    const [r0, r1] = batchTokenLogProbs(model, rows);
    const V = config.vocabSize;
    const lg = logitsOf(rows[1]);
    for (let t = 0; t + 1 < rows[1].length; t++) {
      const row = lg.subarray(t * V, (t + 1) * V);
      const max = Math.max(...row);
      const lse = max + Math.log(row.reduce((s, x) => s + Math.exp(x - max), 0));
      expect(r1.logprobs[t]).toBeCloseTo(row[rows[1][t + 1]] - lse, 4);
      expect(r1.greedy[t]).toBe(argmax(row) === rows[1][t + 1]);
    }
    expect(r0.logprobs.length).toBe(7);
  });

  it("differentiable per-row sums over label tokens equal the host log-probs, and have gradients", () => {
    const ids = exp.input_ids.flat();
    const labels = Int32Array.from(ids);
    labels.fill(IGNORE_INDEX, 0, 4); // row 0: completion = tokens 4..7
    const host = batchTokenLogProbs(model, exp.input_ids);
    const sums = sequenceLogProbSums(model, { ids: Int32Array.from(ids), labels, batch: 2, seqLen: 8 });
    const [s0, s1] = sums.dataSync();
    expect(s0).toBeCloseTo(host[0].logprobs.slice(3).reduce((a, b) => a + b, 0), 3);
    expect(s1).toBeCloseTo(host[1].logprobs.reduce((a, b) => a + b, 0), 3);
    sums.dispose();
    const emb = model.w("model.embed_tokens.weight");
    emb.trainable = true;
    const { grads } = tf.variableGrads(
      () => tf.sum(sequenceLogProbSums(model, { ids: Int32Array.from(ids), labels, batch: 2, seqLen: 8 })) as tf.Scalar, [emb],
    );
    emb.trainable = false;
    expect(Math.max(...grads[emb.name]!.dataSync().map(Math.abs))).toBeGreaterThan(0);
    tf.dispose(Object.values(grads));
  });

  it("continuation log-prob sums the continuation tokens only", () => {
    const ids = exp.input_ids[0];
    const all = batchTokenLogProbs(model, [ids])[0];
    const c = continuationLogProb(model, ids.slice(0, 5), ids.slice(5));
    expect(c.sum).toBeCloseTo(all.logprobs[4] + all.logprobs[5] + all.logprobs[6], 4);
  });
});

describe("config helpers", () => {
  it("counts parameters of the fixture config (tied embeddings once)", () => {
    // 96·32 embed + 2 layers × (32·32 + 2·16·32 + 32·32 + 3·64·32 + 2·32) + 32 final norm
    expect(llamaParamCount(config)).toBe(96 * 32 + 2 * (1024 + 1024 + 1024 + 6144 + 64) + 32);
  });
});

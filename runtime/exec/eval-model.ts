// The in-process model as lm-evaluation-harness sees a model: log-likelihood
// of continuations (tokenized the harness's way: encode(context + cont) and
// split at len(encode(context))) and greedy generation with stop strings.
// When the model was trained with a template, the context is wrapped in that
// template's prompt part first (the recipe's template travels with the model).
// Log-likelihood requests are scored in batches (sorted by length, same-input
// requests sharing a row: runtime/model/logprobs.ts).
//
// `id` keys the request cache (runtime/eval/cache.ts), so it names everything
// that decides an answer: the weights actually used (eval-identity.ts, never
// the stage name: two models must never share answers), the template, the
// generation settings and the backend.
import * as tf from "@tensorflow/tfjs";
import { compileTemplate, renderRow } from "../data/template.js";
import { batchContinuationLogProbs, type ContinuationRequest } from "../model/logprobs.js";
import { generate } from "../model/generate.js";
import { sha256Hex, stableJson } from "../store/fsx.js";
import type { EvalModel, GenerateRequest, LoglikelihoodRequest, LoglikelihoodResult } from "../eval/types.js";
import { memoryIdentity } from "./eval-identity.js";
import type { ModelValue } from "./types.js";

export interface EvalTemplate {
  name: string;
  prompt: string;
}

/** Bump when tokenization or scoring here changes what a request returns: cached answers then miss. */
export const EVAL_MODEL_VERSION = 1;

export interface EvalModelOptions {
  /** Identity of the weights (evalModelIdentity in eval-identity.ts); default: hashed from the tensors in memory. */
  weightsIdentity?: string;
  /** Rows per forward when scoring log-likelihoods (default 8: BENCHMARKS.md, eval log-likelihood). */
  batchSize?: number;
}

export class InProcessEvalModel implements EvalModel {
  private readonly wrap: ((context: string) => string) | null;
  private cachedId: string | null = null;

  constructor(
    private readonly m: ModelValue,
    private readonly template: EvalTemplate | null,
    /** Smoke runs cap generation length (tasks such as IFEval ask for 1,280 new tokens). */
    private readonly maxNewTokensCap: number | null = null,
    private readonly opts: EvalModelOptions = {},
  ) {
    if (template) {
      const ct = compileTemplate({ name: template.name, kind: "fields", prompt: template.prompt, completion: "", appendEos: false });
      this.wrap = (context) => renderRow(ct, { values: { instruction: context, input: "", prompt: context }, origin: { file: "eval", format: "memory", row: 0 } }).prompt;
    } else this.wrap = null;
  }

  /** Computed on first use: hashing the weights in memory costs a pass over them. */
  get id(): string {
    this.cachedId ??= sha256Hex(
      stableJson({
        version: EVAL_MODEL_VERSION,
        weights: this.opts.weightsIdentity ?? memoryIdentity(this.m),
        template: this.template ? { name: this.template.name, prompt: this.template.prompt } : null,
        generation: { temperature: 0, maxNewTokensCap: this.maxNewTokensCap },
        backend: tf.getBackend(),
      }),
    );
    return this.cachedId;
  }

  /** The model's context window (config max_position_embeddings), as the harness's max_length. */
  private get maxLength(): number {
    return this.m.config.maxPositionEmbeddings;
  }

  private prefix(): number[] {
    const bos = this.m.tokenizer.bosId ?? this.m.tokenizer.eosId;
    return bos === null ? [] : [bos];
  }

  private contextIds(context: string): number[] {
    const text = this.wrap ? this.wrap(context) : context;
    const bos = this.m.tokenizer.bosId;
    const ids = this.m.tokenizer.encode(text);
    return bos !== null && ids[0] === bos ? ids : [...this.prefix(), ...ids];
  }

  /**
   * A request as the harness tokenizes it: encode(context + continuation) split at len(encode(context)), BOS
   * (else EOS) before the context, and only the last max_length + 1 tokens kept (HFLM._loglikelihood_tokens).
   */
  tokenizeRequest(r: LoglikelihoodRequest): ContinuationRequest {
    const ctxText = this.wrap ? this.wrap(r.context) : r.context;
    const whole = this.m.tokenizer.encode(ctxText + r.continuation);
    const ctx = ctxText === "" ? [] : this.m.tokenizer.encode(ctxText);
    const cont = whole.slice(ctx.length);
    const bos = this.m.tokenizer.bosId;
    const context = ctx[0] === bos && bos !== null ? ctx : [...this.prefix(), ...ctx];
    const keep = Math.max(1, this.maxLength + 1 - cont.length);
    return { context: context.slice(-keep), continuation: cont };
  }

  async loglikelihood(reqs: LoglikelihoodRequest[]): Promise<LoglikelihoodResult[]> {
    const out: LoglikelihoodResult[] = [];
    // Chunks, with a turn of the event loop between them, so Ctrl-C is heard during a long evaluation.
    for (let i = 0; i < reqs.length; i += LOGLIKELIHOOD_CHUNK) {
      if (i > 0) await new Promise((r) => setImmediate(r));
      const chunk = reqs.slice(i, i + LOGLIKELIHOOD_CHUNK).map((r) => this.tokenizeRequest(r));
      for (const s of batchContinuationLogProbs(this.m.model, chunk, { batchSize: this.opts.batchSize ?? 8 })) out.push({ logprob: s.sum, isGreedy: s.isGreedy });
    }
    return out;
  }

  async generate(reqs: GenerateRequest[]): Promise<string[]> {
    const eos = this.m.tokenizer.eosId;
    const out: string[] = [];
    for (const r of reqs) {
      await new Promise((res) => setImmediate(res)); // let a signal handler run between requests
      out.push(this.generateOne(r, eos));
    }
    return out;
  }

  private generateOne(r: GenerateRequest, eos: number | null): string {
    // Left-truncate the context so context + new tokens fit the window (harness: max_length − max_gen_toks).
    const maxNew = this.maxNewTokensCap === null ? r.maxNewTokens : Math.min(r.maxNewTokens, this.maxNewTokensCap);
    const ids = this.contextIds(r.context).slice(-Math.max(1, this.maxLength - maxNew));
    const out = generate(this.m.model, ids, {
      maxNewTokens: maxNew,
      stopStrings: r.until,
      decode: (ids) => this.m.tokenizer.decode(ids),
      eosTokenIds: eos === null ? undefined : [eos, ...this.m.config.eosTokenIds],
      temperature: 0,
    });
    return out.text ?? "";
  }
}

/** Requests scored per batched call (a Ctrl-C is heard between calls). */
const LOGLIKELIHOOD_CHUNK = 256;

// The in-process model as lm-evaluation-harness sees a model: log-likelihood
// of continuations (tokenized the harness's way: encode(context + cont) and
// split at len(encode(context))) and greedy generation with stop strings.
// When the model was trained with a template, the context is wrapped in that
// template's prompt part first (the recipe's template travels with the model).
import { compileTemplate, renderRow } from "../data/template.js";
import { continuationLogProb } from "../model/logprobs.js";
import { generate } from "../model/generate.js";
import type { EvalModel, GenerateRequest, LoglikelihoodRequest, LoglikelihoodResult } from "../eval/types.js";
import type { ModelValue } from "./types.js";

export interface EvalTemplate {
  name: string;
  prompt: string;
}

export class InProcessEvalModel implements EvalModel {
  readonly id: string;
  private readonly wrap: ((context: string) => string) | null;

  constructor(
    private readonly m: ModelValue,
    template: EvalTemplate | null,
    /** Smoke runs cap generation length (tasks such as IFEval ask for 1,280 new tokens). */
    private readonly maxNewTokensCap: number | null = null,
  ) {
    this.id = m.name;
    if (template) {
      const ct = compileTemplate({ name: template.name, kind: "fields", prompt: template.prompt, completion: "", appendEos: false });
      this.wrap = (context) => renderRow(ct, { values: { instruction: context, input: "", prompt: context }, origin: { file: "eval", format: "memory", row: 0 } }).prompt;
    } else this.wrap = null;
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

  async loglikelihood(reqs: LoglikelihoodRequest[]): Promise<LoglikelihoodResult[]> {
    return reqs.map((r) => {
      const ctxText = this.wrap ? this.wrap(r.context) : r.context;
      const whole = this.m.tokenizer.encode(ctxText + r.continuation);
      const ctx = ctxText === "" ? [] : this.m.tokenizer.encode(ctxText);
      const cont = whole.slice(ctx.length);
      const bos = this.m.tokenizer.bosId;
      const context = ctx[0] === bos && bos !== null ? ctx : [...this.prefix(), ...ctx];
      if (cont.length === 0) return { logprob: 0, isGreedy: true };
      // The harness keeps the last max_length + 1 tokens of context + continuation (HFLM._loglikelihood_tokens).
      const keep = Math.max(1, this.maxLength + 1 - cont.length);
      const r2 = continuationLogProb(this.m.model, context.slice(-keep), cont);
      return { logprob: r2.sum, isGreedy: r2.isGreedy };
    });
  }

  async generate(reqs: GenerateRequest[]): Promise<string[]> {
    const eos = this.m.tokenizer.eosId;
    return reqs.map((r) => {
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
    });
  }
}

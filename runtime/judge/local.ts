// A judge that is a model run in-process by tune's runtime.
//
// Why this exists: LLMs-from-scratch ch07 and LitGPT judge with a local Llama 3 Instruct, and offline users have
// no endpoint. The executor owns the loaded model and its chat template and hands us a `LocalGenerator`; this
// wrapper gives it the Judge contract: one generation at a time (the in-process model is not re-entrant), counted,
// and failures turned into T5612 with the model named.

import { JudgeError, errorText } from "./errors.js";
import { Semaphore } from "./limit.js";
import type { ChatMessage, Judge, JudgeCounters, LocalGenerator, SamplingOptions } from "./types.js";

export class LocalJudge implements Judge {
  readonly id: string;
  readonly concurrency = 1;
  readonly counters: JudgeCounters = { requests: 0, retries: 0 };
  private readonly slot = new Semaphore(1);

  constructor(
    readonly name: string,
    private readonly generator: LocalGenerator,
    readonly sampling: SamplingOptions,
  ) {
    if (!generator.id) {
      throw new JudgeError({
        code: "T5609",
        message: `judge ${name}: the local generator has an empty id`,
        hint: "give the generator an id that identifies the weights (e.g. their content hash), so cached replies are never reused for another model",
      });
    }
    this.id = `local:${generator.id}`;
  }

  async complete(messages: readonly ChatMessage[], opts: Partial<SamplingOptions> = {}): Promise<string> {
    const s = { ...this.sampling, ...opts };
    return this.slot.run(async () => {
      this.counters.requests++;
      try {
        return await this.generator.generate(messages.map((m) => ({ role: m.role, content: m.content })), s);
      } catch (e) {
        if (e instanceof JudgeError) throw e;
        throw new JudgeError({
          code: "T5612",
          message: `local judge model ${this.generator.id} (judge ${this.name}) failed: ${errorText(e)}`,
          hint: "the judge model failed while generating; check that it loaded and that the prompt fits its context length",
        });
      }
    });
  }
}

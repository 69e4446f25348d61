// Requests for one task: a context per eval doc, turned into loglikelihood or generation requests
// (ConfigurableTask.construct_requests), plus the model-side `_encode_pair` whitespace rule.
//
// multiple_choice: one (context, target_delimiter + choice) pair per choice; for multiple-input tasks the
// choice goes into the context and the continuation is target_delimiter + target. generate_until: the
// context with the task's `until` and `max_gen_toks`. Before a pair reaches the model, trailing whitespace
// of the context moves to the front of the continuation, as HFLM does.

import { docToChoice, docToTarget, pyStr } from "./docref.js";
import { fewshotContext, fewshotRng } from "./prompt.js";
import { movePairWhitespace } from "./pystr.js";
import { generationKwargs, type LoadedTask } from "./task.js";
import type { Doc, GenerateRequest, LoglikelihoodRequest } from "./types.js";

export interface DocRequests {
  docId: number;
  doc: Doc;
  context: string;
  kind: "loglikelihood" | "generate";
  loglikelihood: LoglikelihoodRequest[];
  generate: GenerateRequest | null;
}

export interface BuildOptions {
  numFewshot: number;
  fewshotSeed?: number;
  systemInstruction?: string;
}

function pairs(task: LoadedTask, doc: Doc, ctx: string): LoglikelihoodRequest[] {
  const cfg = task.config;
  const delim = task.targetDelimiter;
  if (task.outputType === "loglikelihood") {
    return [{ context: ctx, continuation: pyStr(docToTarget(cfg.doc_to_target, doc, false)) }];
  }
  const choices = docToChoice(cfg.doc_to_choice, doc);
  if (task.multipleInput) {
    const cont = pyStr(docToTarget(cfg.doc_to_target, doc, true));
    return choices.map((choice) => ({ context: ctx + choice, continuation: `${delim}${cont}` }));
  }
  return choices.map((choice) => ({ context: ctx, continuation: `${delim}${choice}` }));
}

/** Build every doc's requests in eval-doc order, advancing one sampler generator across docs. */
export function buildRequests(task: LoadedTask, opts: BuildOptions): DocRequests[] {
  const rng = fewshotRng(opts.fewshotSeed ?? 1234);
  const gen = generationKwargs(task.config);
  return task.evalDocs.map((doc, docId) => {
    const context = fewshotContext(task, doc, opts.numFewshot, rng, { systemInstruction: opts.systemInstruction });
    if (task.outputType === "generate_until") {
      return {
        docId,
        doc,
        context,
        kind: "generate" as const,
        loglikelihood: [],
        generate: { context, until: [...gen.until], maxNewTokens: gen.max_gen_toks },
      };
    }
    const ll = pairs(task, doc, context).map((p) => movePairWhitespace(p.context, p.continuation));
    return { docId, doc, context, kind: "loglikelihood" as const, loglikelihood: ll, generate: null };
  });
}

/** HFLM post-processing of a generation: cut at the first occurrence of each non-empty stop string. */
export function cutAtStops(text: string, until: readonly string[]): string {
  let s = text;
  for (const term of until) if (term.length > 0) s = s.split(term)[0];
  return s;
}

// Rendered prompt/completion → input_ids + labels, with prompt tokens masked.
//
// Why this exists: the loss must be computed on completion tokens only (stanford_alpaca: labels = ids with
// the first len(tok(source)) positions set to −100), an EOS must end the target so the model learns to stop,
// and over-long examples are cut at a cutoff — and how many were cut has to be reported, not discovered later.
//
// Two ways to find the prompt length (algorithms.md §4):
//   • "joint" (default, = stanford_alpaca `preprocess`): ids = tok(prompt + completion); prompt length =
//     len(tok(prompt)). Exact for the reference even when a token spans the prompt/completion boundary.
//   • "separate": ids = tok(prompt) ++ tok(completion); the boundary is always on a token edge.
// BOS (when `bosId` is given) is prepended and counted as prompt; EOS is appended after the completion when the
// template asks for it (alpaca; Llama 3 / ChatML end their completion with an end-of-turn token instead).
// Truncation keeps the first `cutoff` tokens (right truncation, like HF `truncation=True`), so the EOS may be cut.

import { DataError } from "./errors.js";
import type { Rendered } from "./template.js";

export const IGNORE_INDEX = -100;

export interface TokenizerLike {
  /** Token ids of `text`, without adding BOS/EOS (special-token text such as <|eot_id|> must map to its id). */
  encode(text: string): number[];
}

export interface TokenizeOptions {
  /** Maximum sequence length (stanford_alpaca: 512). */
  cutoff: number;
  bosId?: number;
  eosId?: number;
  /** Mask prompt tokens with −100 (default true; false = loss on every token, LitGPT `mask_prompt=False`). */
  maskPrompt?: boolean;
  mode?: "joint" | "separate";
}

export interface TokenizedExample {
  inputIds: number[];
  labels: number[];
  /** Masked positions at the start (BOS + prompt), before truncation. */
  promptLength: number;
  /** Length before truncation. */
  fullLength: number;
  truncated: boolean;
}

export interface TokenizeStats {
  examples: number;
  truncated: number;
  /** Examples with no label token left (prompt ≥ cutoff): they contribute nothing to the loss. */
  noTarget: number;
  /** Longest example before truncation. */
  maxLength: number;
}

export function tokenizeExample(r: Rendered, tok: TokenizerLike, opts: TokenizeOptions): TokenizedExample {
  checkOptions(r, opts);
  const bos = opts.bosId !== undefined ? [opts.bosId] : [];
  const eos = r.appendEos ? [opts.eosId as number] : [];
  const promptIds = tok.encode(r.prompt);
  const body = (opts.mode ?? "joint") === "joint" ? tok.encode(r.prompt + r.completion) : [...promptIds, ...tok.encode(r.completion)];
  const full = [...bos, ...body, ...eos];
  const promptLength = Math.min(bos.length + promptIds.length, full.length);
  const mask = opts.maskPrompt ?? true;
  const labels = full.map((id, i) => (mask && i < promptLength ? IGNORE_INDEX : id));
  const truncated = full.length > opts.cutoff;
  return {
    inputIds: truncated ? full.slice(0, opts.cutoff) : full,
    labels: truncated ? labels.slice(0, opts.cutoff) : labels,
    promptLength,
    fullLength: full.length,
    truncated,
  };
}

function checkOptions(r: Rendered, opts: TokenizeOptions): void {
  if (!Number.isInteger(opts.cutoff) || opts.cutoff < 1) {
    throw new DataError({ code: "T5520", message: `cutoff ${opts.cutoff} is not a positive integer`, hint: "e.g. cutoff = 512" });
  }
  if (r.appendEos && opts.eosId === undefined) {
    throw new DataError({
      code: "T5533",
      message: "the template appends EOS after the completion, but no eos id was given",
      hint: "pass the tokenizer's eos_token_id (e.g. 2 for Llama 2, 128001 for Llama 3 base)",
    });
  }
}

/** Tokenize many rendered examples, counting truncations. */
export function tokenizeAll(
  rendered: Iterable<Rendered>,
  tok: TokenizerLike,
  opts: TokenizeOptions,
): { examples: TokenizedExample[]; stats: TokenizeStats } {
  const stats: TokenizeStats = { examples: 0, truncated: 0, noTarget: 0, maxLength: 0 };
  const examples: TokenizedExample[] = [];
  for (const r of rendered) {
    const ex = tokenizeExample(r, tok, opts);
    addStats(stats, ex);
    examples.push(ex);
  }
  return { examples, stats };
}

export function addStats(stats: TokenizeStats, ex: TokenizedExample): void {
  stats.examples++;
  if (ex.truncated) stats.truncated++;
  if (ex.labels.every((l) => l === IGNORE_INDEX)) stats.noTarget++;
  stats.maxLength = Math.max(stats.maxLength, ex.fullLength);
}

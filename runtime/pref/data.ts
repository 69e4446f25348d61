// Preference rows (prompt / chosen / rejected) → token ids, with TRL's BOS/EOS and truncation rules.
//
// Why this exists: DPO trains on pairs; the recipe's template is applied to the prompt only, the two responses
// are completions followed by EOS, and over-long pairs are cut the way the reference trainer cuts them, or
// losses and rewards would differ from theirs. Semantics follow classic TRL `DPOTrainer.tokenize_row`
// (v0.8–v0.11, which the SamPO fork is; algorithms.md §6):
//   prompt = [BOS] + tok(prompt) (BOS skipped when the text already starts with it); response = tok(resp) + [EOS]
//   (EOS skipped when already last); L = max(len chosen, len rejected);
//   if len(prompt) + L > max_length: prompt ← first (keep_start) or last (keep_end) max_prompt_length tokens;
//   if still len(prompt) + L > max_length: each response ← its first max_length − max_prompt_length tokens.
// Responses are tokenized on their own ("separate", as current TRL); "joint" is classic `build_tokenized_answer`
// (tok(prompt + response), split at len(tok(prompt)), one token earlier when the boundary token merged).
//
// Responses may be plain strings or chat transcripts (messages ending in the assistant turn; the turns before it
// must agree between chosen and rejected and become the prompt's `messages`). The template context is the row's
// fields + `messages` (prompt turns: the transcript prefix, a messages-valued `prompt`, or [{user: prompt}]) +
// `system`; an optional completion body renders the response as `{{response}}` (e.g. "{{trim response}}<|eot_id|>").
// Pairs whose chosen and rejected responses are identical are reported (count and rows), never dropped silently.

import { compileTemplate, type CompiledTemplate } from "../data/template.js";
import { DataError, errorText } from "../data/errors.js";
import { formatOrigin, type Row } from "../data/row.js";
import type { TokenizerLike } from "../data/tokenize.js";

/** The tokenize node's template (graph params: name, prompt, eos, optional completion). */
export interface PrefTemplate {
  name: string;
  prompt: string;
  /** Renders the response from `{{response}}`; default: the response text as is. */
  completion?: string;
  /** Append EOS after each response. */
  eos: boolean;
}

export interface PrefTokenizeOptions {
  maxLength: number;
  maxPromptLength: number;
  truncation: "keep_start" | "keep_end";
  bosId?: number | null;
  eosId?: number | null;
  mode?: "separate" | "joint";
  /** Identical chosen/rejected pairs: keep (default, as TRL) or drop — reported either way. */
  identical?: "keep" | "drop";
  /** Field names (defaults prompt, chosen, rejected). */
  fields?: { prompt?: string; chosen?: string; rejected?: string };
  system?: string;
}

export interface PrefExample {
  /** Index of the source row (0-based, in input order). */
  index: number;
  promptIds: number[];
  chosenIds: number[];
  rejectedIds: number[];
  truncatedPrompt: boolean;
  truncatedResponse: boolean;
}

export interface PrefDataReport {
  rows: number;
  pairs: number;
  truncatedPrompt: number;
  truncatedResponse: number;
  /** Rows whose chosen and rejected responses are identical text. */
  identical: { count: number; rows: number[]; where: string[]; dropped: boolean };
  /** Pairs whose two response token sequences became equal after truncation (texts differed). */
  identicalAfterTruncation: { count: number; rows: number[] };
  /** Pairs with an empty response on either side after truncation (no completion token to score). */
  emptyResponse: number;
  longestPrompt: number;
  longestResponse: number;
}

interface Turn {
  role: string;
  content: string;
}

function isTurns(v: unknown): v is Turn[] {
  return Array.isArray(v) && v.every((t) => t !== null && typeof t === "object" && typeof (t as Turn).role === "string" && typeof (t as Turn).content === "string");
}

/** A response value → its text and the transcript turns before it. */
function responseOf(row: Row, field: string): { text: string; prefix: Turn[] } {
  const v = row.values[field];
  if (typeof v === "string") return { text: v, prefix: [] };
  if (isTurns(v) && v.length > 0 && v[v.length - 1].role === "assistant") return { text: v[v.length - 1].content, prefix: v.slice(0, -1) };
  throw new DataError({
    code: isTurns(v) ? "T5512" : v === undefined ? "T5510" : "T5511",
    message: `preference field "${field}" must be a string or chat messages ending with an assistant turn`,
    origin: row.origin,
    field,
    hint: `the row has: ${Object.keys(row.values).join(", ") || "no fields"}; map columns with \`from\` in the dataset's fields`,
  });
}

function samePrefix(a: Turn[], b: Turn[]): boolean {
  return a.length === b.length && a.every((t, i) => t.role === b[i].role && t.content === b[i].content);
}

/** Render prompt, chosen and rejected texts of one row. */
export function renderPair(ct: CompiledTemplate, row: Row, opts: Pick<PrefTokenizeOptions, "fields" | "system">): { prompt: string; chosen: string; rejected: string } {
  const f = { prompt: "prompt", chosen: "chosen", rejected: "rejected", ...opts.fields };
  const c = responseOf(row, f.chosen);
  const r = responseOf(row, f.rejected);
  if (!samePrefix(c.prefix, r.prefix)) {
    throw new DataError({
      code: "T5512",
      message: `the turns before the final assistant turn differ between "${f.chosen}" and "${f.rejected}"`,
      origin: row.origin,
      hint: "a preference pair shares its prompt; only the last assistant turn may differ",
    });
  }
  const p = row.values[f.prompt];
  const messages: Turn[] = c.prefix.length > 0 ? c.prefix : isTurns(p) ? p : typeof p === "string" ? [{ role: "user", content: p }] : [];
  const sysValue = row.values["system"];
  const system = opts.system ?? (typeof sysValue === "string" ? sysValue : null);
  const ctx = { ...row.values, messages, system };
  try {
    return { prompt: ct.prompt(ctx), chosen: ct.completion({ ...ctx, response: c.text }), rejected: ct.completion({ ...ctx, response: r.text }) };
  } catch (e) {
    const m = /^"([^"]+)" not defined/.exec(errorText(e));
    throw new DataError({
      code: m ? "T5530" : "T5531",
      message: m ? `template ${ct.template.name} uses field "${m[1]}", which this row does not have` : `template ${ct.template.name} cannot render this row: ${errorText(e)}`,
      origin: row.origin,
      field: m?.[1],
      hint: `the row has: ${Object.keys(row.values).join(", ") || "no fields"}`,
    });
  }
}

/** classic TRL build_tokenized_answer: split tok(prompt + answer) at len(tok(prompt)), minus one on a merge. */
function splitJoint(tok: TokenizerLike, prompt: string, answer: string): { prompt: number[]; answer: number[] } {
  const full = tok.encode(prompt + answer);
  const p = tok.encode(prompt);
  let start = p.length;
  if (p.some((id, i) => full[i] !== id)) start -= 1;
  return { prompt: full.slice(0, start), answer: full.slice(start) };
}

function checkOptions(t: PrefTemplate, o: PrefTokenizeOptions): void {
  const bad = (message: string, hint: string): never => {
    throw new DataError({ code: "T5520", message, hint });
  };
  if (!Number.isInteger(o.maxLength) || o.maxLength < 1) bad(`max_length ${o.maxLength} is not a positive integer`, "e.g. max_length = 1024 tokens");
  if (!Number.isInteger(o.maxPromptLength) || o.maxPromptLength < 1 || o.maxPromptLength >= o.maxLength) {
    bad(`max_prompt_length ${o.maxPromptLength} must be a positive integer below max_length ${o.maxLength}`, "TRL's default is half of max_length; SamPO used 3/4");
  }
  if (o.truncation !== "keep_start" && o.truncation !== "keep_end") bad(`truncation "${String(o.truncation)}" is not keep_start or keep_end`, "truncation = keep_end keeps the end of long prompts");
  if (t.eos && (o.eosId === undefined || o.eosId === null)) {
    throw new DataError({ code: "T5533", message: "the template appends EOS after each response, but no eos id was given", hint: "pass the tokenizer's eos_token_id" });
  }
}

/** Tokenize one row's rendered texts with BOS/EOS and classic TRL truncation. */
export function tokenizePair(
  texts: { prompt: string; chosen: string; rejected: string },
  tok: TokenizerLike,
  t: PrefTemplate,
  o: PrefTokenizeOptions,
): Omit<PrefExample, "index"> {
  const sides = (o.mode ?? "separate") === "joint"
    ? [splitJoint(tok, texts.prompt, texts.chosen), splitJoint(tok, texts.prompt, texts.rejected)]
    : [{ prompt: tok.encode(texts.prompt), answer: tok.encode(texts.chosen) }, { prompt: tok.encode(texts.prompt), answer: tok.encode(texts.rejected) }];
  // classic TRL keeps one prompt for both sides: the shorter split when a merge made them differ
  let prompt = sides[0].prompt.length <= sides[1].prompt.length ? sides[0].prompt : sides[1].prompt;
  if (o.bosId !== undefined && o.bosId !== null && prompt[0] !== o.bosId) prompt = [o.bosId, ...prompt];
  const withEos = (ids: number[]): number[] => (t.eos && ids[ids.length - 1] !== o.eosId ? [...ids, o.eosId as number] : ids);
  let chosen = withEos(sides[0].answer);
  let rejected = withEos(sides[1].answer);
  const longer = Math.max(chosen.length, rejected.length);
  let truncatedPrompt = false;
  let truncatedResponse = false;
  if (prompt.length + longer > o.maxLength && prompt.length > o.maxPromptLength) {
    prompt = o.truncation === "keep_start" ? prompt.slice(0, o.maxPromptLength) : prompt.slice(-o.maxPromptLength);
    truncatedPrompt = true;
  }
  if (prompt.length + longer > o.maxLength) {
    const keep = o.maxLength - o.maxPromptLength;
    truncatedResponse = chosen.length > keep || rejected.length > keep;
    chosen = chosen.slice(0, keep);
    rejected = rejected.slice(0, keep);
  }
  return { promptIds: prompt, chosenIds: chosen, rejectedIds: rejected, truncatedPrompt, truncatedResponse };
}

/** Tokenize preference rows; every identical or truncated pair is counted in the report. */
export function tokenizePreferenceRows(
  rows: readonly Row[],
  tok: TokenizerLike,
  template: PrefTemplate,
  opts: PrefTokenizeOptions,
): { examples: PrefExample[]; report: PrefDataReport } {
  checkOptions(template, opts);
  const ct = compileTemplate({ name: template.name, kind: "fields", prompt: template.prompt, completion: template.completion ?? "{{response}}", appendEos: template.eos });
  const report: PrefDataReport = {
    rows: rows.length, pairs: 0, truncatedPrompt: 0, truncatedResponse: 0,
    identical: { count: 0, rows: [], where: [], dropped: opts.identical === "drop" },
    identicalAfterTruncation: { count: 0, rows: [] }, emptyResponse: 0, longestPrompt: 0, longestResponse: 0,
  };
  const examples: PrefExample[] = [];
  rows.forEach((row, index) => {
    const texts = renderPair(ct, row, opts);
    const ex = { index, ...tokenizePair(texts, tok, template, opts) };
    const same = texts.chosen === texts.rejected;
    if (same) {
      report.identical.count++;
      report.identical.rows.push(index);
      if (report.identical.where.length < 20) report.identical.where.push(formatOrigin(row.origin));
      if (opts.identical === "drop") return;
    } else if (ex.chosenIds.length === ex.rejectedIds.length && ex.chosenIds.every((id, i) => id === ex.rejectedIds[i])) {
      report.identicalAfterTruncation.count++;
      report.identicalAfterTruncation.rows.push(index);
    }
    if (ex.truncatedPrompt) report.truncatedPrompt++;
    if (ex.truncatedResponse) report.truncatedResponse++;
    if (ex.chosenIds.length === 0 || ex.rejectedIds.length === 0) report.emptyResponse++;
    report.longestPrompt = Math.max(report.longestPrompt, ex.promptIds.length);
    report.longestResponse = Math.max(report.longestResponse, ex.chosenIds.length, ex.rejectedIds.length);
    examples.push(ex);
  });
  report.pairs = examples.length;
  return { examples, report };
}

/** Same, from plain objects (origins are "name (row i)"). */
export function tokenizePreferences(
  values: readonly Record<string, unknown>[],
  tok: TokenizerLike,
  template: PrefTemplate,
  opts: PrefTokenizeOptions,
  name = "preferences",
): { examples: PrefExample[]; report: PrefDataReport } {
  const rows = values.map((v, i): Row => ({ values: v, origin: { file: name, format: "memory", row: i } }));
  return tokenizePreferenceRows(rows, tok, template, opts);
}

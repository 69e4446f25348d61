// Judge prompts: rendering a row into chat messages, and reading a score from the reply.
//
// Why this exists: a `prompt { system, user, parse, range }` block (stdlib/prompts.tune) is Handlebars over the
// row's fields, rendered with the same engine and rules as training templates (runtime/data/template.ts:
// noEscape, strict, no prototype access; a missing field is T5530 at the row), and its `parse` rule decides how a
// free-text reply becomes a number. The rules are the reference ones (runtime/data/judge-parse.ts, algorithms.md
// §9); a score outside the declared range counts as unparseable (the prompt block's documented meaning) and is
// reported separately so a judge answering on the wrong scale is visible.

import { compileTemplate, renderRow, type CompiledTemplate } from "../data/template.js";
import { parseAlpagasusScore, parseIntegerScore } from "../data/judge-parse.js";
import type { Row } from "../data/row.js";
import { JudgeError } from "./errors.js";
import type { ChatMessage } from "./types.js";

/** The parse enum of the prompt block (compiler/schema/blocks.ts). */
export const PARSE_RULES = ["first_number", "integer", "alpagasus"] as const;
export type ParseRule = (typeof PARSE_RULES)[number];

/** The `prompt` object of score / judge / win_rate node params. */
export interface JudgePrompt {
  name: string;
  system?: string | null;
  user: string;
  parse?: ParseRule;
  range?: readonly [number, number] | null;
}

export interface CheckedPrompt {
  name: string;
  system: string | null;
  user: string;
  parse: ParseRule;
  range: readonly [number, number] | null;
}

/** The prompt params, checked: T5610 naming the field when one has the wrong shape. */
export function checkJudgePrompt(p: unknown): CheckedPrompt {
  if (!p || typeof p !== "object" || Array.isArray(p)) throw bad("?", "is not an object", "pass the `prompt` object of the node's params");
  const o = p as Record<string, unknown>;
  const name = typeof o.name === "string" ? o.name : "?";
  if (typeof o.name !== "string") throw bad(name, "has no name", "pass the `prompt` object of the node's params");
  if (typeof o.user !== "string") throw bad(name, "has no `user` text", "a prompt block needs user = \"…\" (Handlebars over the row's fields)");
  if (o.system !== undefined && o.system !== null && typeof o.system !== "string") throw bad(name, "has a `system` that is not text", "system = \"…\"");
  const parse = o.parse ?? "first_number";
  if (!PARSE_RULES.includes(parse as ParseRule)) throw bad(name, `has parse = ${JSON.stringify(parse)}`, `parse is one of ${PARSE_RULES.join(", ")}`);
  const range = o.range === undefined || o.range === null ? null : checkRange(o.range, `prompt ${name}`);
  return { name, system: (o.system as string | null | undefined) ?? null, user: o.user, parse: parse as ParseRule, range };
}

/** A [lo, hi] pair of finite numbers with lo ≤ hi. */
export function checkRange(r: unknown, what: string): readonly [number, number] {
  const ok = Array.isArray(r) && r.length === 2 && r.every((x) => typeof x === "number" && Number.isFinite(x)) && r[0] <= r[1];
  if (!ok) throw new JudgeError({ code: "T5610", message: `${what}: range ${JSON.stringify(r)} is not [lo, hi]`, hint: "write the range as lo..hi, e.g. 0..5" });
  return r as [number, number];
}

function bad(name: string, what: string, hint: string): JudgeError {
  return new JudgeError({ code: "T5610", message: `judge prompt ${name} ${what}`, hint });
}

// ---- rendering

/** A prompt compiled once, rendering rows into chat messages. */
export interface CompiledPrompt {
  prompt: CheckedPrompt;
  /** Messages for `row`, with `extra` values (e.g. `response`, `output_1`) added to the row's fields. */
  messages(row: Row, extra?: Record<string, unknown>): ChatMessage[];
}

/**
 * The user text is compiled as a "fields" template's prompt part and the system text as its completion part, so
 * both get template.ts's Handlebars settings and its row-located errors (T5530 names the missing field and row).
 */
export function compilePrompt(p: CheckedPrompt): CompiledPrompt {
  const ct: CompiledTemplate = compileTemplate({ name: `prompt ${p.name}`, kind: "fields", prompt: p.user, completion: p.system ?? "", appendEos: false });
  return {
    prompt: p,
    messages(row, extra) {
      const r: Row = extra ? { values: { ...row.values, ...extra }, origin: row.origin } : row;
      const out = renderRow(ct, r);
      const msgs: ChatMessage[] = [];
      if (p.system !== null) msgs.push({ role: "system", content: out.completion });
      msgs.push({ role: "user", content: out.prompt });
      return msgs;
    },
  };
}

// ---- parsing

/** `first_number`: the first decimal number in the reply ("Score: 4.5/5" → 4.5), not part of a longer number. */
const FIRST_NUMBER = /(?<![\d.])[-+]?(?:\d+(?:\.\d+)?|\.\d+)/;

/** The score a reply gives under `rule`, or null when it gives none. */
export function parseReply(rule: ParseRule, reply: string): number | null {
  switch (rule) {
    case "alpagasus":
      return parseAlpagasusScore(reply).score;
    case "integer":
      return parseIntegerScore(reply).score;
    case "first_number": {
      const m = FIRST_NUMBER.exec(reply);
      return m ? Number(m[0]) : null;
    }
  }
}

export type ScoreOutcome = { score: number } | { score: null; reason: "unparseable" | "out_of_range"; value?: number };

/** Parse and range-check one reply. */
export function scoreReply(rule: ParseRule, reply: string, range: readonly [number, number] | null): ScoreOutcome {
  const v = parseReply(rule, reply);
  if (v === null || Number.isNaN(v)) return { score: null, reason: "unparseable" };
  if (range && (v < range[0] || v > range[1])) return { score: null, reason: "out_of_range", value: v };
  return { score: v };
}

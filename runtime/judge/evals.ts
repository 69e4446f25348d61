// Judged evals: a pointwise judge score (LitGPT / LLMs-from-scratch ch07) and a pairwise win rate against a
// baseline's outputs (AlpacaEval style).
//
// Why this exists: the eval nodes `judge` and `win_rate` (compiler/lower-eval.ts) hand us the model's responses
// and the judge settings; the numbers must be computed the reference way and every reply that does not count
// must be shown. Pointwise: an empty response scores 0 without asking (as the book does), the rest are parsed by
// the prompt's rule, unparseable and out-of-range replies are counted, listed and left out of the mean; stderr is
// the sample std / √n (runtime/eval/metrics.ts). Pairwise: per item the candidate is shown first or second by
// runtime/eval/judge.ts's seeded order, identical outputs are a tie without a request (AlpacaEval's annotator
// does the same), a tie counts half, and the verdict is mapped back to the candidate by pairwiseWinRate.
// Results are plain JSON (no NaN) for the report and for the saved per-model responses file.

import { formatOrigin, type Row } from "../data/row.js";
import { pairwiseOrder, pairwiseWinRate, parsePairwiseVerdict, type Verdict } from "../eval/judge.js";
import { mean, meanStderr } from "../eval/metrics.js";
import { askAll, type JudgeProgress } from "./ask.js";
import { JudgeError, excerpt } from "./errors.js";
import { checkJudgePrompt, checkRange, compilePrompt, parseReply, scoreReply, type JudgePrompt, type ParseRule } from "./prompt.js";
import type { UnscoredRow } from "./score.js";
import type { ChatMessage, Judge } from "./types.js";

/** A test prompt (its row: instruction, input, reference output, …) and the evaluated model's response. */
export interface ResponseItem {
  row: Row;
  response: string;
}

interface JudgedEvalOptions {
  judge: Judge;
  /** The node's `prompt` params. */
  prompt: JudgePrompt;
  cacheDir: string;
  onProgress?: (p: JudgeProgress) => void;
}

// ---- pointwise

export interface JudgeResponsesOptions extends JudgedEvalOptions {
  /** Valid score range (the step's `range`); default the prompt's. */
  range?: readonly [number, number] | null;
  /** Field name under which the prompt template sees the response; default "response". */
  responseField?: string;
}

export interface PointwiseItem {
  where: string;
  response: string;
  /** The judge's reply; null for an empty response (not sent). */
  reply: string | null;
  score: number | null;
}

export interface PointwiseResult {
  kind: "pointwise";
  judge: string;
  prompt: string;
  range: readonly [number, number] | null;
  n: number;
  /** Mean over scored items (empty responses included as 0); null when nothing scored. */
  mean: number | null;
  /** Sample std / √n of the scores; null below 2 scores. */
  stderr: number | null;
  scored: number;
  unparseable: number;
  outOfRange: number;
  emptyResponses: number;
  unparseableItems: UnscoredRow[];
  requests: number;
  cacheHits: number;
  items: PointwiseItem[];
}

export async function judgeResponses(items: readonly ResponseItem[], opts: JudgeResponsesOptions): Promise<PointwiseResult> {
  const prompt = checkJudgePrompt(opts.prompt);
  const range = opts.range ? checkRange(opts.range, "judge_score") : prompt.range;
  const field = opts.responseField ?? "response";
  const compiled = compilePrompt(prompt);
  // ch07: `if entry[json_key] == "": scores.append(0)`; the lowest valid score when 0 is outside the range.
  const emptyScore = range && (0 < range[0] || 0 > range[1]) ? range[0] : 0;
  const conversation = (i: number): ChatMessage[] | null => (items[i].response === "" ? null : compiled.messages(items[i].row, { [field]: items[i].response }));
  const asked = await askAll(opts.judge, prompt.name, items.length, conversation, opts.cacheDir, opts.onProgress);

  const res: PointwiseResult = {
    kind: "pointwise", judge: opts.judge.id, prompt: prompt.name, range, n: items.length, mean: null, stderr: null,
    scored: 0, unparseable: 0, outOfRange: 0, emptyResponses: 0, unparseableItems: [],
    requests: asked.requests, cacheHits: asked.cacheHits, items: [],
  };
  const scores: number[] = [];
  items.forEach((it, i) => {
    const where = formatOrigin(it.row.origin);
    const reply = asked.replies[i];
    if (reply === null) {
      res.emptyResponses++;
      scores.push(emptyScore);
      res.items.push({ where, response: it.response, reply: null, score: emptyScore });
      return;
    }
    const o = scoreReply(prompt.parse, reply, range);
    res.items.push({ where, response: it.response, reply, score: o.score });
    if (o.score !== null) {
      scores.push(o.score);
      return;
    }
    if (o.reason === "unparseable") res.unparseable++;
    else res.outOfRange++;
    const u: UnscoredRow = { origin: it.row.origin, where, reason: o.reason, reply: excerpt(reply) };
    if (o.value !== undefined) u.value = o.value;
    res.unparseableItems.push(u);
  });
  res.scored = scores.length;
  res.mean = scores.length ? mean(scores) : null;
  res.stderr = meanStderr(scores);
  return res;
}

// ---- pairwise

export interface WinRateOptions extends JudgedEvalOptions {
  /** Seed of the per-item order (the node's `seed`). */
  seed: number;
  /** Row field holding the baseline's output; default "output". */
  baselineField?: string;
  /** Token count of a text (the evaluated model's tokenizer), for the mean response length in tokens. */
  countTokens?: (text: string) => number;
}

export interface PairwiseItem {
  where: string;
  /** True when the candidate was shown as output_2. */
  candidateSecond: boolean;
  reply: string | null;
  /** The verdict about the shown order; "tie" also for identical outputs (not sent). */
  verdict: Verdict | null;
  /** For the candidate: 1 win, 0.5 tie, 0 loss, null unparseable. */
  points: number | null;
}

export interface PairwiseResult {
  kind: "pairwise";
  judge: string;
  prompt: string;
  seed: number;
  baselineField: string;
  n: number;
  /** 100 · mean(points) over parsed verdicts; null when none parsed. */
  winRate: number | null;
  stderr: number | null;
  wins: number;
  ties: number;
  losses: number;
  unparseable: number;
  /** Items whose two outputs were identical (ties, not sent to the judge). */
  identical: number;
  unparseableItems: { where: string; reply: string }[];
  /** Mean lengths of the candidate's and the baseline's outputs (characters; tokens when countTokens is given). */
  length: { candidateChars: number | null; baselineChars: number | null; candidateTokens?: number | null; baselineTokens?: number | null };
  requests: number;
  cacheHits: number;
  items: PairwiseItem[];
}

export async function winRate(items: readonly ResponseItem[], opts: WinRateOptions): Promise<PairwiseResult> {
  const prompt = checkJudgePrompt(opts.prompt);
  const baselineField = opts.baselineField ?? "output";
  const compiled = compilePrompt(prompt);
  const order = pairwiseOrder(items.length, opts.seed);
  const baselines = items.map((it) => baselineOf(it.row, baselineField));
  const identical = items.map((it, i) => it.response === baselines[i]);
  const conversation = (i: number): ChatMessage[] | null => {
    if (identical[i]) return null;
    const [o1, o2] = order[i] ? [baselines[i], items[i].response] : [items[i].response, baselines[i]];
    return compiled.messages(items[i].row, { output_1: o1, output_2: o2 });
  };
  const asked = await askAll(opts.judge, prompt.name, items.length, conversation, opts.cacheDir, opts.onProgress);

  const labels = prompt.range ?? ([1, 2] as const);
  const verdicts = asked.replies.map((r, i): Verdict | null => (identical[i] ? "tie" : verdictOf(prompt.parse, labels, r ?? "")));
  const s = pairwiseWinRate(verdicts, order);
  const res: PairwiseResult = {
    kind: "pairwise", judge: opts.judge.id, prompt: prompt.name, seed: opts.seed, baselineField, n: items.length,
    winRate: Number.isNaN(s.winRate) ? null : s.winRate, stderr: s.stderr,
    wins: s.wins, ties: s.ties, losses: s.losses, unparseable: s.unparseable,
    identical: identical.filter(Boolean).length, unparseableItems: [],
    length: lengths(items.map((it) => it.response), baselines, opts.countTokens),
    requests: asked.requests, cacheHits: asked.cacheHits, items: [],
  };
  items.forEach((it, i) => {
    const where = formatOrigin(it.row.origin);
    const v = verdicts[i];
    const reply = asked.replies[i];
    if (v === null) res.unparseableItems.push({ where, reply: excerpt(reply ?? "") });
    const points = v === null ? null : v === "tie" ? 0.5 : (v === "second") === order[i] ? 1 : 0;
    res.items.push({ where, candidateSecond: order[i], reply, verdict: v, points });
  });
  return res;
}

/** The verdict in a reply: the prompt's rule giving the first or second label, else "Output (1)" / "tie" forms. */
export function verdictOf(rule: ParseRule, labels: readonly [number, number], reply: string): Verdict | null {
  const v = parseReply(rule, reply);
  if (v === labels[0]) return "first";
  if (v === labels[1]) return "second";
  return parsePairwiseVerdict(reply, [String(labels[0]), String(labels[1])]);
}

function baselineOf(row: Row, field: string): string {
  const v = row.values[field];
  if (typeof v === "string") return v;
  throw new JudgeError({
    code: "T5610",
    message: `${formatOrigin(row.origin)}: the baseline field "${field}" is ${v === undefined ? "missing" : `not text (${typeof v})`}`,
    hint: `win_rate reads the baseline's output from baseline_field (now "${field}"); the rows have: ${Object.keys(row.values).join(", ") || "no fields"}`,
  });
}

function lengths(candidates: string[], baselines: string[], count?: (t: string) => number): PairwiseResult["length"] {
  const avg = (xs: number[]): number | null => (xs.length ? mean(xs) : null);
  const out: PairwiseResult["length"] = {
    candidateChars: avg(candidates.map(codePoints)),
    baselineChars: avg(baselines.map(codePoints)),
  };
  if (count) {
    out.candidateTokens = avg(candidates.map(count));
    out.baselineTokens = avg(baselines.map(count));
  }
  return out;
}

/** Length in Unicode code points, as Python's len() counts characters. */
function codePoints(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}

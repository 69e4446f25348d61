// The `score` data op: a judge rates every row and the parsed score becomes a field (AlpaGasus).
//
// Why this exists: AlpaGasus keeps the Alpaca rows a judge scores ≥ 4.5, so the kept set depends on every reply
// being read by the reference rule and on no reply vanishing. Each row gets its score in `field`, or null when the
// reply gives none or a value outside the range; those rows are counted and listed with their file:line and a
// reply excerpt — never dropped here (the recipe's filter decides; AlpaGasus' −1 for these rows is below any
// threshold, and so is null under a `>=` filter).

import { formatOrigin, type Origin, type Row } from "../data/row.js";
import { askAll, type JudgeProgress } from "./ask.js";
import { excerpt } from "./errors.js";
import { checkJudgePrompt, checkRange, compilePrompt, scoreReply, type JudgePrompt } from "./prompt.js";
import type { Judge } from "./types.js";

export interface ScoreRowsOptions {
  judge: Judge;
  /** The node's `prompt` params ({name, system?, user, parse, range?}). */
  prompt: JudgePrompt;
  /** Name of the new score field. */
  field: string;
  /** Valid score range (the step's `range`); default the prompt's. */
  range?: readonly [number, number] | null;
  /** Directory of the reply cache (created when missing). */
  cacheDir: string;
  onProgress?: (p: JudgeProgress) => void;
}

/** A row whose reply gave no usable score. */
export interface UnscoredRow {
  origin: Origin;
  /** `file:line` or `file (row n)`. */
  where: string;
  reason: "unparseable" | "out_of_range";
  /** The parsed value, for out_of_range. */
  value?: number;
  /** The reply, on one line, truncated. */
  reply: string;
}

export interface ScoreStats {
  judge: string;
  prompt: string;
  range: readonly [number, number] | null;
  total: number;
  scored: number;
  /** Replies with no score under the prompt's parse rule. */
  unparseable: number;
  /** Replies whose score lies outside the range (their rows get null too). */
  outOfRange: number;
  /** Every row counted in `unparseable` or `outOfRange`, in row order. */
  unparseableRows: UnscoredRow[];
  /** Mean of the scores kept; null when none. */
  mean: number | null;
  /** Replies requested in this call (HTTP retries not counted). */
  requests: number;
  cacheHits: number;
}

export interface ScoreRowsResult {
  rows: Row[];
  stats: ScoreStats;
}

export async function scoreRows(rows: readonly Row[], opts: ScoreRowsOptions): Promise<ScoreRowsResult> {
  const prompt = checkJudgePrompt(opts.prompt);
  const range = opts.range ? checkRange(opts.range, `score ${opts.field}`) : prompt.range;
  const compiled = compilePrompt(prompt);
  const asked = await askAll(opts.judge, prompt.name, rows.length, (i) => compiled.messages(rows[i]), opts.cacheDir, opts.onProgress);

  const stats: ScoreStats = {
    judge: opts.judge.id,
    prompt: prompt.name,
    range,
    total: rows.length,
    scored: 0,
    unparseable: 0,
    outOfRange: 0,
    unparseableRows: [],
    mean: null,
    requests: asked.requests,
    cacheHits: asked.cacheHits,
  };
  let sum = 0;
  const out = rows.map((row, i): Row => {
    const reply = asked.replies[i] ?? "";
    const o = scoreReply(prompt.parse, reply, range);
    if (o.score !== null) {
      stats.scored++;
      sum += o.score;
    } else {
      if (o.reason === "unparseable") stats.unparseable++;
      else stats.outOfRange++;
      const u: UnscoredRow = { origin: row.origin, where: formatOrigin(row.origin), reason: o.reason, reply: excerpt(reply) };
      if (o.value !== undefined) u.value = o.value;
      stats.unparseableRows.push(u);
    }
    return { values: { ...row.values, [opts.field]: o.score }, origin: row.origin };
  });
  stats.mean = stats.scored > 0 ? sum / stats.scored : null;
  return { rows: out, stats };
}

/** One line for logs: "scored 51,990 of 52,002 rows with openai:…; 12 unparseable, 0 out of range; 0 requests, 52,002 cached". */
export function scoreSummary(s: ScoreStats): string {
  const n = (x: number): string => x.toLocaleString("en-US");
  const first = s.unparseableRows.slice(0, 3).map((u) => `${u.where}: "${u.reply}"`);
  return (
    `scored ${n(s.scored)} of ${n(s.total)} rows with ${s.judge} (prompt ${s.prompt}); ` +
    `${n(s.unparseable)} unparseable, ${n(s.outOfRange)} out of range; ${n(s.requests)} requests, ${n(s.cacheHits)} cached` +
    (first.length ? `; first: ${first.join("; ")}` : "")
  );
}

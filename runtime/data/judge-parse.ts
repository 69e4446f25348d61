// Judge prompts and score parsing for LLM-as-judge data filtering and evaluation.
//
// Why this exists: AlpaGasus keeps the Alpaca rows a judge scores ≥ 4.5, so the number of rows kept depends on
// exactly how a free-text review becomes a number; LLMs-from-scratch ch07 / LitGPT average 0–100 integer
// scores. Both rules are reproduced here as the reference code behaves (algorithms.md §9), and every reply that
// does not parse is counted, never silently dropped.

// ---- AlpaGasus (gpt4life/alpagasus rating/chatgpt_rating.py, rating/filter.py)

export const ALPAGASUS_SYSTEM_PROMPT =
  "We would like to request your feedback on the performance of AI assistant in response to the instruction " +
  "and the given input displayed following.";

/** The accuracy rubric (the one AlpaGasus used), verbatim including the trailing " \n\n". */
export const ALPAGASUS_USER_PROMPT_ACCURACY =
  "Please rate according to the accuracy of the response to the instruction and the input. Each assistant " +
  "receives a score on a scale of 0 to 5, where a higher score indicates higher level of the accuracy. Please " +
  "first output a single line containing value indicating the scores. In the subsequent line, please provide a " +
  "comprehensive explanation of your evaluation, avoiding any potential bias. \n\n";

/** The helpfulness rubric (commented out in the source), verbatim — including its "an score". */
export const ALPAGASUS_USER_PROMPT_HELPFULNESS =
  "Please rate according to the helpfulness of the response to the instruction and the input. Each assistant " +
  "receives an score on a scale of 0 to 5, where a higher score indicates higher level of the helpfulness. Please " +
  "first output a single line containing value indicating the scores. In the subsequent line, please provide a " +
  "comprehensive explanation of your evaluation, avoiding any potential bias. \n\n";

export interface InstructionTriplet {
  instruction: string;
  input: string;
  output: string;
}

/** The rated triplet: "###Instruction:\n{instruction}\n\n### Input:\n{input}\n\n### Response:\n{output}\n\n". */
export function alpagasusTriplet(t: InstructionTriplet): string {
  return `###Instruction:\n${t.instruction}\n\n### Input:\n${t.input}\n\n### Response:\n${t.output}\n\n`;
}

/** Chat messages sent to the judge (temperature 0 in the source; max_tokens 256 default). */
export function alpagasusMessages(
  t: InstructionTriplet,
  dimension: "accuracy" | "helpfulness" = "accuracy",
): { role: "system" | "user"; content: string }[] {
  const rubric = dimension === "accuracy" ? ALPAGASUS_USER_PROMPT_ACCURACY : ALPAGASUS_USER_PROMPT_HELPFULNESS;
  return [
    { role: "system", content: ALPAGASUS_SYSTEM_PROMPT },
    { role: "user", content: alpagasusTriplet(t) + rubric },
  ];
}

// ---- Python number parsing (the reference code calls float() and int() on strings)

const PY_WS = /^[\s\u001c-\u001f\u0085]+|[\s\u001c-\u001f\u0085]+$/gu;
const DIGITS = String.raw`\d(?:_?\d)*`;
const PY_FLOAT = new RegExp(String.raw`^[+-]?(?:(?:${DIGITS})?\.${DIGITS}|${DIGITS}\.?)(?:[eE][+-]?${DIGITS})?$`);
const PY_SPECIAL = /^[+-]?(inf|infinity|nan)$/i;
const PY_INT = new RegExp(String.raw`^[+-]?${DIGITS}$`);

/** Python's float(str) for ASCII numerals: null where Python raises ValueError. NaN is returned as NaN. */
export function pyFloat(s: string): number | null {
  const t = s.replace(PY_WS, "");
  if (PY_FLOAT.test(t)) return Number(t.replace(/_/g, ""));
  const m = PY_SPECIAL.exec(t);
  if (!m) return null;
  if (m[1].toLowerCase() === "nan") return NaN;
  return t.startsWith("-") ? -Infinity : Infinity;
}

/** Python's int(str) (base 10, ASCII numerals): null where Python raises ValueError. */
export function pyInt(s: string): number | null {
  const t = s.replace(PY_WS, "");
  return PY_INT.test(t) ? Number(t.replace(/_/g, "")) : null;
}

// ---- score parsing

export interface ParsedScore {
  /** The score, or null when the reply does not parse (the reference then uses −1 / skips the reply). */
  score: number | null;
  /** Which rule produced it. */
  rule: "first_line" | "after_score_lower" | "after_score_upper" | "integer" | null;
}

/** AlpaGasus writes −1 for an unparseable review; −1 < any threshold, so such rows are filtered out. */
export const ALPAGASUS_UNPARSEABLE = -1;

/**
 * AlpaGasus `parse_score`: float(first line); else, if "score:" occurs, float(first line after the first
 * "score:"); else, if "Score:" occurs, float of the *first character* after "Score:" once surrounding newlines
 * are stripped — the source writes `.strip('\n')[0]`, so "Score:4.5" gives 4.0 and "Score: 4.5" (a space)
 * raises in the source; here it is unparseable. `exact: false` reads the whole first line after "Score:".
 * A NaN ("nan") counts as unparseable (it can never pass a threshold).
 */
export function parseAlpagasusScore(review: string, opts: { exact?: boolean } = {}): ParsedScore {
  const exact = opts.exact ?? true;
  const first = pyFloat(review.split("\n")[0]);
  if (first !== null) return result(first, "first_line");
  if (review.includes("score:")) {
    return result(pyFloat(review.split("score:")[1].split("\n")[0]), "after_score_lower");
  }
  if (review.includes("Score:")) {
    const after = stripNewlines(review.split("Score:")[1]);
    return result(pyFloat(exact ? after.slice(0, 1) : after.split("\n")[0]), "after_score_upper");
  }
  return { score: null, rule: null };
}

function stripNewlines(s: string): string {
  return s.replace(/^\n+|\n+$/g, "");
}

function result(v: number | null, rule: ParsedScore["rule"]): ParsedScore {
  return v === null || Number.isNaN(v) ? { score: null, rule: null } : { score: v, rule };
}

// ---- LLMs-from-scratch ch07 / LitGPT 0–100 judge

/** ch07 `format_input`: the Alpaca no-input preamble, then instruction, then "\n\n### Input:\n…" if input. */
export function formatInputCh07(instruction: string, input: string): string {
  const head =
    "Below is an instruction that describes a task. Write a response that appropriately completes the request." +
    `\n\n### Instruction:\n${instruction}`;
  return input ? `${head}\n\n### Input:\n${input}` : head;
}

/** ch07 `generate_model_scores` prompt, verbatim. */
export function scratchJudgePrompt(t: InstructionTriplet, response: string): string {
  return (
    `Given the input \`${formatInputCh07(t.instruction, t.input)}\` ` +
    `and correct output \`${t.output}\`, ` +
    `score the model response \`${response}\`` +
    ` on a scale from 0 to 100, where 100 is the best score. ` +
    `Respond with the integer number only.`
  );
}

/** ch07 rule: int(reply); a reply that is not an integer is skipped (counted as unparseable). */
export function parseIntegerScore(reply: string): ParsedScore {
  const v = pyInt(reply);
  return v === null ? { score: null, rule: null } : { score: v, rule: "integer" };
}

// ---- tallies

export interface ScoreTally {
  total: number;
  parsed: number;
  unparseable: number;
  /** Parsed scores outside [min, max] (kept, as the reference keeps them, but counted). */
  outOfRange: number;
  mean: number | null;
  /** The first few unparseable replies (truncated), for the report. */
  examples: string[];
}

/** Parse every reply with `parse`, counting unparseable and out-of-range ones; mean over parsed scores. */
export function tallyScores(
  replies: Iterable<string>,
  parse: (reply: string) => ParsedScore,
  range: [number, number],
  keep = 5,
): { scores: (number | null)[]; tally: ScoreTally } {
  const tally: ScoreTally = { total: 0, parsed: 0, unparseable: 0, outOfRange: 0, mean: null, examples: [] };
  const scores: (number | null)[] = [];
  let sum = 0;
  for (const reply of replies) {
    tally.total++;
    const { score } = parse(reply);
    scores.push(score);
    if (score === null) {
      tally.unparseable++;
      if (tally.examples.length < keep) tally.examples.push(reply.length > 80 ? `${reply.slice(0, 77)}…` : reply);
      continue;
    }
    tally.parsed++;
    sum += score;
    if (score < range[0] || score > range[1]) tally.outOfRange++;
  }
  tally.mean = tally.parsed > 0 ? sum / tally.parsed : null;
  return { scores, tally };
}

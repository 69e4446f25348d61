// EQ-Bench v2 scoring.
//
// Sources: EQ-bench/EQ-Bench lib/scoring.py (parse_answers, calculate_score_fullscale, calculate_score,
// calculate_eq_bench_score) and lib/eq_bench_utils.py (process_question), and lm-eval
// tasks/eq_bench/utils.py (calculate_score_fullscale). Per question: parse "Emotion: <int>" pairs; require
// exactly the 4 reference emotions; d = |answer − reference| per emotion, scaled by an S-curve for
// 0 < d <= 5 (6.5 / (1 + e^(−1.2 (d − 4)))); score = 10 − 0.7477 · Σ scaled d.
// - lm-eval task (`eqBenchProcessResults`): the whole response is parsed (a later duplicate overwrites an
//   earlier one, so "Revised scores" win when both sections are present); eqbench = 10 · score, or 0 when
//   unparseable, with percent_parseable 100 / 0; both averaged over all questions.
// - EQ-Bench's own pipeline (`eqBenchOriginal`): first-pass and revised sections scored separately; a
//   question counts when the v1 scorer could parse it; each mean is over parseable questions only; the
//   benchmark takes revised if it is at least first-pass and has >= 95 % as many parseable answers.

export interface EmotionReference {
  emotion1: string;
  emotion2: string;
  emotion3: string;
  emotion4: string;
  [k: string]: string | number;
}

/** dict(re.findall(r"(\w+):\s+(\d+)", text)): insertion order of first occurrence, last value wins. */
export function parseEmotionScores(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of text.matchAll(/([\p{L}\p{N}_]+):\s+(\p{Nd}+)/gu)) out.set(m[1], m[2]);
  return out;
}

/** A reference given as an object or as the Python-literal string the HF dataset stores. */
export function parseReference(ref: unknown): EmotionReference {
  if (ref && typeof ref === "object") return ref as EmotionReference;
  if (typeof ref !== "string") throw new Error("EQ-Bench: reference answer missing");
  const out: Record<string, string | number> = {};
  for (const m of ref.matchAll(/'([^']*)'\s*:\s*(?:'([^']*)'|"([^"]*)"|(-?\d+(?:\.\d+)?))/g)) {
    out[m[1]] = m[4] !== undefined ? Number(m[4]) : (m[2] ?? m[3]);
  }
  return out as EmotionReference;
}

function matchesReference(user: Map<string, string>, ref: EmotionReference): boolean {
  if (user.size !== 4) return false;
  const names = [ref.emotion1, ref.emotion2, ref.emotion3, ref.emotion4];
  return [...user.keys()].filter((e) => names.includes(e)).length === 4;
}

function refIndex(ref: EmotionReference, emotion: string): number {
  for (let i = 1; i <= 4; i++) if (ref[`emotion${i}`] === emotion) return i;
  return -1;
}

/** calculate_score_fullscale on the 0–10 scale; null when the answer does not name the 4 emotions. */
export function scoreFullscale(ref: EmotionReference, user: Map<string, string>): number | null {
  if (!matchesReference(user, ref)) return null;
  let tally = 0;
  for (const [emotion, score] of user) {
    const i = refIndex(ref, emotion);
    const d = Math.abs(Number(score) - Number(ref[`emotion${i}_score`]));
    if (d === 0) continue;
    tally += d <= 5 ? 6.5 * (1 / (1 + Math.pow(Math.E, -1.2 * (d - 4)))) : d;
  }
  return 10 - tally * 0.7477;
}

/** calculate_score (v1, normalised to sum 10): used by EQ-Bench only to decide parseability. */
export function scoreV1(ref: EmotionReference, user: Map<string, string>): number | null {
  if (!matchesReference(user, ref)) return null;
  const total = [...user.values()].reduce((a, s) => a + Number(s), 0);
  if (total <= 0) return null;
  let tally = 0;
  for (const [emotion, score] of user) {
    tally += Math.abs((Number(score) / total) * 10 - Number(ref[`emotion${refIndex(ref, emotion)}_score`]));
  }
  return 10 - tally;
}

/** lm-eval eq_bench process_results. */
export function eqBenchProcessResults(doc: Record<string, unknown>, response: string): Record<string, number> {
  const score = scoreFullscale(parseReference(doc.reference_answer_fullscale), parseEmotionScores(response));
  return score === null ? { eqbench: 0, percent_parseable: 0 } : { eqbench: score * 10, percent_parseable: 100 };
}

/** parse_answers with REVISE: the text between "First pass scores:" and "Revised scores:", and after it. */
export function parseRevise(text: string): { firstPass: Map<string, string>; revised: Map<string, string> } {
  const first = /First pass scores:([\s\S]*?)Revised scores:/.exec(text);
  const revised = /Revised scores:([\s\S]*?)$/.exec(text);
  return {
    firstPass: first ? parseEmotionScores(first[1]) : new Map(),
    revised: revised ? parseEmotionScores(revised[1]) : new Map(),
  };
}

export interface EqBenchSummary {
  score: number;
  parseable: number;
  firstPassScore: number;
  firstPassParseable: number;
  revisedScore: number;
  revisedParseable: number;
}

/** EQ-Bench's own v2 ("fullscale") benchmark score for one run, one attempt per question. */
export function eqBenchOriginal(docs: Record<string, unknown>[], responses: string[], revise = true): EqBenchSummary {
  let firstSum = 0;
  let firstN = 0;
  let revSum = 0;
  let revN = 0;
  docs.forEach((doc, i) => {
    const text = responses[i];
    const parsed = revise ? parseRevise(text) : { firstPass: parseEmotionScores(text), revised: new Map<string, string>() };
    const v1Ref = parseReference(doc.reference_answer);
    const okFirst = scoreV1(v1Ref, parsed.firstPass) !== null;
    const okRevised = revise && scoreV1(v1Ref, parsed.revised) !== null;
    if (!okFirst && !okRevised) return; // nothing stored for this question
    const full = parseReference(doc.reference_answer_fullscale);
    const f = scoreFullscale(full, parsed.firstPass);
    const r = revise ? scoreFullscale(full, parsed.revised) : null;
    if (f !== null) (firstSum += f), firstN++;
    if (r !== null) (revSum += r), revN++;
  });
  const firstPassScore = firstN ? (100 * (firstSum / firstN)) / 10 : 0;
  const revisedScore = revN ? (100 * (revSum / revN)) / 10 : 0;
  const useRevised = revisedScore >= firstPassScore && revN >= 0.95 * firstN;
  return {
    score: Number((useRevised ? revisedScore : firstPassScore).toFixed(2)),
    parseable: useRevised ? revN : firstN,
    firstPassScore,
    firstPassParseable: firstN,
    revisedScore,
    revisedParseable: revN,
  };
}

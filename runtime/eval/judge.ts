// Judged evals: parsing a judge model's replies and turning them into scores.
//
// Pointwise (LLMs-from-scratch ch07 / LitGPT, reference §9): the judge answers with an integer 0–100;
// score = int(reply) as Python's int() reads it; an empty model response scores 0 without asking the
// judge; replies that do not parse (or fall outside 0–100) are counted and left out of the mean.
// Pairwise: the candidate and the baseline are shown in an order randomised per item by a seeded
// Python-compatible generator (so runs are repeatable), the verdict is mapped back to the candidate,
// and the win rate counts a tie as half a win.

import { meanStderr, mean } from "./metrics.js";
import { PyRandom } from "./pyrandom.js";
import { pyStrip } from "./pystr.js";

/** Python int(s) for a base-10 string: surrounding whitespace, a sign, digits with single underscores. */
export function pyInt(s: string): number | null {
  const t = pyStrip(s);
  if (!/^[+-]?\d+(_\d+)*$/.test(t)) return null;
  return Number(t.replace(/_/g, ""));
}

/** A judge reply as a 0–100 score, or null when it is not an integer in range. */
export function parsePointwiseScore(reply: string, min = 0, max = 100): number | null {
  const v = pyInt(reply);
  return v !== null && v >= min && v <= max ? v : null;
}

export interface PointwiseSummary {
  mean: number;
  stderr: number | null;
  scored: number;
  unparseable: number;
  emptyResponses: number;
  scores: (number | null)[];
}

/**
 * Mean judge score. `replies[i]` is the judge's reply for item i, or null when the model response was empty
 * (scored 0, as the book does).
 */
export function summarizePointwise(replies: (string | null)[]): PointwiseSummary {
  const scores = replies.map((r) => (r === null ? 0 : parsePointwiseScore(r)));
  const ok = scores.filter((s): s is number => s !== null);
  return {
    mean: ok.length ? mean(ok) : NaN,
    stderr: meanStderr(ok),
    scored: ok.length,
    unparseable: scores.length - ok.length,
    emptyResponses: replies.filter((r) => r === null).length,
    scores,
  };
}

/** Per item: true when the candidate is shown second. Draws Random(seed).random() < 0.5 in item order. */
export function pairwiseOrder(n: number, seed: number): boolean[] {
  const rng = new PyRandom(seed);
  return Array.from({ length: n }, () => rng.random() < 0.5);
}

export type Verdict = "first" | "second" | "tie";

/** Read a verdict naming the first or second output by its label ("1"/"2", "A"/"B", "m"/"M", ...). */
export function parsePairwiseVerdict(reply: string, labels: [string, string] = ["1", "2"], tieWords = ["tie", "equal"]): Verdict | null {
  const t = pyStrip(reply);
  if (t === labels[0] || t === `Output (${labels[0]})`) return "first";
  if (t === labels[1] || t === `Output (${labels[1]})`) return "second";
  if (tieWords.some((w) => t.toLowerCase() === w)) return "tie";
  return null;
}

export interface PairwiseSummary {
  /** 100 · mean(win = 1, tie = 0.5, loss = 0) over parsed verdicts. */
  winRate: number;
  stderr: number | null;
  wins: number;
  ties: number;
  losses: number;
  unparseable: number;
}

/** Win rate of the candidate; `candidateSecond[i]` is the order used for item i (from pairwiseOrder). */
export function pairwiseWinRate(verdicts: (Verdict | null)[], candidateSecond: boolean[]): PairwiseSummary {
  const points: number[] = [];
  let wins = 0;
  let ties = 0;
  let losses = 0;
  verdicts.forEach((v, i) => {
    if (v === null) return;
    if (v === "tie") {
      ties++;
      points.push(0.5);
      return;
    }
    const candidateWon = (v === "second") === candidateSecond[i];
    if (candidateWon) wins++;
    else losses++;
    points.push(candidateWon ? 1 : 0);
  });
  const se = meanStderr(points);
  return {
    winRate: points.length ? 100 * mean(points) : NaN,
    stderr: se === null ? null : 100 * se,
    wins,
    ties,
    losses,
    unparseable: verdicts.filter((v) => v === null).length,
  };
}

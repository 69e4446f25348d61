// EQ-Bench v2 scoring (lm-eval and EQ-Bench's own pipeline) and judged-eval parsing, against values
// worked out by hand in the comments (and CPython for the seeded order).
import { describe, expect, it } from "vitest";
import {
  eqBenchOriginal,
  eqBenchProcessResults,
  pairwiseOrder,
  pairwiseWinRate,
  parsePairwiseVerdict,
  parsePointwiseScore,
  summarizePointwise,
} from "../../runtime/eval/index.js";
import { parseReference } from "../../runtime/eval/eqbench.js";

// EQ-Bench question 1: Remorseful 0, Indifferent 6, Affectionate 0, Annoyed 7 (fullscale; "6"/"7" are strings)
const doc = {
  reference_answer: { emotion1: "Remorseful", emotion2: "Indifferent", emotion3: "Affectionate", emotion4: "Annoyed", emotion1_score: 2, emotion2_score: 3, emotion3_score: 0, emotion4_score: 5 },
  reference_answer_fullscale: { emotion1: "Remorseful", emotion2: "Indifferent", emotion3: "Affectionate", emotion4: "Annoyed", emotion1_score: 0, emotion2_score: "6", emotion3_score: 0, emotion4_score: "7" },
};
const answer = (s: number[]) => ["Remorseful", "Indifferent", "Affectionate", "Annoyed"].map((e, i) => `${e}: ${s[i]}`).join("\n");

describe("EQ-Bench", () => {
  it("exact answer scores 100; one point off costs 0.7477 · 6.5/(1 + e^3.6)", () => {
    expect(eqBenchProcessResults(doc, answer([0, 6, 0, 7]))).toEqual({ eqbench: 100, percent_parseable: 100 });
    // d = 1: 6.5/(1 + e^(−1.2·(1 − 4))) = 0.172880458...; 10 − 0.7477 · that = 9.870737281...
    expect(eqBenchProcessResults(doc, answer([1, 6, 0, 7])).eqbench).toBeCloseTo(98.70737281366752, 10);
    // d = 6 (> 5) counts linearly: 10 − 0.7477 · 6 = 5.5138
    expect(eqBenchProcessResults(doc, answer([6, 6, 0, 7])).eqbench).toBeCloseTo(55.138, 10);
  });

  it("unparseable answers score 0 with percent_parseable 0", () => {
    expect(eqBenchProcessResults(doc, "Remorseful: 1\nIndifferent: 2")).toEqual({ eqbench: 0, percent_parseable: 0 });
    expect(eqBenchProcessResults(doc, answer([0, 6, 0, 7]).replace("Annoyed", "Angry"))).toEqual({ eqbench: 0, percent_parseable: 0 });
  });

  it("reads the Python-literal reference strings the HF dataset stores", () => {
    const ref = parseReference("{'emotion1': 'Remorseful', 'emotion1_score': 0, 'emotion2_score': '6'}");
    expect(ref).toEqual({ emotion1: "Remorseful", emotion1_score: 0, emotion2_score: "6" });
  });

  it("EQ-Bench's pipeline: revised counts only if it is at least first-pass and as parseable", () => {
    const resp = (first: number[], revised: number[]) =>
      `First pass scores:\n${answer(first)}\n\nCritique: ok\n\nRevised scores:\n${answer(revised)}\n`;
    // first pass exact (10), revised one point off (9.8707...): first pass wins -> 100
    expect(eqBenchOriginal([doc], [resp([0, 6, 0, 7], [1, 6, 0, 7])])).toMatchObject({ score: 100, parseable: 1, firstPassScore: 100 });
    // the other way round: revised wins
    const s = eqBenchOriginal([doc], [resp([1, 6, 0, 7], [0, 6, 0, 7])]);
    expect(s.score).toBe(100);
    expect(s.firstPassScore).toBeCloseTo(98.70737281366752, 10);
    // all-zero first pass fails the v1 parse check (sum must be > 0), but the revised section still counts
    expect(eqBenchOriginal([doc], [resp([0, 0, 0, 0], [0, 6, 0, 7])])).toMatchObject({ revisedParseable: 1, score: 100 });
    // nothing parseable: no score
    expect(eqBenchOriginal([doc], ["no idea"])).toMatchObject({ score: 0, parseable: 0 });
  });
});

describe("judged evals", () => {
  it("pointwise: Python int() of the reply, 0–100; empty model responses score 0", () => {
    expect(parsePointwiseScore(" 85\n")).toBe(85);
    expect(parsePointwiseScore("+7")).toBe(7);
    expect(parsePointwiseScore("1_0")).toBe(10);
    expect(parsePointwiseScore("85.")).toBeNull();
    expect(parsePointwiseScore("Score: 85")).toBeNull();
    expect(parsePointwiseScore("105")).toBeNull();
    const s = summarizePointwise(["80", "about ninety", null, "100"]);
    // parsed: 80, 0 (empty response), 100 -> mean 60; one unparseable reply is counted and left out
    expect(s).toMatchObject({ mean: 60, scored: 3, unparseable: 1, emptyResponses: 1, scores: [80, null, 0, 100] });
  });

  it("pairwise: seeded order (CPython Random(42).random() < 0.5), ties count half", () => {
    expect(pairwiseOrder(6, 42)).toEqual([false, true, true, true, false, false]);
    expect(parsePairwiseVerdict("2")).toBe("second");
    expect(parsePairwiseVerdict("Output (a)", ["a", "b"])).toBe("first");
    expect(parsePairwiseVerdict("Tie")).toBe("tie");
    expect(parsePairwiseVerdict("both are fine")).toBeNull();
    // item 0: candidate shown second and chosen -> win; item 1: candidate first, second chosen -> loss;
    // item 2: tie -> 0.5; item 3: unparseable -> left out. (1 + 0 + 0.5) / 3 = 50 %
    const s = pairwiseWinRate(["second", "second", "tie", null], [true, false, true, false]);
    expect(s).toMatchObject({ winRate: 50, wins: 1, losses: 1, ties: 1, unparseable: 1 });
    // points [1, 0, 0.5]: Σ(x − 0.5)² = 0.5, var = 0.5/2 = 0.25, sd 0.5, se = 0.5/√3, in percent
    expect(s.stderr).toBeCloseTo((100 * 0.5) / Math.sqrt(3), 10);
  });
});

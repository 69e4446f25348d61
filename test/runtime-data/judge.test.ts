import { describe, expect, it } from "vitest";
import {
  ALPAGASUS_UNPARSEABLE,
  alpagasusMessages,
  parseAlpagasusScore,
  parseIntegerScore,
  pyFloat,
  pyInt,
  scratchJudgePrompt,
  tallyScores,
} from "../../runtime/data/index.js";

describe("AlpaGasus grading prompt", () => {
  it("is the exact text of rating/chatgpt_rating.py (accuracy)", () => {
    const [sys, user] = alpagasusMessages({ instruction: "Add 2 and 3.", input: "", output: "5" });
    expect(sys).toEqual({
      role: "system",
      content:
        "We would like to request your feedback on the performance of AI assistant in response to the instruction and the given input displayed following.",
    });
    expect(user.content).toBe(
      "###Instruction:\nAdd 2 and 3.\n\n### Input:\n\n\n### Response:\n5\n\n" +
        "Please rate according to the accuracy of the response to the instruction and the input. Each assistant receives a score on a scale of 0 to 5, where a higher score indicates higher level of the accuracy. Please first output a single line containing value indicating the scores. In the subsequent line, please provide a comprehensive explanation of your evaluation, avoiding any potential bias. \n\n",
    );
    expect(alpagasusMessages({ instruction: "a", input: "b", output: "c" }, "helpfulness")[1].content).toContain(
      "Each assistant receives an score on a scale of 0 to 5, where a higher score indicates higher level of the helpfulness.",
    );
  });
});

describe("AlpaGasus score parsing", () => {
  it("takes float() of the first line", () => {
    expect(parseAlpagasusScore("4.5\n\nThe response is accurate.")).toEqual({ score: 4.5, rule: "first_line" });
    expect(parseAlpagasusScore(" 5 \nok").score).toBe(5);
    expect(parseAlpagasusScore("3.\nfine").score).toBe(3);
    expect(parseAlpagasusScore("1_0\n").score).toBe(10); // Python float accepts digit underscores
  });

  it("falls back to the text after 'score:' (first line of it)", () => {
    expect(parseAlpagasusScore("The assistant's score: 4.0\nBecause…")).toEqual({ score: 4, rule: "after_score_lower" });
    expect(parseAlpagasusScore("I rate it.\nscore: abc").score).toBeNull();
  });

  it("reproduces the 'Score:' branch's first-character quirk (exact), or reads the line (lenient)", () => {
    expect(parseAlpagasusScore("Overall\nScore:4.5")).toEqual({ score: 4, rule: "after_score_upper" });
    expect(parseAlpagasusScore("Overall\nScore: 4.5").score).toBeNull(); // the source raises here
    expect(parseAlpagasusScore("Overall\nScore: 4.5", { exact: false }).score).toBe(4.5);
  });

  it("counts unparseable reviews (the source writes −1)", () => {
    const replies = ["5\nGreat", "The response is good.", "4.5\n", "nan\n", "Score:5"];
    const { scores, tally } = tallyScores(replies, (r) => parseAlpagasusScore(r), [0, 5]);
    expect(scores).toEqual([5, null, 4.5, null, 5]);
    expect(tally).toMatchObject({ total: 5, parsed: 3, unparseable: 2, outOfRange: 0, examples: ["The response is good.", "nan\n"] });
    expect(scores.map((s) => s ?? ALPAGASUS_UNPARSEABLE).filter((s) => s >= 4.5).length).toBe(3);
  });
});

describe("0–100 integer judge (LLMs-from-scratch ch07 / LitGPT)", () => {
  it("builds the exact prompt", () => {
    expect(scratchJudgePrompt({ instruction: "Rewrite.", input: "It is hot.", output: "It's hot." }, "Hot it is.")).toBe(
      "Given the input `Below is an instruction that describes a task. Write a response that appropriately completes the request.\n\n### Instruction:\nRewrite.\n\n### Input:\nIt is hot.` " +
        "and correct output `It's hot.`, score the model response `Hot it is.` on a scale from 0 to 100, where 100 is the best score. Respond with the integer number only.",
    );
  });

  it("parses int(reply), counts the rest", () => {
    expect(parseIntegerScore(" 85\n")).toEqual({ score: 85, rule: "integer" });
    for (const bad of ["85.0", "Score: 85", "85/100", ""]) expect(parseIntegerScore(bad).score).toBeNull();
    const { tally } = tallyScores(["90", "x", "105", "70"], parseIntegerScore, [0, 100]);
    expect(tally).toMatchObject({ parsed: 3, unparseable: 1, outOfRange: 1, mean: 265 / 3 });
  });

  it("pyFloat / pyInt follow Python's grammar", () => {
    expect([pyFloat("1e3"), pyFloat(".5"), pyFloat("-inf"), pyFloat("1__0"), pyFloat("_1"), pyFloat("4.5/5")]).toEqual([1000, 0.5, -Infinity, null, null, null]);
    expect([pyInt("007"), pyInt("+3"), pyInt("3.0"), pyInt("1_000")]).toEqual([7, 3, null, 1000]);
  });
});

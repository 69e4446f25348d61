// Metric functions on fixed log-likelihoods, GSM8K filters, stderr and group aggregation, each against
// values worked out by hand in the comments (the harness formulas are quoted in runtime/eval/metrics.ts).
import { describe, expect, it } from "vitest";
import {
  aggregateGroup,
  aggregateSubtaskMetrics,
  argmax,
  checkGoldIndex,
  exactMatch,
  mc1,
  mc2Score,
  meanStderr,
  multipleChoiceScores,
  pooledSampleStderr,
  regexExtract,
  type TaskResult,
} from "../../runtime/eval/index.js";
import { findall, split, sub } from "../../runtime/eval/pyregex.js";

describe("multiple-choice metrics", () => {
  it("acc and acc_norm disagree when a longer choice has a lower total but higher per-char score", () => {
    // lls [-1.0, -1.5]; acc: argmax -> 0. acc_norm: -1.0/1 = -1.0 vs -1.5/13 = -0.115 -> 1
    const s = multipleChoiceScores([-1.0, -1.5], [false, true], ["a", "longer answer"], 1);
    expect(s).toMatchObject({ acc: 0, acc_norm: 1, pred: 0, predNorm: 1, exact_match: 1 });
  });

  it("acc_norm counts code points, acc_bytes UTF-8 bytes", () => {
    // "é" is 1 char, 2 bytes. norm: -2/1 = -2 vs -2.1/2 = -1.05 -> 1; bytes: -2/2 = -1 vs -2.1/2 = -1.05 -> 0
    const s = multipleChoiceScores([-2.0, -2.1], [false, false], ["é", "ab"], 0);
    expect(s).toMatchObject({ predNorm: 1, predBytes: 0, acc_norm: 0, acc_bytes: 1 });
    // an astral character is 1 code point (2 UTF-16 units): -4/1 = -4 vs -3/2 = -1.5 -> 1
    expect(multipleChoiceScores([-4, -3], [false, false], ["😀", "ab"], 1).predNorm).toBe(1);
  });

  it("ties go to the first choice; NaN wins like numpy.argmax", () => {
    expect(argmax([-1, -1, -2])).toBe(0);
    expect(multipleChoiceScores([-3, -1, -1], [false, false, false], ["x", "y", "z"], 2).acc).toBe(0);
    expect(argmax([-1, Number.NaN, 0])).toBe(1);
  });

  it("gold as int, string, list, or out of range", () => {
    const choices = ["no", "yes"];
    expect(checkGoldIndex(choices, 1)).toEqual({ gold: 1, error: false });
    expect(checkGoldIndex(choices, "yes")).toEqual({ gold: 1, error: false });
    expect(checkGoldIndex(choices, "maybe")).toEqual({ gold: -100, error: true });
    expect(checkGoldIndex(choices, 2)).toEqual({ gold: -100, error: true });
    expect(checkGoldIndex(choices, [0, 5])).toEqual({ gold: [0, -100], error: true });
    expect(multipleChoiceScores([-1, -2], [true, false], choices, [0, 1]).acc).toBe(1);
  });

  it("TruthfulQA mc1 and mc2", () => {
    expect(mc1([-1, -2, -3])).toBe(1);
    expect(mc1([-2, -1])).toBe(0);
    const lls = [Math.log(0.2), Math.log(0.3), Math.log(0.5)];
    // labels mode: (0.2 + 0.5) / 1.0 = 0.7; older split-at-first-0 mode: only index 0 is "true" -> 0.2
    expect(mc2Score(lls, [1, 0, 1])).toBeCloseTo(0.7, 14);
    expect(mc2Score(lls, [1, 0, 1], "split_first_false")).toBeCloseTo(0.2, 14);
    // true answers first: both modes agree. exp(-1)/(exp(-1)+exp(-2)+exp(-3)) for one true answer
    const l2 = [-1, -2, -3];
    const want = Math.exp(-1) / (Math.exp(-1) + Math.exp(-2) + Math.exp(-3));
    expect(mc2Score(l2, [1, 0, 0])).toBeCloseTo(want, 14);
    expect(mc2Score(l2, [1, 0, 0], "split_first_false")).toBeCloseTo(want, 14);
  });
});

describe("GSM8K filters and exact_match", () => {
  const strict = (s: string) => regexExtract(s, "#### (\\-?[0-9\\.\\,]+)");
  const flexible = (s: string) => regexExtract(s, "(-?[$0-9.,]{2,})|(-?[0-9]+)", -1);
  const em = (pred: string, ref: string) =>
    exactMatch(pred, ref, { ignore_case: true, ignore_punctuation: false, regexes_to_ignore: [",", "\\$", "(?s).*#### ", "\\.$"] });

  it("strict-match takes the first '#### n', flexible-extract the last number-like run", () => {
    const out = "Natalia sold 48+24 = 72 clips.\n#### 72";
    expect(strict(out)).toBe("72");
    expect(flexible(out)).toBe("72");
    expect(strict("#### -5 and later #### 6")).toBe("-5");
    expect(strict("The answer is $1,234.56.")).toBe("[invalid]");
    expect(flexible("The answer is $1,234.56.")).toBe("$1,234.56.");
    expect(flexible("only 7 here")).toBe("7"); // one digit: the second alternative
    expect(flexible("no numbers")).toBe("[invalid]");
    expect(strict("#### 3,000.\n")).toBe("3,000.");
  });

  it("exact_match deletes ',', '$', everything up to '#### ' and a final '.' from both sides", () => {
    const gold = "Janet sells 16 - 3 - 4 = 9 duck eggs a day.\nShe makes 9 * 2 = $18 every day.\n#### 18";
    expect(em("18", gold)).toBe(1);
    expect(em("$18.", gold)).toBe(1);
    expect(em("18.00", gold)).toBe(0);
    expect(em("3,000.", "... #### 3000")).toBe(1);
    expect(em("[invalid]", gold)).toBe(0);
    expect(exactMatch("Hello, World!", "hello world", { ignore_case: true, ignore_punctuation: true })).toBe(1);
  });

  it("Python regex semantics carried over to JS", () => {
    expect(findall("a{,2}", "aaa")).toEqual(["aa", "a", ""]); // Python's {,n}
    expect(sub("\\.$", "", "72.\n")).toBe("72\n"); // $ before a final newline
    expect(findall("^\\s*\\*[^\\*].*$", "* a\r\n* b", { multiline: true })).toEqual(["* a\r", "* b"]); // only \n ends lines
    expect(findall("\\bcafé\\b", "un Café noir", { ignoreCase: true })).toEqual(["Café"]); // Unicode \b and \w
    expect(split("\\s?SECTION\\s?\\d+\\s?", "SECTION 1 a SECTION 2 b")).toEqual(["", "a", "b"]);
    expect(findall("(?P<n>\\d)(?P=n)", "1223")).toEqual(["2"]);
  });
});

describe("stderr and group aggregation", () => {
  it("mean stderr = sample std (ddof 1) / sqrt(n); n = 1 is N/A", () => {
    // [1, 0, 1, 1]: mean 0.75; Σ(x − mean)² = 3·0.0625 + 0.5625 = 0.75; var = 0.75/3 = 0.25; sd 0.5; se = 0.5/2
    expect(meanStderr([1, 0, 1, 1])).toBe(0.25);
    expect(meanStderr([1])).toBeNull();
  });

  it("pooled stderr and size-weighted mean", () => {
    // Σ (n−1)·n·se² = 3·4·0.25² + 9·10·0.1² = 0.75 + 0.9 = 1.65; / (14 − 2) = 0.1375; / 14; sqrt
    expect(pooledSampleStderr([0.25, 0.1], [4, 10])).toBeCloseTo(Math.sqrt(0.1375 / 14), 15);
    expect(pooledSampleStderr([0.25, 0.1], [4, 10])).toBeCloseTo(0.0991031208965115, 15);
    // (0.75·4 + 0.3·10) / 14 = 6/14
    expect(aggregateSubtaskMetrics([0.75, 0.3], [4, 10])).toBeCloseTo(6 / 14, 15);
    expect(aggregateSubtaskMetrics([0.75, 0.3], [4, 10], false)).toBeCloseTo(0.525, 15);
  });

  it("aggregateGroup: members' n as weights, N/A stderr propagates, missing metrics are skipped", () => {
    const task = (name: string, n: number, acc: number, se: number | null, norm?: number): TaskResult => ({
      name,
      kind: "task",
      version: 1,
      numFewshot: 0,
      n,
      metrics: [
        { metric: "acc", filter: "none", value: acc, stderr: se, higherIsBetter: true },
        ...(norm === undefined ? [] : [{ metric: "acc_norm", filter: "none", value: norm, stderr: 0.1, higherIsBetter: true }]),
      ],
    });
    const g = aggregateGroup(
      { group: "g", task: ["a", "b"], aggregate_metric_list: [{ metric: "acc", weight_by_size: true }, { metric: "acc_norm" }] },
      [task("a", 4, 0.75, 0.25, 0.5), task("b", 10, 0.3, 0.1)],
    );
    expect(g.n).toBe(14);
    expect(g.metrics[0].value).toBeCloseTo(6 / 14, 15);
    expect(g.metrics[0].stderr).toBeCloseTo(Math.sqrt(0.1375 / 14), 15);
    expect(g.metrics[1]).toMatchObject({ metric: "acc_norm", value: 0.5 }); // only "a" reports it
    const na = aggregateGroup({ group: "h", task: ["a", "b"], aggregate_metric_list: [{ metric: "acc" }] }, [task("a", 1, 1, null), task("b", 10, 0.3, 0.1)]);
    expect(na.metrics[0].stderr).toBeNull();
  });
});

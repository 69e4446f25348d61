// Prompt construction against hand-checked strings (test/fixtures/eval/handchecked_prompts.ts) and the
// harness rules that the fixtures exercise less directly: description + system instruction, the
// trailing-whitespace move, n+1 sampling with the eval doc dropped, first_n, errors for unshipped rows.
import { describe, expect, it } from "vitest";
import {
  buildRequests,
  DocSplit,
  fewshotContext,
  loadRegistry,
  loadTask,
  movePairWhitespace,
  PyRandom,
  selectShots,
  type Doc,
} from "../../runtime/eval/index.js";
import {
  HAND_CHECKED,
  HELLASWAG_CHOICES,
  HELLASWAG_CONTEXT,
  HELLASWAG_DOC,
  WINOGRANDE_DOC,
  WINOGRANDE_REQUESTS,
} from "../fixtures/eval/handchecked_prompts.js";

const reg = loadRegistry();

describe("hand-checked prompts", () => {
  for (const h of HAND_CHECKED) {
    it(`${h.task} ${h.numFewshot}-shot doc ${h.docId}`, () => {
      const task = loadTask(reg, h.task, { limit: h.docId + 1 });
      const r = buildRequests(task, { numFewshot: h.numFewshot })[h.docId];
      expect(r.context).toBe(h.context);
      if (h.loglikelihood) expect(r.loglikelihood.map((x) => [x.context, x.continuation])).toEqual(h.loglikelihood);
      if (h.generate) expect(r.generate).toEqual({ context: h.context, ...h.generate });
    });
  }

  it("winogrande: the choice goes into the context, the sentence rest is the continuation", () => {
    const task = loadTask(reg, "winogrande", { docs: { train: [WINOGRANDE_DOC], validation: [WINOGRANDE_DOC] } });
    expect(task.multipleInput).toBe(true);
    const r = buildRequests(task, { numFewshot: 0 })[0];
    expect(r.context).toBe("");
    expect(r.loglikelihood.map((x) => [x.context, x.continuation])).toEqual(WINOGRANDE_REQUESTS);
  });

  it("hellaswag: process_docs preprocessing", () => {
    const task = loadTask(reg, "hellaswag", { docs: { train: [HELLASWAG_DOC], validation: [HELLASWAG_DOC] } });
    const r = buildRequests(task, { numFewshot: 0 })[0];
    expect(r.context).toBe(HELLASWAG_CONTEXT);
    expect(r.loglikelihood.map((x) => x.continuation)).toEqual(HELLASWAG_CHOICES);
  });
});

describe("harness rules", () => {
  it("system instruction and description are joined by the fewshot delimiter", () => {
    const task = loadTask(reg, "mmlu_philosophy", { limit: 1 });
    const ctx = fewshotContext(task, task.evalDocs[0], 0, new PyRandom(1234), { systemInstruction: "Be brief." });
    expect(ctx.startsWith("Be brief.\n\nThe following are multiple choice questions (with answers) about philosophy.\n\nAesthetics")).toBe(true);
  });

  it("moves trailing whitespace of the context to the continuation (HFLM _encode_pair)", () => {
    expect(movePairWhitespace("Answer: \n", "yes")).toEqual({ context: "Answer:", continuation: " \nyes" });
    expect(movePairWhitespace("Answer:", " yes")).toEqual({ context: "Answer:", continuation: " yes" });
    // Python str.isspace counts U+001F but not U+FEFF
    expect(movePairWhitespace("a\u001f", "b")).toEqual({ context: "a", continuation: "\u001fb" });
    expect(movePairWhitespace("a\ufeff", "b")).toEqual({ context: "a\ufeff", continuation: "b" });
  });

  it("draws n + 1 from the eval split and drops the eval doc, advancing one generator", () => {
    const docs: Doc[] = Array.from({ length: 6 }, (_, i) => ({ q: `q${i}`, a: `a${i}` }));
    const task = loadTask(reg, "truthfulqa_mc1", { limit: 1 });
    const fake = { ...task, fewshot: DocSplit.fromDocs("validation", docs), nPlusOne: true };
    const rng = new PyRandom(1234);
    // CPython: r = Random(1234); r.sample(range(6), 3) -> [3, 0, 4], then r.sample(range(6), 3) -> [0, 4, 5]
    // doc 0: drop the eval doc 0 from [3, 0, 4] -> shots 3, 4
    expect(selectShots(fake, docs[0], 2, rng)).toEqual([docs[3], docs[4]]);
    // doc 1: the same generator continues; 1 is not drawn, so the first two of [0, 4, 5] -> shots 0, 4
    expect(selectShots(fake, docs[1], 2, rng)).toEqual([docs[0], docs[4]]);
  });

  it("first_n takes the dev rows in order", () => {
    const task = loadTask(reg, "mmlu_abstract_algebra", { limit: 1 });
    const shots = selectShots(task, task.evalDocs[0], 5, new PyRandom(1));
    expect(shots.map((d) => (d.question as string).slice(0, 20))).toEqual(
      Array.from({ length: 5 }, (_, i) => (task.fewshot!.get(i).question as string).slice(0, 20)),
    );
    expect(() => selectShots(task, task.evalDocs[0], 6, new PyRandom(1))).toThrow(/6 shots requested, 5 available/);
  });

  it("refuses shots that are not shipped and limits beyond the shipped prefix", () => {
    const piqa = loadTask(reg, "piqa", { limit: 2 });
    expect(() => buildRequests(piqa, { numFewshot: 3 })).toThrow(/not shipped locally/);
    const gsm = loadTask(reg, "gsm8k", { limit: 200 });
    expect(() => buildRequests(gsm, { numFewshot: 25 })).toThrow(/split "train" row \d+ of 7473 is not shipped/);
    expect(() => loadTask(reg, "gsm8k", { limit: 201 })).toThrow(/only 200 of 1319/);
    expect(() => loadTask(reg, "hellaswag")).toThrow(/no local data shipped/);
  });

  it("an int target without choices fails as the harness's str + int does (ifeval with shots)", () => {
    const task = loadTask(reg, "ifeval", { limit: 1 });
    expect(() => buildRequests(task, { numFewshot: 1 })).toThrow(/int without doc_to_choice/);
  });
});

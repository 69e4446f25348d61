// The generated programs' Python (tune_torch) against tune's TypeScript definitions on fixed cases:
// tokenization and masking (SFT, DPO truncation), lr schedules (HF kinds and DeepSpeed WarmupDecayLR), DPO
// losses and rewards, SamPO down-sampling (exact kept counts; inclusion frequencies against T_m / T_long from
// both implementations' RNGs), and summed/averaged completion log-probs. The Python side is run by
// fixtures/parity.py; torch parts need a python3 with torch (Debian python3-torch) and are skipped without it.
import { execFileSync } from "node:child_process";
import { describe, expect, test } from "vitest";
import { Rng } from "../../runtime/data/rng.js";
import { epochOrder } from "../../runtime/exec/batches.js";
import { totalSteps } from "../../runtime/train/schedule.js";
import { tokenizeExample } from "../../runtime/data/tokenize.js";
import { tokenizePair } from "../../runtime/pref/data.js";
import { dpoLoss, type DpoLossKind } from "../../runtime/pref/loss.js";
import { sampoDraw } from "../../runtime/pref/sampo.js";
import { makeSchedule, type PrefScheduleKind } from "../../runtime/pref/warmup-decay.js";
import { pythonWithTorch } from "./helpers.js";

const charTok = { encode: (s: string): number[] => [...s].map((c) => c.codePointAt(0)! + 10) };

const SFT = [
  { row: { prompt: "### Q:\nadd 2+3\n### A:", completion: " 5" }, cutoff: 64, eos: true },
  { row: { prompt: "long prompt that fills the cutoff", completion: "answer" }, cutoff: 20, eos: true },
  { row: { prompt: "p", completion: "no eos here" }, cutoff: 64, eos: false },
];
const PAIRS = [
  { row: { prompt: "Say hi:", chosen: "Hello there!", rejected: "No." }, max_length: 64, max_prompt_length: 32, truncation: "keep_start", eos: true },
  { row: { prompt: "a very long prompt indeed", chosen: "yes, certainly", rejected: "nope" }, max_length: 24, max_prompt_length: 10, truncation: "keep_end", eos: true },
  { row: { prompt: "a very long prompt indeed", chosen: "yes, certainly", rejected: "nope" }, max_length: 24, max_prompt_length: 10, truncation: "keep_start", eos: false },
];
const SCHEDULES: { kind: PrefScheduleKind; warmup: number; total: number }[] = [
  { kind: "linear", warmup: 3, total: 20 },
  { kind: "cosine", warmup: 2, total: 17 },
  { kind: "constant_with_warmup", warmup: 4, total: 10 },
  { kind: "constant", warmup: 0, total: 5 },
  { kind: "warmup_decay_log", warmup: 5, total: 30 },
  { kind: "warmup_decay_log", warmup: 1, total: 8 },
];
const DPO: { kind: DpoLossKind; beta: number; eps: number; pc: number[]; pr: number[]; rc: number[] | null; rr: number[] | null }[] = [
  { kind: "sigmoid", beta: 0.1, eps: 0, pc: [-12.5, -30.25, -7], pr: [-14, -29, -9.5], rc: [-13, -30, -7.25], rr: [-13.5, -29.5, -9] },
  { kind: "sigmoid", beta: 0.5, eps: 0.1, pc: [-3, -8], pr: [-4, -2], rc: [-3.5, -7], rr: [-3.25, -2.5] },
  { kind: "robust", beta: 0.2, eps: 0.2, pc: [-3, -8], pr: [-4, -2], rc: [-3.5, -7], rr: [-3.25, -2.5] },
  { kind: "hinge", beta: 0.3, eps: 0, pc: [-3, -8], pr: [-4, -2], rc: [-3.5, -7], rr: [-3.25, -2.5] },
  { kind: "ipo", beta: 0.1, eps: 0, pc: [-1.2, -0.8], pr: [-1.5, -0.7], rc: [-1.1, -0.9], rr: [-1.4, -0.75] },
  { kind: "sampo", beta: 0.1, eps: 0, pc: [-5, -6], pr: [-7, -4], rc: null, rr: null },
];
// Epoch orders (tune's seeded Fisher–Yates) and update counts per run (a last partial window is an update).
const ORDERS = [{ n: 10, seed: 42, epoch: 0 }, { n: 1897, seed: 42, epoch: 0 }, { n: 37, seed: 7, epoch: 3 }, { n: 1, seed: 0, epoch: 0 }];
const STEPS = [{ rows: 37, micro: 4, ga: 4, epochs: 1 }, { rows: 1897, micro: 4, ga: 4, epochs: 1 }, { rows: 100, micro: 4, ga: 2, epochs: 2 }, { rows: 3, micro: 4, ga: 8, epochs: 1.5 }];
// Pairs (rows b, b + B): chosen longer, rejected longer, equal.
const SAMPO = { counts: [9, 4, 6, 3, 12, 6], seed: 11, draws: 4000 };

type PyOut = {
  sft: { input_ids: number[]; labels: number[] }[];
  pairs: { prompt_ids: number[]; chosen_ids: number[]; rejected_ids: number[] }[];
  schedules: number[][];
  orders: number[][];
  steps: number[];
  torch: string | null;
  dpo?: { losses: number[]; chosen_rewards: number[]; rejected_rewards: number[] }[];
  sampo?: { kept: number[][]; freq: number[][] };
  logps?: { logits: number[][][]; labels: number[][]; sum: number[]; mean: number[] };
};

function runPython(py: string): PyOut {
  const input = JSON.stringify({ sft: SFT, pairs: PAIRS, schedules: SCHEDULES, dpo: DPO, sampo: SAMPO, orders: ORDERS, steps: STEPS });
  return JSON.parse(execFileSync(py, ["test/runtime-torch/fixtures/parity.py"], { input, encoding: "utf8" })) as PyOut;
}

describe("tune_torch (Python) agrees with the TypeScript definitions", () => {
  const out = runPython("python3");

  test("SFT ids and labels: [BOS] + tok(prompt + completion) + [EOS], prompt masked, cut at the cutoff", () => {
    SFT.forEach((c, i) => {
      const ts = tokenizeExample({ prompt: c.row.prompt, completion: c.row.completion, appendEos: c.eos }, charTok, { cutoff: c.cutoff, bosId: 1, eosId: 2 });
      expect(out.sft[i]!.input_ids, `case ${i}`).toEqual(ts.inputIds);
      expect(out.sft[i]!.labels, `case ${i}`).toEqual(ts.labels);
    });
  });

  test("DPO prompt/response ids with classic TRL truncation", () => {
    PAIRS.forEach((c, i) => {
      const ts = tokenizePair(c.row, charTok, { name: "t", prompt: "", eos: c.eos }, {
        maxLength: c.max_length, maxPromptLength: c.max_prompt_length, truncation: c.truncation as "keep_start" | "keep_end", bosId: 1, eosId: 2,
      });
      expect(out.pairs[i], `case ${i}`).toEqual({ prompt_ids: ts.promptIds, chosen_ids: ts.chosenIds, rejected_ids: ts.rejectedIds });
    });
  });

  test("epoch order: the programs shuffle exactly as tune's in-process executor (same batches)", () => {
    ORDERS.forEach((c, i) => expect(out.orders[i], JSON.stringify(c)).toEqual(epochOrder(c.n, c.seed, c.epoch)));
  });

  test("optimizer updates per run: a last partial accumulation window counts, as in process", () => {
    STEPS.forEach((c, i) => expect(out.steps[i], JSON.stringify(c)).toBe(totalSteps({ epochs: c.epochs, batchesPerEpoch: Math.ceil(c.rows / c.micro), gradAccum: c.ga, rounding: "ceil" })));
  });

  test("lr factor of every update: HF LambdaLR kinds and DeepSpeed WarmupDecayLR", () => {
    SCHEDULES.forEach((c, i) => {
      const s = makeSchedule(c.kind, 1, c.warmup, c.total);
      const ts = Array.from({ length: c.total + 1 }, (_, d) => s.lrAt(d));
      out.schedules[i]!.forEach((v, d) => expect(v, `${c.kind} update after ${d}`).toBeCloseTo(ts[d]!, 12));
    });
  });
});

const torchPy = pythonWithTorch();
describe.skipIf(!torchPy)("tune_torch.losses (torch) agrees with runtime/pref", () => {
  const out = torchPy ? runPython(torchPy) : null;

  test("DPO losses and rewards (sigmoid, label smoothing, robust, hinge, ipo, reference-free sampo)", () => {
    DPO.forEach((c, i) => {
      const ts = dpoLoss({ policyChosen: c.pc, policyRejected: c.pr, referenceChosen: c.rc, referenceRejected: c.rr }, { kind: c.kind, beta: c.beta, labelSmoothing: c.eps });
      const py = out!.dpo![i]!;
      py.losses.forEach((v, j) => expect(v, `${c.kind} pair ${j}`).toBeCloseTo(ts.losses[j]!, 10));
      py.chosen_rewards.forEach((v, j) => expect(v).toBeCloseTo(ts.chosenRewards[j]!, 12));
      py.rejected_rewards.forEach((v, j) => expect(v).toBeCloseTo(ts.rejectedRewards[j]!, 12));
    });
  });

  test("SamPO: both sides keep T_m tokens; the longer side's positions are kept with probability T_m / T_long", () => {
    const B = SAMPO.counts.length / 2;
    const rng = new Rng(SAMPO.seed);
    const tsFreq = SAMPO.counts.map((n) => new Float64Array(n));
    let tsKept: number[] | null = null;
    for (let d = 0; d < SAMPO.draws; d++) {
      const draw = sampoDraw(rng, SAMPO.counts);
      tsKept ??= [...draw.kept];
      let p = 0;
      SAMPO.counts.forEach((n, r) => {
        for (let i = 0; i < n; i++, p++) tsFreq[r]![i]! += draw.weights[p]! / SAMPO.draws;
      });
    }
    expect(out!.sampo!.kept).toEqual([tsKept]);
    for (let b = 0; b < B; b++) {
      const [tc, tr] = [SAMPO.counts[b]!, SAMPO.counts[b + B]!];
      const longer = tc < tr ? b + B : b;
      const shorter = longer === b ? b + B : b;
      const p = Math.min(tc, tr) / Math.max(tc, tr);
      for (let i = 0; i < SAMPO.counts[longer]!; i++) {
        expect(out!.sampo!.freq[longer]![i]!, `row ${longer} position ${i}`).toBeGreaterThan(p - 0.04);
        expect(out!.sampo!.freq[longer]![i]!).toBeLessThan(p + 0.04);
        expect(tsFreq[longer]![i]!).toBeCloseTo(out!.sampo!.freq[longer]![i]!, 1);
      }
      for (let i = 0; i < SAMPO.counts[shorter]!; i++) expect(out!.sampo!.freq[shorter]![i]).toBe(1);
    }
  });

  test("summed and per-token-mean completion log-probs use labels shifted by one, −100 excluded", () => {
    const { logits, labels, sum, mean } = out!.logps!;
    labels.forEach((row, r) => {
      let s = 0;
      let n = 0;
      for (let t = 1; t < row.length; t++) {
        if (row[t] === -100) continue;
        const z = logits[r]![t - 1]!;
        const lse = Math.log(z.reduce((a, x) => a + Math.exp(x), 0));
        s += z[row[t]!]! - lse;
        n++;
      }
      expect(sum[r]).toBeCloseTo(s, 5);
      expect(mean[r]).toBeCloseTo(s / n, 5);
    });
  });
});

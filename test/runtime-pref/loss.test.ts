// DPO-family losses, SamPO down-sampling and WarmupDecayLR against the PyTorch reference and their definitions.
//
// Why this exists: the loss values, their gradients and TRL's metrics decide what DPO learns and what the logs
// show; they are pinned to test/fixtures/pref/make_pref_fixture.py (torch float64, TRL's formulas) within 1e-6
// relative. SamPO's sampler is checked for its defining properties (kept count = min(T_c, T_r), uniformity,
// reproducibility) and, draw for draw, against the script's port of tune's generator.

import { describe, expect, it } from "vitest";
import { Rng } from "../../runtime/data/rng.js";
import { dpoLoss, dpoMetrics } from "../../runtime/pref/loss.js";
import { keptSums, sampleWithoutReplacement, sampoDraw } from "../../runtime/pref/sampo.js";
import { makeSchedule, WarmupDecayLR } from "../../runtime/pref/warmup-decay.js";
import { LrSchedule } from "../../runtime/train/schedule.js";
import { loadPrefExpected, maxRelErr, relErr } from "./fixture.js";

const exp = loadPrefExpected();
const TOL = 1e-6;

describe("DPO losses vs TRL formulas (torch float64)", () => {
  const L = exp.losses;
  for (const c of L.cases) {
    it(`${c.kind} β=${c.beta} ε=${c.label_smoothing}${c.reference_free ? " reference-free" : ""}`, () => {
      const r = dpoLoss(
        {
          policyChosen: L.policy_chosen, policyRejected: L.policy_rejected,
          referenceChosen: c.reference_free ? null : L.reference_chosen, referenceRejected: c.reference_free ? null : L.reference_rejected,
        },
        { kind: c.kind, beta: c.beta, labelSmoothing: c.label_smoothing },
      );
      expect(maxRelErr(r.losses, c.losses, 1e-9)).toBeLessThan(TOL);
      expect(relErr(r.loss, c.loss)).toBeLessThan(TOL);
      expect(maxRelErr(r.gradChosen, c.grad_chosen, 1e-9)).toBeLessThan(TOL);
      expect(maxRelErr(r.gradRejected, c.grad_rejected, 1e-9)).toBeLessThan(TOL);
      expect(maxRelErr(r.chosenRewards, c.chosen_rewards)).toBeLessThan(TOL);
      expect(maxRelErr(r.rejectedRewards, c.rejected_rewards)).toBeLessThan(TOL);
      const m = dpoMetrics(r, { policyChosen: L.policy_chosen, policyRejected: L.policy_rejected });
      for (const [k, v] of Object.entries(c.metrics)) expect(relErr(m[k as keyof typeof m], v, 1e-9), k).toBeLessThan(TOL);
    });
  }
  it("the hinge cases cover both sides of the kink (some zero losses, some positive)", () => {
    const hinge = L.cases.filter((c) => c.kind === "hinge").flatMap((c) => c.losses);
    expect(hinge.some((l) => l === 0)).toBe(true);
    expect(hinge.some((l) => l > 0)).toBe(true);
  });
  it("rejects bad settings with a clear message", () => {
    const lp = { policyChosen: [1], policyRejected: [0], referenceChosen: null, referenceRejected: null };
    expect(() => dpoLoss(lp, { kind: "sigmoid", beta: 0 })).toThrow(/beta must be > 0/);
    expect(() => dpoLoss(lp, { kind: "sigmoid", beta: 0.1, labelSmoothing: 0.5 })).toThrow(/label_smoothing/);
    expect(() => dpoLoss(lp, { kind: "kto" as never, beta: 0.1 })).toThrow(/unknown DPO loss "kto"/);
  });
});

describe("SamPO", () => {
  const S = exp.sampo;
  it("sums over the fork's torch.multinomial subsets and the DPO loss on them equal the reference", () => {
    const pol = keptSums(S.policy_token_logps, S.lengths, S.policy_mask);
    const ref = keptSums(S.reference_token_logps, S.lengths, S.reference_mask);
    expect(maxRelErr(pol, S.policy_sums)).toBeLessThan(TOL);
    expect(maxRelErr(ref, S.reference_sums)).toBeLessThan(TOL);
    const B = S.lengths.length / 2;
    const lp = { policyChosen: pol.subarray(0, B), policyRejected: pol.subarray(B), referenceChosen: ref.subarray(0, B), referenceRejected: ref.subarray(B) };
    const r = dpoLoss(lp, { kind: "sampo", beta: S.beta });
    expect(maxRelErr(r.losses, S.losses)).toBeLessThan(TOL);
    expect(relErr(r.loss, S.loss)).toBeLessThan(TOL);
    expect(maxRelErr(r.gradChosen, S.grad_chosen)).toBeLessThan(TOL);
    expect(maxRelErr(r.gradRejected, S.grad_rejected)).toBeLessThan(TOL);
    const m = dpoMetrics(r, lp);
    for (const [k, v] of Object.entries(S.metrics)) expect(relErr(m[k as keyof typeof m], v, 1e-9), k).toBeLessThan(TOL);
  });

  it("the fork's masks keep min(T_c, T_r) tokens per side (sanity of the fixture itself)", () => {
    const B = S.lengths.length / 2;
    for (const mask of [S.policy_mask, S.reference_mask]) {
      const kept = keptSums(mask, S.lengths, mask.map(() => 1));
      for (let b = 0; b < B; b++) {
        const tm = Math.min(S.lengths[b], S.lengths[b + B]);
        expect(kept[b]).toBe(tm);
        expect(kept[b + B]).toBe(tm);
      }
    }
  });

  it("our draws keep exactly min(T_c, T_r) valid tokens on each side of every pair; the shorter side keeps all", () => {
    const counts = [5, 9, 7, 7, 3, 12, 1, 6, 0, 4];
    const d = sampoDraw(new Rng(3), counts);
    const kept = keptSums(d.weights, counts, d.weights.map(() => 1)); // Σ weights per row
    const B = counts.length / 2;
    for (let b = 0; b < B; b++) {
      const tm = Math.min(counts[b], counts[b + B]);
      expect(kept[b]).toBe(tm);
      expect(kept[b + B]).toBe(tm);
      expect(d.kept[b]).toBe(tm);
    }
    // pair 0 (rows 0 and 5): chosen 5 < rejected 12 ⇒ chosen keeps all 5, rejected 5 of its 12
    const off = [0, 5, 14, 21, 28, 31, 43, 44, 50, 50, 54];
    const row = (r: number) => Array.from(d.weights.slice(off[r], off[r + 1]));
    expect(row(0)).toEqual([1, 1, 1, 1, 1]);
    expect(row(5).filter((w) => w === 1)).toHaveLength(5);
    // pair 2 (rows 2 and 7): chosen 7 > rejected 6 ⇒ chosen down-sampled to 6, rejected keeps all
    expect(row(2).filter((w) => w === 1)).toHaveLength(6);
    expect(row(7)).toEqual([1, 1, 1, 1, 1, 1]);
    // pair 3 (rows 3 and 8): an empty rejected response ⇒ nothing kept on either side
    expect(row(3)).toEqual([0, 0, 0, 0, 0, 0, 0]);
  });

  it("the same seed reproduces the same subset; another seed gives another", () => {
    const counts = [40, 17, 25, 33];
    const a = sampoDraw(new Rng(42).fork("sampo"), counts).weights;
    const b = sampoDraw(new Rng(42).fork("sampo"), counts).weights;
    const c = sampoDraw(new Rng(43).fork("sampo"), counts).weights;
    expect(Array.from(a)).toEqual(Array.from(b));
    expect(Array.from(a)).not.toEqual(Array.from(c));
  });

  it("draw for draw equal to the reference script's port of tune's generator and sampler", () => {
    const Z = exp.sampler;
    const r = new Rng(Z.seed);
    expect([r.nextU32(), r.nextU32(), r.nextU32(), r.nextU32()]).toEqual(Z.first_u32);
    const f = new Rng(Z.seed).fork(Z.fork_label);
    Z.draws.forEach(([L, k], i) => expect(Array.from(sampleWithoutReplacement(f, L, k))).toEqual(Z.expected[i]));
  });

  it("is uniform: each of L positions is kept with probability k/L (20,000 draws, 5σ bound)", () => {
    const rng = new Rng(7);
    const L = 10;
    const k = 3;
    const n = 20000;
    const hits = new Array<number>(L).fill(0);
    for (let i = 0; i < n; i++) for (const j of sampleWithoutReplacement(rng, L, k)) hits[j]++;
    const p = k / L;
    const sd = Math.sqrt(n * p * (1 - p));
    for (const h of hits) expect(Math.abs(h - n * p)).toBeLessThan(5 * sd);
  });
});

describe("DeepSpeed WarmupDecayLR", () => {
  it("log warmup then linear decay with DeepSpeed's gamma (W = max(2, W))", () => {
    const s = new WarmupDecayLR({ warmupMinLr: 0, warmupMaxLr: 1e-3, warmupNumSteps: 4, totalNumSteps: 10 });
    const gammas = Array.from({ length: 12 }, (_, i) => s.gamma(i));
    const want = [0, Math.log(2) / Math.log(4), Math.log(3) / Math.log(4), 1, 1, 5 / 6, 4 / 6, 3 / 6, 2 / 6, 1 / 6, 0, 0];
    gammas.forEach((g, i) => expect(g).toBeCloseTo(want[i], 14));
    expect(new WarmupDecayLR({ warmupMinLr: 0, warmupMaxLr: 1, warmupNumSteps: 0, totalNumSteps: 5 }).warmupNumSteps).toBe(2);
    const lin = new WarmupDecayLR({ warmupMinLr: 1e-4, warmupMaxLr: 1e-3, warmupNumSteps: 4, totalNumSteps: 10, warmupType: "linear" });
    expect(lin.lrAtIteration(2)).toBeCloseTo(1e-4 + 9e-4 * 0.5, 15);
  });
  it("the trainer's view: update 1 at the initial lr, update k ≥ 2 at lr(k − 2)", () => {
    const s = new WarmupDecayLR({ warmupMinLr: 0, warmupMaxLr: 2e-3, warmupNumSteps: 3, totalNumSteps: 8 });
    expect(s.lrAt(0)).toBe(0);
    expect(s.lrAt(1)).toBe(0); // γ(0) = ln 1 / ln 3
    expect(s.lrAt(2)).toBeCloseTo((2e-3 * Math.log(2)) / Math.log(3), 15);
    expect(s.lrAt(4)).toBeCloseTo(2e-3, 15);
    expect(s.lrAt(5)).toBeCloseTo((2e-3 * 4) / 5, 15);
    expect(new WarmupDecayLR({ warmupMinLr: 0, warmupMaxLr: 1, warmupNumSteps: 3, totalNumSteps: 8, initialLr: 1 }).lrAt(0)).toBe(1);
  });
  it("makeSchedule names it warmup_decay_log with HF's filling; other names are the HF schedules", () => {
    const s = makeSchedule("warmup_decay_log", 4e-7, 10, 100) as WarmupDecayLR;
    expect(s).toBeInstanceOf(WarmupDecayLR);
    expect([s.warmupMinLr, s.warmupMaxLr, s.warmupNumSteps, s.totalNumSteps, s.warmupType]).toEqual([0, 4e-7, 10, 100, "log"]);
    expect(makeSchedule("cosine", 1, 2, 10)).toBeInstanceOf(LrSchedule);
    expect(() => makeSchedule("step" as never, 1, 0, 1)).toThrow(/unknown lr schedule "step"/);
  });
});

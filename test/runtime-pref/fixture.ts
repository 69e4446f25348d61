// Shared loading of the preference-tuning reference fixture (test/fixtures/pref, made by make_pref_fixture.py).
//
// Why this exists: the loss, sampler and model tests read the same JSON; this types it once.

import { readFileSync } from "node:fs";
import path from "node:path";

const DIR = path.join(path.dirname(new URL(import.meta.url).pathname), "..", "fixtures", "pref");

type Metrics = Record<string, number>;

export interface LossCase {
  kind: "sigmoid" | "robust" | "hinge" | "ipo";
  beta: number;
  label_smoothing: number;
  reference_free: boolean;
  losses: number[];
  loss: number;
  grad_chosen: number[];
  grad_rejected: number[];
  chosen_rewards: number[];
  rejected_rewards: number[];
  metrics: Metrics;
}

export interface RunLog {
  loss: number[];
  grad_norm: number[];
  learning_rate: number[];
  metrics: Metrics[];
  grads_step1: Record<string, number[]>;
  final: Record<string, number[]>;
}

export interface PrefExpected {
  torch: string;
  losses: {
    policy_chosen: number[];
    policy_rejected: number[];
    reference_chosen: number[];
    reference_rejected: number[];
    cases: LossCase[];
  };
  sampo: {
    lengths: number[];
    policy_token_logps: number[];
    reference_token_logps: number[];
    policy_mask: number[];
    reference_mask: number[];
    policy_sums: number[];
    reference_sums: number[];
    beta: number;
    losses: number[];
    loss: number;
    grad_chosen: number[];
    grad_rejected: number[];
    metrics: Metrics;
  };
  sampler: { seed: number; first_u32: number[]; fork_label: string; draws: [number, number][]; expected: number[][] };
  model: {
    pairs: [number[], number[], number[]][];
    micro_pairs: number;
    lora: { r: number; alpha: number; targets: string[] };
    steps: number;
    lr: number;
    warmup: number;
    max_grad_norm: number;
    weight_decay: number;
    runs: Record<"sigmoid" | "ipo" | "hinge" | "sampo", RunLog>;
  };
}

export function loadPrefExpected(): PrefExpected {
  return JSON.parse(readFileSync(path.join(DIR, "expected.json"), "utf8")) as PrefExpected;
}

/** |a − b| / max(|b|, floor): relative error that tolerates values near 0. */
export function relErr(a: number, b: number, floor = 1e-12): number {
  return Math.abs(a - b) / Math.max(Math.abs(b), floor);
}

export function maxRelErr(a: ArrayLike<number>, b: ArrayLike<number>, floor = 1e-12): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, relErr(a[i], b[i], floor));
  return m;
}

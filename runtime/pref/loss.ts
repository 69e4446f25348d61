// DPO-family losses on per-pair log-probabilities, their gradients, and TRL's reward metrics.
//
// Why this exists: the loss is a function of four numbers per pair (policy and reference log-probs of the
// chosen and the rejected response), so it is computed here in float64 with its analytic gradient with respect
// to the two policy numbers; the trainer backpropagates that gradient through the model (a surrogate
// Σ g_i · logπ_i has exactly the loss's parameter gradient). Formulas: TRL `DPOTrainer.dpo_loss`
// (algorithms.md §6), with ρ_c = logπθ(y_c) − logπref(y_c), δ = ρ_c − ρ_r, z = βδ, batch loss = mean:
//   sigmoid  −(1−ε)·logσ(z) − ε·logσ(−z)                        (cDPO label smoothing ε)
//   robust   (−(1−ε)·logσ(z) + ε·logσ(−z)) / (1 − 2ε)
//   hinge    relu(1 − z)                                         (torch relu: gradient 0 at the kink)
//   ipo      (δ − 1/(2β))², log-probs already averaged per completion token by the caller
//   sampo    the sigmoid loss on down-sampled sums (algorithms.md §7; sampling is in sampo.ts)
// Reference-free: logπref := 0. Metrics (TRL names): rewards/chosen = β·ρ_c, rewards/rejected = β·ρ_r,
// rewards/accuracies = mean 1[β·ρ_c > β·ρ_r] (strict), rewards/margins = β(ρ_c − ρ_r), logps/* = policy values.

export type DpoLossKind = "sigmoid" | "robust" | "hinge" | "ipo" | "sampo";

export const DPO_LOSS_KINDS: readonly DpoLossKind[] = ["sigmoid", "robust", "hinge", "ipo", "sampo"];

export interface PairLogps {
  policyChosen: ArrayLike<number>;
  policyRejected: ArrayLike<number>;
  /** null ⇒ reference-free (logπref := 0). */
  referenceChosen: ArrayLike<number> | null;
  referenceRejected: ArrayLike<number> | null;
}

export interface DpoLossOptions {
  kind: DpoLossKind;
  beta: number;
  /** ε ∈ [0, 0.5); used by sigmoid, sampo and robust. */
  labelSmoothing?: number;
}

export interface DpoLossResult {
  /** Per-pair losses. */
  losses: Float64Array;
  /** Mean over pairs (TRL's batch loss). */
  loss: number;
  /** ∂loss/∂policyChosen_i and ∂loss/∂policyRejected_i of the *mean* loss. */
  gradChosen: Float64Array;
  gradRejected: Float64Array;
  chosenRewards: Float64Array;
  rejectedRewards: Float64Array;
}

/** log σ(x), stable for any sign (= −softplus(−x)). */
export function logSigmoid(x: number): number {
  return x >= 0 ? -Math.log1p(Math.exp(-x)) : x - Math.log1p(Math.exp(x));
}

/** σ(x), stable. */
export function sigmoid(x: number): number {
  if (x >= 0) return 1 / (1 + Math.exp(-x));
  const e = Math.exp(x);
  return e / (1 + e);
}

/** Loss of one pair as a function of δ, and dLoss/dδ. */
function pairLoss(kind: DpoLossKind, beta: number, eps: number, delta: number): { l: number; dl: number } {
  const z = beta * delta;
  switch (kind) {
    case "sigmoid":
    case "sampo":
      // d/dz[−logσ(z)] = −σ(−z); d/dz[−logσ(−z)] = σ(z)
      return { l: -(1 - eps) * logSigmoid(z) - eps * logSigmoid(-z), dl: beta * (-(1 - eps) * sigmoid(-z) + eps * sigmoid(z)) };
    case "robust": {
      const k = 1 / (1 - 2 * eps);
      return { l: k * (-(1 - eps) * logSigmoid(z) + eps * logSigmoid(-z)), dl: k * beta * (-(1 - eps) * sigmoid(-z) - eps * sigmoid(z)) };
    }
    case "hinge": {
      const m = 1 - z;
      return { l: Math.max(0, m), dl: m > 0 ? -beta : 0 };
    }
    case "ipo": {
      const d = delta - 1 / (2 * beta);
      return { l: d * d, dl: 2 * d };
    }
  }
}

export function dpoLoss(lp: PairLogps, opts: DpoLossOptions): DpoLossResult {
  const n = lp.policyChosen.length;
  if (lp.policyRejected.length !== n) throw new Error(`dpoLoss: ${n} chosen vs ${lp.policyRejected.length} rejected log-probs`);
  if ((lp.referenceChosen === null) !== (lp.referenceRejected === null)) throw new Error("dpoLoss: give both reference arrays or neither");
  if (lp.referenceChosen && (lp.referenceChosen.length !== n || lp.referenceRejected!.length !== n)) {
    throw new Error("dpoLoss: reference log-probs do not match the policy's pair count");
  }
  if (!DPO_LOSS_KINDS.includes(opts.kind)) throw new Error(`unknown DPO loss "${String(opts.kind)}"; expected ${DPO_LOSS_KINDS.join(", ")}`);
  if (!(opts.beta > 0)) throw new Error(`DPO beta must be > 0, got ${opts.beta}`);
  const eps = opts.labelSmoothing ?? 0;
  if (!(eps >= 0 && eps < 0.5)) throw new Error(`DPO label_smoothing must be in [0, 0.5), got ${eps}`);
  const out: DpoLossResult = {
    losses: new Float64Array(n), loss: 0, gradChosen: new Float64Array(n), gradRejected: new Float64Array(n),
    chosenRewards: new Float64Array(n), rejectedRewards: new Float64Array(n),
  };
  for (let i = 0; i < n; i++) {
    const rc = lp.policyChosen[i] - (lp.referenceChosen ? lp.referenceChosen[i] : 0);
    const rr = lp.policyRejected[i] - (lp.referenceRejected ? lp.referenceRejected[i] : 0);
    const { l, dl } = pairLoss(opts.kind, opts.beta, eps, rc - rr);
    out.losses[i] = l;
    out.gradChosen[i] = dl / n;
    out.gradRejected[i] = -dl / n;
    out.chosenRewards[i] = opts.beta * rc;
    out.rejectedRewards[i] = opts.beta * rr;
    out.loss += l;
  }
  out.loss = n > 0 ? out.loss / n : 0;
  return out;
}

/** TRL's metric names for one batch (means over its pairs). */
export const DPO_METRICS = [
  "rewards/chosen", "rewards/rejected", "rewards/accuracies", "rewards/margins", "logps/chosen", "logps/rejected",
] as const;

export type DpoMetricName = (typeof DPO_METRICS)[number];

const mean = (a: ArrayLike<number>): number => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i];
  return a.length > 0 ? s / a.length : Number.NaN;
};

/** rewards/* and logps/* of one batch, as TRL `get_batch_loss_metrics` computes them. */
export function dpoMetrics(r: DpoLossResult, lp: Pick<PairLogps, "policyChosen" | "policyRejected">): Record<DpoMetricName, number> {
  const n = r.chosenRewards.length;
  const acc = new Float64Array(n);
  const margins = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    acc[i] = r.chosenRewards[i] > r.rejectedRewards[i] ? 1 : 0;
    margins[i] = r.chosenRewards[i] - r.rejectedRewards[i];
  }
  return {
    "rewards/chosen": mean(r.chosenRewards),
    "rewards/rejected": mean(r.rejectedRewards),
    "rewards/accuracies": mean(acc),
    "rewards/margins": mean(margins),
    "logps/chosen": mean(lp.policyChosen),
    "logps/rejected": mean(lp.policyRejected),
  };
}

// train (method = dpo): DPO / IPO / hinge / SamPO on preference pairs with
// runtime/pref. The stage trains its own copy of the policy (see policy.ts);
// the reference is chosen as the recipe says: the `from` stage itself (SFT →
// DPO: a frozen snapshot of the SFT adapter), the base model with the adapter
// disabled, another model, or none (reference-free). Iterative rounds are
// separate graph nodes; round i > 1 starts policy and reference from round
// i − 1's result with a fresh optimizer and schedule.
import type { GraphNode } from "../../../compiler/graph.js";
import { DpoTrainer, microBatches, setupRound, tokenizePreferenceRows, type PrefExample, type ReferenceSpec } from "../../pref/index.js";
import type { DpoLossKind } from "../../pref/loss.js";
import type { PrefScheduleKind } from "../../pref/warmup-decay.js";
import { epochOrder } from "../batches.js";
import { buildTrainable, type AdapterParams } from "../policy.js";
import { optimizerOptions, planTraining } from "./train.js";
import { bosFor } from "./tokenize.js";
import { NodeCheckpoints, yieldToEventLoop } from "./train-checkpoint.js";
import { ExecError, Interrupted, type ExecEnv, type ModelValue, type OpHandler, type TokensValue } from "../types.js";

function prefExamples(node: GraphNode, tokens: TokensValue, m: ModelValue, env: ExecEnv, label: string): PrefExample[] {
  const p = node.params;
  const t = tokens.template as { name: string; prompt: string; completion?: string; eos: boolean; system?: string };
  const maxLength = Math.min(Number(p["max_length"] ?? 1024), env.smoke ? env.smoke.cutoff : Infinity);
  const maxPromptLength = Math.min(Number(p["max_prompt_length"] ?? 512), Math.floor(maxLength * 0.75));
  const { examples, report } = tokenizePreferenceRows([...tokens.pairs], m.tokenizer, { name: t.name, prompt: t.prompt, completion: t.completion, eos: t.eos }, {
    maxLength,
    maxPromptLength,
    truncation: p["truncation"] === "keep_end" ? "keep_end" : "keep_start",
    bosId: bosFor(m, t.prompt) ?? null,
    eosId: m.tokenizer.eosId,
    system: t.system,
  });
  const identical = report.identical.count > 0 ? `, ${report.identical.count} with chosen = rejected (rows ${report.identical.rows.slice(0, 10).join(", ")}${report.identical.count > 10 ? ", …" : ""})` : "";
  env.log(`${node.id}: ${label} ${report.pairs} pairs, ${report.truncatedPrompt} prompts and ${report.truncatedResponse} responses truncated${identical}`);
  env.metric({ node: node.id, split: label, pairs: report.pairs, truncated_prompt: report.truncatedPrompt, truncated_response: report.truncatedResponse, identical_pairs: report.identical.count });
  return examples;
}

function referenceSpec(node: GraphNode, inputs: Readonly<Record<string, unknown>>, adapter: AdapterParams | null): ReferenceSpec {
  const ref = node.inputs["reference"];
  if (!ref || node.params["reference"] === null || node.params["reference"] === "none") return { kind: "none" };
  if (ref.node === node.inputs["policy"]?.node) return { kind: "policy" };
  const m = inputs["reference"] as ModelValue;
  if (adapter && !m.adapter && !adapter.inherited) return { kind: "base" };
  return { kind: "model", model: m.model };
}

export const trainDpo: OpHandler = async (node, inputs, env) => {
  const p = node.params;
  const start = inputs["policy"] as ModelValue;
  const tokens = inputs["tokens"] as TokensValue;
  const train = prefExamples(node, tokens, start, env, "train");
  if (train.length === 0) throw new ExecError("T7107", `${node.id}: no preference pairs`, "the data pipeline kept no rows; check filters and splits");
  const validation = inputs["validation"] ? prefExamples(node, inputs["validation"] as TokensValue, start, env, "validation") : [];
  const seed = Number(p["seed"] ?? env.seed);
  const round = Number(p["round"] ?? 1);
  const adapterParams = (p["adapter"] ?? null) as AdapterParams | null;
  const adapter = adapterParams && round > 1 ? { ...adapterParams, inherited: true } : adapterParams;
  const plan = planTraining(node, train.length, env);
  if (plan.capped) env.substitute(node.id, `${plan.total} optimizer steps instead of the recipe's full run`);
  const built = buildTrainable(start, adapter, seed);
  const reference = referenceSpec(node, inputs, adapter);
  const setup = setupRound(round, { model: built.model, adapter: built.adapter }, { first: reference, seed });
  const trainer = new DpoTrainer(built.model, setup.params, setup.reference, {
    loss: String(p["loss"] ?? "sigmoid") as DpoLossKind,
    beta: Number(p["beta"] ?? 0.1),
    labelSmoothing: Number(p["label_smoothing"] ?? 0),
    schedule: String(p["schedule"] ?? "linear") as PrefScheduleKind,
    ...optimizerOptions(node, plan, seed),
  });
  const padId = start.config.padTokenId ?? start.tokenizer.eosId ?? 0;
  env.log(`${node.id}: ${String(p["loss"])} (beta ${String(p["beta"])}), round ${round}, ${plan.total} steps, reference: ${reference.kind}${p["loss"] === "sampo" ? `, SamPO seed ${seed}` : ""}`);
  const bar = env.progress(`train ${String(p["stage"])}${Number(p["rounds"] ?? 1) > 1 ? ` round ${round}` : ""}`, plan.total, "steps");
  const ckpt = new NodeCheckpoints(env, node, { model: built.model, config: start.config, adapter: built.adapter, baseName: start.standsInFor ?? start.baseDir }, setup.params, trainer);
  const resumed = await ckpt.resume();
  let step = resumed?.step ?? 0;
  let tokensSeen = resumed?.tokensSeen ?? 0;
  const resumedTokens = tokensSeen;
  let first: Record<string, number> | null = (resumed?.history.find((r) => typeof r["loss"] === "number") as Record<string, number> | undefined) ?? null;
  let last: Record<string, number> = {};
  let lastLr: number | null = null;
  let epochAt = 0;
  const stepContext = () => ({ epoch: epochAt, total: plan.total, epochs: plan.epochs, microBatch: plan.microBatch, lastLr, tokensSeen });
  if (resumed) bar.tick(step);
  const t0 = performance.now();
  for (let epoch = 0; step < plan.total; epoch++) {
    const order = epochOrder(train.length, seed, epoch).map((i) => train[i]!);
    const micro = microBatches(order, plan.microBatch, padId);
    const perEpoch = Math.ceil(micro.length / plan.gradAccum);
    for (let i = 0; i < micro.length && step < plan.total; i += plan.gradAccum) {
      if (epoch * perEpoch + i / plan.gradAccum < step) continue; // done before the checkpoint this run resumed from
      await yieldToEventLoop(); // lets a SIGINT/SIGTERM handler run between steps (compute is synchronous)
      if (env.stopRequested()) throw new Interrupted(await ckpt.save(step, stepContext()));
      const log = trainer.step(micro.slice(i, i + plan.gradAccum));
      step = log.step;
      lastLr = log.metrics["learning_rate"] ?? null;
      tokensSeen += log.tokens;
      epochAt = step / perEpoch;
      first ??= log.metrics;
      last = log.metrics;
      const tps = (tokensSeen - resumedTokens) / ((performance.now() - t0) / 1000);
      ckpt.metric({ node: node.id, stage: p["stage"], round, step, epoch: epochAt, ...log.metrics, tokens_per_second: tps, ...(log.sampo ? { sampo_seed: log.sampo.seed } : {}) });
      bar.tick(1, { loss: log.metrics["loss"] ?? NaN, "rewards/accuracies": log.metrics["rewards/accuracies"] ?? NaN, "rewards/margins": log.metrics["rewards/margins"] ?? NaN, "tok/s": Math.round(tps) });
      if (!Number.isFinite(log.metrics["loss"] ?? NaN)) throw new ExecError("T7108", `${node.id}: loss became ${log.metrics["loss"]} at step ${step}`, "lower `lr` or `beta`");
      await ckpt.afterStep(step, plan.total, stepContext());
    }
  }
  await ckpt.save(step, stepContext());
  let evalNote = "";
  if (validation.length > 0) {
    const r = trainer.evaluate(microBatches(validation, plan.microBatch, padId));
    ckpt.metric({ node: node.id, stage: p["stage"], round, step, ...r.metrics });
    evalNote = `, eval_loss ${(r.metrics["eval_loss"] ?? NaN).toFixed(4)}`;
  }
  bar.done(`loss ${(first?.["loss"] ?? NaN).toFixed(4)} → ${(last["loss"] ?? NaN).toFixed(4)}, margin ${(last["rewards/margins"] ?? NaN).toFixed(4)}${evalNote}`);
  setup.dispose();
  const name = String(p["stage"]);
  const result: ModelValue = { kind: "model", name, config: start.config, model: built.model, tokenizer: start.tokenizer, baseDir: start.baseDir, adapter: built.adapter, adapterParams: adapter as unknown as Record<string, unknown> | null, standsInFor: start.standsInFor };
  return { model: result };
};

// train (sft / full / pretrain): builds the stage's trainable copy of its
// starting model, runs HF-Trainer-equivalent updates (runtime/train), shows a
// progress bar with loss, lr and tokens/s, logs metrics with HF's names,
// evaluates the validation split, writes checkpoints in HF Trainer's layout
// (every save_steps, on SIGINT, and at the end; a resumed run continues from
// the newest one, see train-checkpoint.ts) and a loss-curve SVG.
import { join } from "node:path";
import type { GraphNode } from "../../../compiler/graph.js";
import { writeRunFile as writeFileAtomic } from "../files.js";
import { SftTrainer, evalLoss, fullParams, loraParams } from "../../train/step.js";
import { totalSteps, warmupSteps, type ScheduleKind } from "../../train/schedule.js";
import { epochWindows, evalBatches, packForStage, type TrainRow } from "../batches.js";
import { cutoffOf } from "./tokenize.js";
import { buildTrainable, type AdapterParams } from "../policy.js";
import { lossCurveSvg } from "../svg.js";
import { trainDpo } from "./train-dpo.js";
import { NodeCheckpoints, yieldToEventLoop } from "./train-checkpoint.js";
import { ExecError, Interrupted, type ExecEnv, type ModelValue, type OpHandler, type TokensValue, type Value } from "../types.js";

const SCHEDULES: Record<string, ScheduleKind> = { linear: "linear", cosine: "cosine", constant: "constant", constant_with_warmup: "constant_with_warmup" };

function modelIn(node: GraphNode, v: Value | undefined, port: string): ModelValue {
  if (!v || v.kind !== "model") throw new Error(`internal: ${node.id} expected a model on ${port}`);
  return v;
}

function tokensIn(node: GraphNode, v: Value | undefined, port: string): TokensValue {
  if (!v || v.kind !== "tokens") throw new Error(`internal: ${node.id} expected tokens on ${port}`);
  return v;
}

/** Warmup as HF takes it: a ratio of the total steps (`3%`) or a number of steps (`100 steps`). */
export function warmupOf(p: unknown, total: number): number {
  if (typeof p === "number") return p >= 1 ? Math.round(p) : warmupSteps(total, 0, p);
  if (p && typeof p === "object" && "value" in p) {
    const q = p as { value: number; unit: string | null };
    return q.unit === "%" ? warmupSteps(total, 0, q.value / 100) : Math.round(q.value);
  }
  return 0;
}

export interface TrainPlan {
  epochs: number;
  microBatch: number;
  gradAccum: number;
  total: number;
  warmup: number;
  capped: boolean;
}

/** The optimizer and schedule settings both trainers take, from a train node's params. */
export function optimizerOptions(node: GraphNode, plan: TrainPlan, seed: number) {
  const p = node.params;
  const betas = (p["betas"] as number[] | undefined) ?? [0.9, 0.999];
  return {
    lr: Number(p["lr"]),
    warmupSteps: plan.warmup,
    totalSteps: plan.total,
    weightDecay: Number(p["weight_decay"] ?? 0),
    maxGradNorm: Number(p["max_grad_norm"] ?? 1),
    adam: { beta1: betas[0]!, beta2: betas[1]!, eps: Number(p["eps"] ?? 1e-8) },
    seed,
  };
}

export function planTraining(node: GraphNode, examples: number, env: ExecEnv): TrainPlan {
  const p = node.params;
  const microBatch = Number(p["micro_batch"] ?? 1);
  const gradAccum = Math.max(1, Number(p["grad_accum"] ?? 1) * Number(p["world_size"] ?? 1));
  const epochs = Number(p["epochs"] ?? 1);
  // max_steps overrides epochs (HF): the data is cycled epoch after epoch until it is reached.
  const maxSteps = typeof p["max_steps"] === "number" ? p["max_steps"] : null;
  const full = maxSteps ?? totalSteps({ epochs, batchesPerEpoch: Math.ceil(examples / microBatch), gradAccum, rounding: "ceil" });
  const total = env.smoke ? Math.min(full, env.smoke.steps) : full;
  return { epochs, microBatch, gradAccum, total, warmup: warmupOf(p["warmup"], total), capped: total < full };
}

export const trainSft: OpHandler = async (node, inputs, env) => {
  const p = node.params;
  if (p["method"] === "dpo") return trainDpo(node, inputs, env);
  const start = modelIn(node, inputs["policy"], "policy");
  const data = tokensIn(node, inputs["tokens"], "tokens");
  const validation = inputs["validation"] ? tokensIn(node, inputs["validation"], "validation") : null;
  const schedule = SCHEDULES[String(p["schedule"] ?? "linear")];
  if (!schedule) throw new ExecError("T7106", `${node.id}: schedule \`${String(p["schedule"])}\` is not available in process`, `in-process schedules: ${Object.keys(SCHEDULES).join(", ")}`);
  if (data.examples.length === 0) throw new ExecError("T7107", `${node.id}: no training examples`, "the data pipeline kept no rows; check filters and splits");
  const seed = Number(p["seed"] ?? env.seed);
  const adapter = (p["adapter"] ?? null) as AdapterParams | null;
  // packing = true: pretrain cuts the concatenated documents into rows of `cutoff` tokens; SFT packs whole examples best-fit-decreasing.
  const packed = p["packing"] === true ? packForStage(String(p["method"]), data.examples, cutoffOf(node, env)) : null;
  const rows: TrainRow[] = packed ? packed.rows : [...data.examples];
  if (packed) env.log(`${node.id}: ${packed.summary}`);
  const plan = planTraining(node, rows.length, env);
  if (plan.capped) env.substitute(node.id, `${plan.total} optimizer steps instead of the recipe's full run`);

  const built = buildTrainable(start, adapter, seed);
  if (built.quantizedBytes !== null) env.log(`${node.id}: base weights in 4-bit ${adapter!.quant_type}${adapter!.double_quant ? " + double quant" : ""}: ${(built.quantizedBytes / 2 ** 20).toFixed(2)} MiB`);
  const params = built.adapter ? loraParams(built.adapter) : fullParams(built.model);
  const trainableCount = params.reduce((n, q) => n + q.variable.size, 0);
  env.log(`${node.id}: ${built.adapter ? `${adapter!.method} r=${adapter!.r}` : (p["method"] === "pretrain" ? "pretraining (all weights)" : "full fine-tune")}, ${trainableCount} trainable parameters, ${plan.total} steps (micro_batch ${plan.microBatch} × accumulation ${plan.gradAccum}, warmup ${plan.warmup})`);
  const trainer = new SftTrainer(built.model, params, { ...optimizerOptions(node, plan, seed), schedule });
  const ckpt = new NodeCheckpoints(env, node, { model: built.model, config: start.config, adapter: built.adapter, baseName: start.standsInFor ?? start.baseDir }, params, trainer);
  const padId = start.config.padTokenId ?? start.tokenizer.eosId ?? 0;
  const bar = env.progress(`train ${String(p["stage"])}`, plan.total, "steps");
  const curve: [number, number][] = [];
  const resumed = await ckpt.resume();
  let step = resumed?.step ?? 0;
  let tokensSeen = resumed?.tokensSeen ?? 0;
  for (const r of resumed?.history ?? []) if (typeof r["loss"] === "number" && typeof r["step"] === "number") curve.push([r["step"], r["loss"]]);
  if (resumed) bar.tick(step);
  const t0 = performance.now();
  const resumedTokens = tokensSeen;
  let lastLr: number | null = null;
  const stepContext = (epochFloat: number) => ({ epoch: epochFloat, total: plan.total, epochs: plan.epochs, microBatch: plan.microBatch, lastLr, tokensSeen });
  let epochAt = 0;
  for (let epoch = 0; step < plan.total; epoch++) {
    const windows = epochWindows(rows, plan.microBatch, plan.gradAccum, padId, seed, epoch);
    const perEpoch = windows.length;
    for (const [i, w] of windows.entries()) {
      if (step >= plan.total) break;
      if (epoch * perEpoch + i < step) continue; // done before the checkpoint this run resumed from
      await yieldToEventLoop(); // lets a SIGINT/SIGTERM handler run between steps (compute is synchronous)
      if (env.stopRequested()) throw new Interrupted(await ckpt.save(step, stepContext(epochAt)));
      const log = trainer.step(w);
      step = log.step;
      lastLr = log.lr;
      tokensSeen += log.tokens;
      epochAt = step / perEpoch;
      const tps = (tokensSeen - resumedTokens) / ((performance.now() - t0) / 1000);
      curve.push([step, log.loss]);
      ckpt.metric({ node: node.id, stage: p["stage"], step, epoch: epochAt, loss: log.loss, learning_rate: log.lr, grad_norm: log.gradNorm, tokens_per_second: tps });
      bar.tick(1, { loss: log.loss, lr: log.lr, "tok/s": Math.round(tps) });
      if (!Number.isFinite(log.loss)) throw new ExecError("T7108", `${node.id}: loss became ${log.loss} at step ${step}`, "lower `lr`, or check the data for empty completions");
      await ckpt.afterStep(step, plan.total, stepContext(epochAt));
    }
  }
  await ckpt.save(step, stepContext(epochAt));
  let evalLossValue: number | null = null;
  if (validation && validation.examples.length > 0) {
    // Pretraining measures validation the way it trains: documents concatenated into rows of `cutoff` tokens.
    const grouped = p["method"] === "pretrain" && p["packing"] === true && validationGroups(validation.examples, cutoffOf(node, env));
    const r = evalLoss(built.model, evalBatches(grouped || validation.examples, plan.microBatch, padId));
    evalLossValue = r.loss;
    ckpt.metric({ node: node.id, stage: p["stage"], step, eval_loss: r.loss });
  }
  const last = curve.length > 0 ? curve[curve.length - 1]![1] : Number.NaN;
  bar.done(`loss ${curve[0]?.[1].toFixed(4)} → ${last.toFixed(4)}${evalLossValue !== null ? `, eval_loss ${evalLossValue.toFixed(4)}` : ""}`);

  const stage = String(p["stage"]);
  const result: ModelValue = {
    kind: "model",
    name: stage,
    config: start.config,
    model: built.model,
    tokenizer: start.tokenizer,
    baseDir: start.baseDir,
    adapter: built.adapter,
    adapterParams: adapter as unknown as Record<string, unknown> | null,
    standsInFor: start.standsInFor,
  };
  const series = [{ label: "training loss", color: "#1f77b4", points: curve }];
  if (evalLossValue !== null) series.push({ label: "validation loss", color: "#d62728", points: [[step, evalLossValue]] });
  await writeFileAtomic(join(env.runDir, "plots", `${stage}-loss.svg`), lossCurveSvg(`${stage}: loss per optimizer step`, series));
  return { model: result };
};

/** Validation documents grouped into full rows, or null when they do not fill one row (then they are scored whole). */
function validationGroups(examples: readonly TrainRow[], cutoff: number): TrainRow[] | null {
  try {
    return packForStage("pretrain", examples, cutoff).rows;
  } catch {
    return null;
  }
}

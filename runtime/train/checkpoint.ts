// Training checkpoints in HF Trainer's layout, and resuming from them bit-identically.
//
// Why this exists: a run killed at step 900 of 1,000 must not start over, and the resumed run must produce the
// same adapter and losses as one that was never interrupted. A checkpoint therefore holds everything the next
// update depends on, as HF Trainer's `checkpoint-<step>/` does:
//
//   adapter_model.safetensors + adapter_config.json   (LoRA; PEFT layout)  — or model.safetensors + config.json
//   optimizer.safetensors   exact float32 parameters and AdamW moments (`param.<i>`, `state.<i>.exp_avg`,
//                           `state.<i>.exp_avg_sq`; names and per-parameter steps in the metadata). HF writes a
//                           torch pickle (optimizer.pt) here; ours is safetensors so no pickle is ever read.
//   scheduler.json          the schedule position (`last_epoch`) and last learning rate (HF: scheduler.pt)
//   rng_state.json          every RNG stream the trainer draws from (dropout, SamPO) (HF: rng_state.pth)
//   trainer_state.json      HF's keys (global_step, epoch, max_steps, log_history, …) + "tune": node, hash, tokens
//   training_args.json      the stage's settings as the graph gave them (HF: training_args.bin)
//
// The directory is assembled under a hidden temp name and renamed into place, so `checkpoint-<step>/` either
// exists complete or not at all; a resume picks the newest complete one whose node hash matches.

import { randomBytes } from "node:crypto";
import { mkdir, readdir, readFile, rename, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs";
import { writeFileAtomic } from "../io/atomic.js";
import { readAllF32, readSafetensorsHeader, writeSafetensors, type StWriteTensor } from "../io/safetensors.js";
import type { AdamWState } from "./adamw.js";
import type { TrainableParam } from "./params.js";
import type { TrainerState } from "./step.js";

export const OPTIMIZER_FILE = "optimizer.safetensors";
export const TRAINER_STATE_FILE = "trainer_state.json";
const CHECKPOINT_DIR = /^checkpoint-(\d+)$/;

/** A metric record as logged (no wall-clock time), kept in log_history and replayed on resume. */
export type LogRecord = Record<string, unknown>;

export interface CheckpointInput {
  /** Optimizer updates done. */
  step: number;
  epoch: number;
  maxSteps: number;
  numTrainEpochs: number;
  saveSteps: number;
  trainBatchSize: number;
  params: readonly TrainableParam[];
  state: TrainerState;
  /** Learning rate of the last update. */
  lastLr: number | null;
  logHistory: readonly LogRecord[];
  node: { id: string; hash: string };
  tokensSeen: number;
  args: Readonly<Record<string, unknown>>;
  /** Writes the weights in HF layout (PEFT adapter or model directory files) into the given directory. */
  writeWeights(dir: string): Promise<void>;
}

export interface LoadedCheckpoint {
  dir: string;
  step: number;
  state: TrainerState;
  /** Trainable values by parameter name, exactly as saved. */
  values: Map<string, { shape: number[]; data: Float32Array }>;
  logHistory: LogRecord[];
  tokensSeen: number;
}

export class CheckpointStateError extends Error {
  readonly code = "T7111";
  constructor(
    message: string,
    readonly hint: string,
  ) {
    super(message);
  }
}

/** Write `<parent>/checkpoint-<step>/` atomically (replacing one of the same step); returns its path. */
export async function writeTrainingCheckpoint(parent: string, c: CheckpointInput): Promise<string> {
  await mkdir(parent, { recursive: true });
  const target = join(parent, `checkpoint-${c.step}`);
  const tmp = join(parent, `.checkpoint-${c.step}.tmp-${process.pid}-${randomBytes(4).toString("hex")}`);
  await mkdir(tmp);
  try {
    await c.writeWeights(tmp);
    await writeSafetensors(join(tmp, OPTIMIZER_FILE), optimizerTensors(c.params, c.state.optimizer), optimizerMetadata(c.params, c.state.optimizer));
    await writeJson(join(tmp, "scheduler.json"), { last_epoch: c.step, _last_lr: c.lastLr === null ? [] : [c.lastLr] });
    await writeJson(join(tmp, "rng_state.json"), { format: "xoshiro128**", streams: c.state.rng });
    await writeJson(join(tmp, TRAINER_STATE_FILE), trainerStateJson(c));
    await writeJson(join(tmp, "training_args.json"), c.args);
    const old = (await exists(target)) ? `${tmp}-old` : null;
    if (old) await rename(target, old);
    await rename(tmp, target);
    if (old) await rm(old, { recursive: true, force: true });
    return target;
  } catch (e) {
    await rm(tmp, { recursive: true, force: true });
    throw e;
  }
}

function trainerStateJson(c: CheckpointInput): Record<string, unknown> {
  return {
    best_global_step: null,
    best_metric: null,
    best_model_checkpoint: null,
    epoch: c.epoch,
    eval_steps: c.saveSteps,
    global_step: c.step,
    is_hyper_param_search: false,
    is_local_process_zero: true,
    is_world_process_zero: true,
    log_history: c.logHistory,
    logging_steps: 1,
    max_steps: c.maxSteps,
    num_input_tokens_seen: c.tokensSeen,
    num_train_epochs: c.numTrainEpochs,
    save_steps: c.saveSteps,
    stateful_callbacks: {},
    total_flos: 0,
    train_batch_size: c.trainBatchSize,
    trial_name: null,
    trial_params: null,
    tune: { node: c.node.id, hash: c.node.hash, tokens_seen: c.tokensSeen, updates_done: c.state.updatesDone },
  };
}

function optimizerTensors(params: readonly TrainableParam[], opt: AdamWState): StWriteTensor[] {
  const out: StWriteTensor[] = [];
  params.forEach((p, i) => {
    const shape = [...p.variable.shape];
    out.push({ name: `param.${i}`, dtype: "F32", shape, data: Float32Array.from(p.variable.dataSync() as Float32Array) });
    const m = opt.moments[p.name];
    if (m) {
      out.push({ name: `state.${i}.exp_avg`, dtype: "F32", shape, data: m.m });
      out.push({ name: `state.${i}.exp_avg_sq`, dtype: "F32", shape, data: m.v });
    }
  });
  return out;
}

function optimizerMetadata(params: readonly TrainableParam[], opt: AdamWState): Record<string, string> {
  return {
    format: "pt",
    tune_optimizer: "adamw",
    param_names: JSON.stringify(params.map((p) => p.name)),
    steps: JSON.stringify(params.map((p) => opt.moments[p.name]?.step ?? 0)),
    options: JSON.stringify(opt.options),
  };
}

/** The newest complete `checkpoint-<n>/` under `parent` written by the node with `nodeHash`, or null. */
export async function latestCheckpoint(parent: string, nodeHash: string): Promise<string | null> {
  let names: string[];
  try {
    names = await readdir(parent);
  } catch {
    return null;
  }
  const steps = names.map((n) => CHECKPOINT_DIR.exec(n)).filter((m): m is RegExpExecArray => m !== null).map((m) => Number(m[1])).sort((a, b) => b - a);
  for (const step of steps) {
    const dir = join(parent, `checkpoint-${step}`);
    const state = await readJson(join(dir, TRAINER_STATE_FILE)).catch(() => null);
    const tune = (state as { tune?: { hash?: unknown } } | null)?.tune;
    if (tune?.hash === nodeHash && (await exists(join(dir, OPTIMIZER_FILE)))) return dir;
  }
  return null;
}

/** Read a checkpoint written by `writeTrainingCheckpoint` for the given parameters (names must match). */
export async function readTrainingCheckpoint(dir: string, params: readonly TrainableParam[]): Promise<LoadedCheckpoint> {
  const fail = (what: string): never => {
    throw new CheckpointStateError(`${dir}: ${what}`, "the checkpoint is damaged or from different settings; delete it to resume from the one before, or start a new run");
  };
  const state = (await readJson(join(dir, TRAINER_STATE_FILE)).catch((e: Error) => fail(`cannot read ${TRAINER_STATE_FILE}: ${e.message}`))) as Record<string, unknown>;
  const rng = (await readJson(join(dir, "rng_state.json")).catch((e: Error) => fail(`cannot read rng_state.json: ${e.message}`))) as { streams?: Record<string, number[]> };
  const file = join(dir, OPTIMIZER_FILE);
  const header = await readSafetensorsHeader(file);
  const meta = header.metadata ?? {};
  const names = parseJsonArray(meta["param_names"]) as string[] | null;
  const steps = parseJsonArray(meta["steps"]) as number[] | null;
  const options = meta["options"] ? (JSON.parse(meta["options"]) as AdamWState["options"]) : null;
  if (!names || !steps || !options) return fail(`${OPTIMIZER_FILE} lacks the tune optimizer metadata`);
  if (names.length !== params.length || names.some((n, i) => n !== params[i]!.name)) {
    return fail(`the checkpoint trains ${names.length} tensors (${names.slice(0, 3).join(", ")}…), this stage ${params.length}`);
  }
  const tensors = await readAllF32(file);
  const values = new Map<string, { shape: number[]; data: Float32Array }>();
  const moments: AdamWState["moments"] = {};
  params.forEach((p, i) => {
    const value = tensors.get(`param.${i}`);
    if (!value || value.data.length !== p.variable.size) fail(`param.${i} (${p.name}) is missing or has the wrong size`);
    values.set(p.name, value!);
    const m = tensors.get(`state.${i}.exp_avg`);
    const v = tensors.get(`state.${i}.exp_avg_sq`);
    if (m && v) moments[p.name] = { m: m.data, v: v.data, step: steps[i]! };
  });
  const tune = state["tune"] as { tokens_seen?: number; updates_done?: number } | undefined;
  const step = Number(state["global_step"]);
  if (!Number.isInteger(step) || step < 0) fail("trainer_state.json has no global_step");
  return {
    dir,
    step,
    state: { updatesDone: tune?.updates_done ?? step, optimizer: { options, moments }, rng: rng.streams ?? {} },
    values,
    logHistory: Array.isArray(state["log_history"]) ? (state["log_history"] as LogRecord[]) : [],
    tokensSeen: Number(tune?.tokens_seen ?? 0),
  };
}

/** Put the saved trainable values back into the variables. */
export function restoreParams(params: readonly TrainableParam[], loaded: LoadedCheckpoint): void {
  for (const p of params) {
    const v = loaded.values.get(p.name)!;
    const t = tf.tensor(v.data, p.variable.shape, "float32");
    p.variable.assign(t);
    t.dispose();
  }
}

/** HF's save_total_limit: keep the newest `limit` checkpoints under `parent`, delete older ones. */
export async function pruneCheckpoints(parent: string, limit: number): Promise<string[]> {
  if (!(limit > 0)) return [];
  const names = (await readdir(parent).catch(() => [] as string[])).filter((n) => CHECKPOINT_DIR.test(n));
  const old = names.sort((a, b) => Number(CHECKPOINT_DIR.exec(b)![1]) - Number(CHECKPOINT_DIR.exec(a)![1])).slice(limit);
  for (const n of old) await rm(join(parent, n), { recursive: true, force: true });
  return old;
}

function parseJsonArray(s: string | undefined): unknown[] | null {
  if (!s) return null;
  try {
    const v = JSON.parse(s) as unknown;
    return Array.isArray(v) ? v : null;
  } catch {
    return null;
  }
}

async function writeJson(path: string, value: unknown): Promise<void> {
  await writeFileAtomic(path, JSON.stringify(value, null, 2) + "\n");
}

async function readJson(path: string): Promise<unknown> {
  return JSON.parse(await readFile(path, "utf8")) as unknown;
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

// Checkpointing for the train ops (SFT, full, pretrain, DPO rounds): where a
// stage's checkpoints live in the run directory, when they are written
// (`save_steps`, `save_total_limit`, on SIGINT), and how a resumed run
// (`tune run --resume`) continues a training node from its newest checkpoint,
// replaying the logged metrics of the steps it does not redo, so the run's
// metrics.jsonl ends up as an uninterrupted run's would.
import { join } from "node:path";
import type { GraphNode } from "../../../compiler/graph.js";
import { modelTensors } from "../../checkpoint/save.js";
import { writeHfConfig } from "../../io/hf-config.js";
import { writePeftAdapter } from "../../io/peft.js";
import { writeSafetensors } from "../../io/safetensors.js";
import { writeFileAtomic } from "../../io/atomic.js";
import { latestCheckpoint, pruneCheckpoints, readTrainingCheckpoint, restoreParams, writeTrainingCheckpoint, type LogRecord } from "../../train/checkpoint.js";
import type { TrainableParam } from "../../train/params.js";
import type { TrainerState } from "../../train/step.js";
import type { LoraAdapter } from "../../lora/adapter.js";
import type { LlamaModel } from "../../model/llama.js";
import type { LlamaConfig } from "../../io/hf-config.js";
import type { ExecEnv } from "../types.js";

/** One turn of the event loop: signal handlers only run there, and a training step never awaits I/O. */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** HF TrainingArguments' default save_steps. */
export const DEFAULT_SAVE_STEPS = 500;

interface Stateful {
  exportState(): TrainerState;
  restoreState(s: TrainerState): void;
}

/** What a stage's checkpoints need to know about the weights being trained. */
export interface TrainedWeights {
  model: LlamaModel;
  config: LlamaConfig;
  adapter: LoraAdapter | null;
  /** base_model_name_or_path for adapter_config.json. */
  baseName: string;
}

export interface Resumed {
  step: number;
  tokensSeen: number;
  history: LogRecord[];
  dir: string;
}

function intParam(v: unknown): number | null {
  if (typeof v === "number") return v;
  if (v && typeof v === "object" && "value" in v && typeof (v as { value: unknown }).value === "number") return (v as { value: number }).value;
  return null;
}

/**
 * Checkpointing of one train node: `checkpoints/<stage>/checkpoint-<step>/` (rounds of an iterative stage:
 * `checkpoints/<stage>/round-<k>/checkpoint-<step>/`).
 */
export class NodeCheckpoints {
  readonly parent: string;
  readonly saveSteps: number;
  readonly limit: number | null;
  readonly history: LogRecord[] = [];
  private lastSaved = -1;

  constructor(
    private readonly env: ExecEnv,
    private readonly node: GraphNode,
    private readonly weights: TrainedWeights,
    private readonly params: readonly TrainableParam[],
    private readonly trainer: Stateful,
  ) {
    const p = node.params;
    const stage = String(p["stage"]);
    this.parent = Number(p["rounds"] ?? 1) > 1 ? join(env.runDir, "checkpoints", stage, `round-${Number(p["round"] ?? 1)}`) : join(env.runDir, "checkpoints", stage);
    this.saveSteps = intParam(p["save_steps"]) ?? DEFAULT_SAVE_STEPS;
    this.limit = intParam(p["save_total_limit"]);
  }

  /** Log a metric record and keep it for trainer_state.json's log_history. */
  metric(record: LogRecord): void {
    this.history.push(record);
    this.env.metric(record);
  }

  /** In a resumed run: restore parameters, optimizer and RNG state from the newest checkpoint of this node. */
  async resume(): Promise<Resumed | null> {
    if (!this.env.resumed) return null;
    const dir = await latestCheckpoint(this.parent, this.node.hash);
    if (!dir) return null;
    const loaded = await readTrainingCheckpoint(dir, this.params);
    restoreParams(this.params, loaded);
    this.trainer.restoreState(loaded.state);
    this.lastSaved = loaded.step;
    // Replay what the steps up to the checkpoint logged (the run dropped this node's older lines on resume).
    for (const r of loaded.logHistory) this.metric(r);
    this.env.log(`${this.node.id}: resumed from ${dir} (step ${loaded.step})`);
    return { step: loaded.step, tokensSeen: loaded.tokensSeen, history: loaded.logHistory, dir };
  }

  /** After an update: a checkpoint every save_steps (not at the last step; the final one is written by `final`). */
  async afterStep(step: number, total: number, ctx: StepContext): Promise<void> {
    if (step < total && step % this.saveSteps === 0) await this.save(step, ctx);
  }

  /** Save now (SIGINT) unless this step was just saved; returns the checkpoint directory (null before step 1). */
  async save(step: number, ctx: StepContext): Promise<string | null> {
    if (step === 0) return null;
    const path = join(this.parent, `checkpoint-${step}`);
    if (this.lastSaved === step) return path;
    const w = this.weights;
    const dir = await writeTrainingCheckpoint(this.parent, {
      step,
      epoch: ctx.epoch,
      maxSteps: ctx.total,
      numTrainEpochs: ctx.epochs,
      saveSteps: this.saveSteps,
      trainBatchSize: ctx.microBatch,
      params: this.params,
      state: this.trainer.exportState(),
      lastLr: ctx.lastLr,
      logHistory: this.history,
      node: { id: this.node.id, hash: this.node.hash },
      tokensSeen: ctx.tokensSeen,
      args: this.node.params,
      writeWeights: async (d) => {
        if (w.adapter) return writePeftAdapter(d, w.adapter.toPeftAdapter(w.baseName));
        await writeFileAtomic(join(d, "config.json"), JSON.stringify(writeHfConfig(w.config, { dtype: "float32" }), null, 2) + "\n");
        await writeSafetensors(join(d, "model.safetensors"), modelTensors(w.model, "F32"));
      },
    });
    this.lastSaved = step;
    if (this.limit !== null) {
      const removed = await pruneCheckpoints(this.parent, this.limit);
      if (removed.length > 0) this.env.log(`${this.node.id}: save_total_limit ${this.limit}: removed ${removed.join(", ")}`);
    }
    return dir;
  }
}

export interface StepContext {
  epoch: number;
  total: number;
  epochs: number;
  microBatch: number;
  lastLr: number | null;
  tokensSeen: number;
}

// Launcher configuration of an exported torch project: DeepSpeed JSON, accelerate YAML (DeepSpeed, FSDP,
// DDP or single process) and a pinned requirements.txt, all from the recipe's hardware block.
//
// Why this exists: these files decide whether a 70B run fits at all (ZeRO stage, offload, sharding), and a
// value the tools reject fails only on the cluster. So they are built as data here, with the fields the tools
// accept (DeepSpeed's `zero_optimization`, accelerate's `ClusterConfig`), and the values HF Trainer must keep
// consistent with its own arguments left as "auto" (batch sizes, accumulation, clipping, lr), which Trainer
// fills in (`HfTrainerDeepSpeedConfig.trainer_config_process`).
import { stringify } from "yaml";
import type { Json } from "../../compiler/graph.js";
import type { HardwareParams, TorchPlan } from "./plan.js";

export const DEEPSPEED_FILE = "deepspeed.json";
export const ACCELERATE_FILE = "accelerate.yaml";
export const ACCELERATE_SINGLE_FILE = "accelerate.single.yaml";

/** DeepSpeed config for `hw` (strategy deepspeed); `warmupDecay` adds SamPO's WarmupDecayLR scheduler. */
export function deepspeedConfig(hw: HardwareParams, opts: { warmupDecay: boolean }): Record<string, Json> {
  const stage = Math.max(0, Math.min(3, Math.trunc(hw.zero)));
  const zero: Record<string, Json> = {
    stage,
    overlap_comm: true,
    contiguous_gradients: true,
    reduce_bucket_size: "auto",
  };
  if (stage === 2) zero["allgather_bucket_size"] = 5e8;
  const offloadTarget = (): Record<string, Json> =>
    hw.offload === "nvme" ? { device: "nvme", nvme_path: "/local_nvme", pin_memory: true } : { device: "cpu", pin_memory: true };
  if (hw.offload !== "none" && stage >= 1) zero["offload_optimizer"] = offloadTarget();
  if (stage === 3) {
    if (hw.offload !== "none") zero["offload_param"] = offloadTarget();
    zero["stage3_prefetch_bucket_size"] = "auto";
    zero["stage3_param_persistence_threshold"] = "auto";
    zero["stage3_max_live_parameters"] = 1e9;
    zero["stage3_max_reuse_distance"] = 1e9;
    zero["stage3_gather_16bit_weights_on_model_save"] = true;
  }
  const config: Record<string, Json> = {
    bf16: { enabled: hw.precision === "bf16" },
    fp16: { enabled: hw.precision === "fp16" },
    zero_optimization: zero,
    gradient_accumulation_steps: "auto",
    gradient_clipping: "auto",
    train_batch_size: "auto",
    train_micro_batch_size_per_gpu: "auto",
    steps_per_print: 1e9,
    wall_clock_breakdown: false,
  };
  // ZeRO-Offload needs DeepSpeed's own (CPU) Adam; its hyperparameters come from TrainingArguments.
  if (hw.offload !== "none") config["optimizer"] = { type: "AdamW", params: { lr: "auto", betas: "auto", eps: "auto", weight_decay: "auto" } };
  if (opts.warmupDecay) {
    config["scheduler"] = {
      type: "WarmupDecayLR",
      params: { warmup_min_lr: "auto", warmup_max_lr: "auto", warmup_num_steps: "auto", total_num_steps: "auto", warmup_type: "log" },
    };
  }
  return config;
}

/** accelerate's config file for one node of the recipe's hardware (launch.sbatch overrides the machine fields). */
export function accelerateConfig(hw: HardwareParams): Record<string, Json> {
  const base: Record<string, Json> = {
    compute_environment: "LOCAL_MACHINE",
    debug: false,
    machine_rank: 0,
    main_training_function: "main",
    num_machines: 1,
    num_processes: hw.gpu === "cpu" ? 1 : hw.devices,
    rdzv_backend: "static",
    same_network: true,
    use_cpu: hw.gpu === "cpu",
  };
  const mixed = hw.precision === "bf16" || hw.precision === "fp16" ? hw.precision : "no";
  switch (hw.strategy) {
    case "deepspeed":
      // mixed precision comes from deepspeed.json; accelerate rejects it beside deepspeed_config_file.
      return {
        ...base,
        distributed_type: "DEEPSPEED",
        deepspeed_config: { deepspeed_config_file: DEEPSPEED_FILE, zero3_init_flag: hw.zero === 3, deepspeed_multinode_launcher: "standard" },
      };
    case "fsdp":
      return {
        ...base,
        distributed_type: "FSDP",
        mixed_precision: mixed,
        fsdp_config: {
          fsdp_auto_wrap_policy: "TRANSFORMER_BASED_WRAP",
          fsdp_transformer_layer_cls_to_wrap: "LlamaDecoderLayer",
          fsdp_backward_prefetch: "BACKWARD_PRE",
          fsdp_cpu_ram_efficient_loading: true,
          fsdp_forward_prefetch: false,
          fsdp_offload_params: hw.offload !== "none",
          fsdp_sharding_strategy: "FULL_SHARD",
          fsdp_state_dict_type: "SHARDED_STATE_DICT",
          fsdp_sync_module_states: true,
          fsdp_use_orig_params: true,
        },
      };
    case "ddp":
      return { ...base, distributed_type: hw.devices * hw.nodes > 1 ? "MULTI_GPU" : "NO", mixed_precision: mixed };
    default:
      return { ...base, distributed_type: "NO", num_processes: 1, mixed_precision: mixed };
  }
}

/** One process, no distribution: what launch.sh uses on a machine with a single GPU. */
export function singleProcessAccelerateConfig(hw: HardwareParams): Record<string, Json> {
  // launch.sh uses it only with a GPU visible (a CPU recipe run on a GPU machine too); TrainingArguments' bf16/fp16
  // decide mixed precision, as the program sees what the device supports.
  return { ...accelerateConfig({ ...hw, strategy: "single", devices: 1, nodes: 1, gpu: "gpu" }), mixed_precision: "no" };
}

/** YAML as accelerate reads it: PyYAML is YAML 1.1, where a bare NO / no is false, so such strings are quoted. */
export function toYaml(value: Record<string, Json>, comment: string): string {
  return comment.split("\n").map((l) => `# ${l}`.trimEnd()).join("\n") + "\n" + stringify(value, { lineWidth: 0, version: "1.1" });
}

/** Versions known to work together (PyTorch 2.5 with CUDA 12.x wheels); extras only when the recipe needs them. */
export const PINNED = {
  torch: "2.5.1",
  transformers: "4.46.3",
  accelerate: "1.1.1",
  peft: "0.13.2",
  safetensors: "0.4.5",
  sentencepiece: "0.2.0",
  protobuf: "5.28.3",
  bitsandbytes: "0.44.1",
  deepspeed: "0.15.4",
  lm_eval: "0.4.5",
  "flash-attn": "2.6.3",
} as const;

export function requirementsTxt(plan: TorchPlan, pythonVersion: string): string {
  const r = plan.requirements;
  const lines = [
    `# ${plan.recipe}: Python packages for the exported torch project (generated by tune).`,
    `# Pinned to versions known to work together; tested interpreter: Python ${pythonVersion}.`,
    `# torch wheels for CUDA 12.x: pip install -r requirements.txt --extra-index-url https://download.pytorch.org/whl/cu121`,
    `torch==${PINNED.torch}`,
    `transformers==${PINNED.transformers}`,
    `accelerate==${PINNED.accelerate}`,
    `peft==${PINNED.peft}`,
    `safetensors==${PINNED.safetensors}`,
    `sentencepiece==${PINNED.sentencepiece}`,
    `protobuf==${PINNED.protobuf}`,
  ];
  if (r.quantize) lines.push(`bitsandbytes==${PINNED.bitsandbytes}  # QLoRA 4-bit base / 8-bit optimizers (CUDA only)`);
  if (r.deepspeed) lines.push(`deepspeed==${PINNED.deepspeed}  # ZeRO-${r.zero ?? 2}`);
  if (r.evals) lines.push(`lm_eval==${PINNED.lm_eval}  # eval tasks (skipped when absent)`);
  if (r.flashAttention) lines.push(`# flash-attn==${PINNED["flash-attn"]}  # optional: pip install flash-attn==${PINNED["flash-attn"]} --no-build-isolation (needs nvcc)`);
  return lines.join("\n") + "\n";
}

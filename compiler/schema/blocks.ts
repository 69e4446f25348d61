// What each block kind of the language accepts. One table per kind: the
// checker, `tune explain` and the docs all read these; nothing else decides
// which keys exist or what their values may be.
import {
  bool,
  enumOf,
  field,
  fraction,
  fractionOrCount,
  int,
  list,
  memorySize,
  num,
  oneOf,
  range,
  ref,
  rowExpr,
  str,
  tokens,
  type AttrSpec,
  type BlockSpec,
  type StepSpec,
} from "./types.js";

const dtype = enumOf("fp32", "bf16", "fp16");
const seed = (doc = "random seed"): AttrSpec => ({ type: int({ min: 0 }), doc });

const recipe: BlockSpec = {
  kind: "recipe",
  doc: "The recipe's identity and global settings; one per runnable file.",
  name: "required",
  unique: true,
  attrs: {
    description: { type: str, doc: "one-line description shown in plans and model cards" },
    seed: { ...seed("global seed; stages, data ops and evals derive theirs from it"), default: 42 },
    version: { type: str, doc: "recipe version, recorded in the lockfile" },
    allow: {
      type: list(str),
      doc: 'warning codes this recipe accepts after review, e.g. ["T4010"]: lint, plan and run stop reporting them for this recipe (errors cannot be allowed)',
    },
  },
};

const arch: BlockSpec = {
  kind: "arch",
  doc: "A model shape (architecture preset) used for checks and memory estimates.",
  name: "required",
  attrs: {
    family: { type: enumOf("llama"), doc: "architecture family", default: "llama" },
    vocab: { type: int({ min: 1, units: [null, "k"] }), doc: "vocabulary size", required: true },
    hidden: { type: int({ min: 1 }), doc: "hidden size", required: true },
    intermediate: { type: int({ min: 1 }), doc: "MLP intermediate size", required: true },
    layers: { type: int({ min: 1 }), doc: "number of decoder layers", required: true },
    heads: { type: int({ min: 1 }), doc: "attention heads", required: true },
    kv_heads: { type: int({ min: 1 }), doc: "key/value heads (GQA); defaults to heads" },
    head_dim: { type: int({ min: 1 }), doc: "per-head dimension; defaults to hidden / heads" },
    max_position: { type: int({ min: 1, units: [null, "k", "tokens"] }), doc: "maximum context length", required: true },
    tied: { type: bool, doc: "lm_head shares the embedding matrix", default: false },
    rope_theta: { type: num({ min: 0, minExclusive: true, units: [null, "k", "M"] }), doc: "RoPE base", default: 10000 },
  },
};

const model: BlockSpec = {
  kind: "model",
  doc: "A base model: a hub id with revision, or a local Hugging Face directory (its weights, or with `init = random` only its config and tokenizer).",
  name: "required",
  attrs: {
    hub: { type: str, doc: "Hugging Face Hub id, e.g. \"meta-llama/Llama-2-7b-hf\"" },
    revision: { type: str, doc: "hub branch, tag or commit; pinned to a commit in the lockfile", default: "main" },
    path: { type: str, doc: "local model directory (config.json, safetensors, tokenizer.json)" },
    arch: { type: ref("arch"), doc: "architecture preset from std/models, for checks and memory estimates" },
    dtype: { type: dtype, doc: "weight dtype when loaded", default: "bf16" },
    tokenizer: { type: str, doc: "tokenizer.json path or hub id when it differs from the model's" },
    // No spec default, so the params (and hashes) of models that do not set `init` stay as they were.
    init: {
      type: enumOf("pretrained", "random"),
      doc: "pretrained (default): load the weights; random: only config.json and the tokenizer are read, the weights are freshly initialised (HF init, seeded) for pretraining from scratch",
    },
    seed: { type: int({ min: 0 }), doc: "seed of the random initialisation (init = random); defaults to the recipe seed" },
  },
};

const fieldsBlock: BlockSpec = {
  kind: "fields",
  doc: "Typed field schema of the rows: `name: type`, optional `?`, default `= value`, rename `from \"column\"`.",
  name: "none",
  unique: true,
  fields: true,
  attrs: {},
};

const dataset: BlockSpec = {
  kind: "dataset",
  doc: "A data source: a local file or a hub dataset, with a typed field schema.",
  name: "required",
  attrs: {
    path: { type: str, doc: "local file (.json, .jsonl, .csv, .parquet)" },
    format: { type: enumOf("json", "jsonl", "csv", "parquet"), doc: "file format; inferred from the extension" },
    hub: { type: str, doc: "Hugging Face Hub dataset id" },
    config: { type: str, doc: "hub dataset configuration name" },
    split: { type: str, doc: "hub split", default: "train" },
    revision: { type: str, doc: "hub revision; pinned to a commit in the lockfile", default: "main" },
    on_bad_rows: { type: enumOf("fail", "skip"), doc: "fail on the first bad row, or skip and count", default: "fail" },
    smoke: { type: str, doc: "small local stand-in that `--smoke` uses instead of the real source" },
    rows: { type: int({ min: 0, units: [null, "k", "M", "rows"] }), doc: "known row count (for plans when data is remote)" },
  },
  blocks: { fields: fieldsBlock },
};

const dataSteps: Record<string, StepSpec> = {
  filter: { doc: "keep rows where the expression is true", positional: [["where", { type: rowExpr, doc: "condition", required: true }]], named: {} },
  score: {
    doc: "rate each row with a judge model; the parsed score becomes a field",
    positional: [],
    named: {
      field: { type: str, doc: "name of the new score field", required: true },
      judge: { type: ref("judge"), doc: "the judge", required: true },
      prompt: { type: ref("prompt"), doc: "grading prompt", required: true },
      range: { type: range, doc: "valid score range", required: true },
    },
  },
  dedup: {
    doc: "remove exact or near duplicates",
    positional: [["mode", { type: enumOf("exact", "near"), doc: "exact (normalised hash) or near (MinHash/LSH)", default: "exact" }]],
    named: {
      threshold: { type: num({ min: 0, max: 1, minExclusive: true }), doc: "Jaccard similarity at or above which rows are duplicates" },
      on: { type: list(field, 1), doc: "fields compared (default: all string fields)" },
    },
  },
  sample: {
    doc: "keep n rows or a percentage, seeded",
    positional: [["n", { type: fractionOrCount, doc: "rows (2k) or share (10%)", required: true }]],
    named: { seed: seed() },
  },
  shuffle: { doc: "shuffle rows, seeded", positional: [], named: { seed: seed() } },
  split: {
    doc: "hold out a validation split, seeded",
    positional: [],
    named: { validation: { type: fractionOrCount, doc: "validation share (5%) or rows", required: true }, seed: seed() },
  },
};

const mix: BlockSpec = {
  kind: "mix",
  doc: "Combine sources: `name = 100%` per source; `relative_to` says what the percentages mean.",
  name: "none",
  unique: true,
  attrs: {
    relative_to: {
      type: enumOf("each_source", "total"),
      doc: "each_source: % of that source's rows; total: share of the final mix (must sum to 100%)",
      required: true,
    },
    seed: seed(),
  },
  freeAttrs: { type: num({ min: 0, units: ["%"] }), doc: "percentage for this source" },
};

const data: BlockSpec = {
  kind: "data",
  doc: "A data pipeline: a source (or a mix) followed by ordered operations.",
  name: "required",
  attrs: { from: { type: ref("dataset", "data"), doc: "input dataset or pipeline" } },
  blocks: { mix },
  steps: dataSteps,
};

const template: BlockSpec = {
  kind: "template",
  doc: "A prompt template (Handlebars): the prompt part is masked from the loss, the completion is trained on.",
  name: "required",
  attrs: {
    prompt: { type: str, doc: "prompt text (Handlebars); masked from the loss", required: true },
    completion: { type: str, doc: "completion text (Handlebars); the trained part (SFT needs it; DPO uses chosen/rejected)" },
    system: { type: str, doc: "system prompt, available as {{system}}" },
    eos: { type: bool, doc: "append the tokenizer's EOS after the completion", default: true },
    mask_prompt: { type: bool, doc: "exclude prompt tokens from the loss", default: true },
  },
};

const prompt: BlockSpec = {
  kind: "prompt",
  doc: "A judge prompt (Handlebars) and how its reply is parsed.",
  name: "required",
  attrs: {
    system: { type: str, doc: "system message" },
    user: { type: str, doc: "user message (Handlebars over the row's fields)", required: true },
    parse: { type: enumOf("first_number", "integer", "alpagasus"), doc: "how the score is read from the reply", default: "first_number" },
    range: { type: range, doc: "scores outside this range count as unparseable" },
  },
};

const adapter: BlockSpec = {
  kind: "adapter",
  doc: "A LoRA or QLoRA adapter (PEFT semantics).",
  name: "required",
  attrs: {
    method: { type: enumOf("lora", "qlora"), doc: "lora, or qlora (4-bit frozen base)", required: true },
    r: { type: int({ min: 1 }), doc: "rank", default: 8 },
    alpha: { type: num({ min: 0, minExclusive: true }), doc: "scale numerator (scale = alpha / r)", default: 8 },
    dropout: { type: num({ min: 0, max: 1, maxExclusive: true }), doc: "dropout on the adapter input", default: 0 },
    targets: {
      type: oneOf(enumOf("all_linear"), list(field, 1)),
      doc: "module names, or all_linear (every Linear except lm_head)",
      default: ["q_proj", "v_proj"],
    },
    rslora: { type: bool, doc: "rank-stabilised scaling alpha / sqrt(r)", default: false },
    bits: { type: int({ min: 4, max: 4 }), doc: "quantised base bits (qlora)", default: 4 },
    quant_type: { type: enumOf("nf4", "fp4"), doc: "4-bit data type (qlora)", default: "nf4" },
    double_quant: { type: bool, doc: "quantise the quantisation constants (qlora)", default: false },
    compute_dtype: { type: dtype, doc: "compute dtype of the dequantised base (qlora)", default: "bf16" },
  },
};

const judge: BlockSpec = {
  kind: "judge",
  doc: "A judge: a local model run by tune, or an OpenAI-compatible chat-completions endpoint.",
  name: "required",
  attrs: {
    model: { type: ref("model", "stage"), doc: "local judge model" },
    endpoint: { type: str, doc: "base URL of an OpenAI-compatible API" },
    api_model: { type: str, doc: "model name sent to the endpoint" },
    api_key_env: { type: str, doc: "environment variable holding the API key" },
    temperature: { type: num({ min: 0 }), doc: "sampling temperature", default: 0 },
    max_tokens: { type: int({ min: 1 }), doc: "reply length limit", default: 64 },
    concurrency: { type: int({ min: 1 }), doc: "parallel requests to the endpoint", default: 4 },
    retries: { type: int({ min: 0 }), doc: "retries with backoff on failure", default: 3 },
    seed: seed(),
  },
};

const stage: BlockSpec = {
  kind: "stage",
  doc: "A training stage: pretrain / full fine-tune, SFT, or DPO (sigmoid, ipo, hinge, robust, sampo).",
  name: "required",
  attrs: {
    method: { type: enumOf("sft", "dpo", "pretrain", "full"), doc: "training objective", required: true },
    from: { type: ref("model", "stage"), doc: "model or earlier stage this stage starts from", required: true },
    reference: { type: oneOf(ref("model", "stage"), enumOf("none")), doc: "DPO reference model (default: the `from` model; none = reference-free)" },
    data: { type: ref("data", "dataset"), doc: "training data", required: true },
    template: { type: ref("template"), doc: "prompt template" },
    adapter: { type: ref("adapter"), doc: "adapter to train (none: all weights)" },
    epochs: { type: num({ min: 0, minExclusive: true, units: [null, "epochs"] }), doc: "passes over the data", default: 3 },
    max_steps: { type: int({ min: 1, units: [null, "steps", "k"] }), doc: "stop after this many optimizer steps" },
    lr: { type: num({ min: 0, minExclusive: true }), doc: "peak learning rate", required: true },
    batch: { type: int({ min: 1 }), doc: "global batch size (sequences per optimizer step)", required: true },
    micro_batch: { type: int({ min: 1 }), doc: "per-device micro-batch", default: 1 },
    cutoff: { type: tokens, doc: "maximum sequence length (SFT); longer rows are truncated", default: 1024 },
    max_length: { type: tokens, doc: "DPO: maximum prompt + response length", default: 1024 },
    max_prompt_length: { type: tokens, doc: "DPO: maximum prompt length", default: 512 },
    truncation: { type: enumOf("keep_start", "keep_end"), doc: "which end of an over-long sequence is kept", default: "keep_start" },
    weight_decay: { type: num({ min: 0 }), doc: "AdamW decoupled weight decay", default: 0 },
    warmup: { type: num({ min: 0, units: ["%", "steps", null] }), doc: "warmup as a share of steps (3%) or steps", default: 0 },
    schedule: { type: enumOf("linear", "cosine", "constant", "constant_with_warmup", "warmup_decay_log"), doc: "LR schedule", default: "linear" },
    optimizer: { type: enumOf("adamw", "paged_adamw_32bit", "adamw_8bit", "sgd"), doc: "optimizer", default: "adamw" },
    betas: { type: list(num({ min: 0, max: 1, maxExclusive: true }), 2), doc: "Adam betas", default: [0.9, 0.999] },
    eps: { type: num({ min: 0, minExclusive: true }), doc: "Adam epsilon", default: 1e-8 },
    max_grad_norm: { type: num({ min: 0 }), doc: "gradient clipping norm (0: off)", default: 1 },
    beta: { type: num({ min: 0, minExclusive: true }), doc: "DPO beta", default: 0.1 },
    loss: { type: enumOf("sigmoid", "ipo", "hinge", "robust", "sampo"), doc: "DPO loss variant", default: "sigmoid" },
    label_smoothing: { type: num({ min: 0, max: 0.5, maxExclusive: true }), doc: "DPO label smoothing", default: 0 },
    rounds: { type: int({ min: 1 }), doc: "iterative rounds; round i > 1 starts policy and reference from round i-1", default: 1 },
    packing: { type: bool, doc: "pack sequences (best-fit decreasing, no cross-attention)", default: false },
    gradient_checkpointing: { type: bool, doc: "recompute activations in backward", default: false },
    save_steps: { type: int({ min: 1, units: [null, "steps"] }), doc: "write a resumable checkpoint every N optimizer steps (HF save_steps; default 500)" },
    save_total_limit: { type: int({ min: 1 }), doc: "keep only the newest N checkpoints (HF save_total_limit; default: all)" },
    seed: seed(),
  },
};

const hardware: BlockSpec = {
  kind: "hardware",
  doc: "Where training runs: devices, nodes, memory and the distribution strategy.",
  name: "optional",
  unique: true,
  attrs: {
    gpu: { type: enumOf("a100_40gb", "a100_80gb", "h100_80gb", "h200", "l4", "a10g", "rtx4090", "cpu"), doc: "accelerator type (sets memory)" },
    memory: { type: memorySize, doc: "memory per device (overrides gpu)" },
    devices: { type: int({ min: 1 }), doc: "devices per node", default: 1 },
    nodes: { type: int({ min: 1 }), doc: "nodes", default: 1 },
    strategy: { type: enumOf("single", "ddp", "deepspeed", "fsdp"), doc: "distribution strategy", default: "ddp" },
    zero: { type: int({ min: 0, max: 3 }), doc: "DeepSpeed ZeRO stage", default: 2 },
    offload: { type: enumOf("none", "cpu", "nvme"), doc: "DeepSpeed offload of optimizer state", default: "none" },
    precision: { type: dtype, doc: "mixed-precision compute dtype", default: "bf16" },
    flash_attention: { type: bool, doc: "use flash attention (PyTorch executor)", default: false },
  },
};

const exportBlock: BlockSpec = {
  kind: "export",
  doc: "What a run leaves behind: the adapter, or the adapter merged into the base weights.",
  name: "optional",
  attrs: {
    from: { type: ref("stage"), doc: "stage whose result is exported", required: true },
    merge: { type: bool, doc: "merge the adapter into the base weights", default: false },
    dtype: { type: dtype, doc: "dtype of exported weights", default: "bf16" },
    format: { type: enumOf("safetensors"), doc: "file format", default: "safetensors" },
  },
};

const evalSteps: Record<string, StepSpec> = {
  task: {
    doc: "an lm-eval task or group",
    positional: [["task", { type: ref("task", "group"), doc: "task or group name", required: true }]],
    named: {
      shots: { type: int({ min: 0 }), doc: "few-shot examples" },
      metric: { type: field, doc: "headline metric (must be one the task reports)" },
      filter: { type: field, doc: "answer-extraction filter for generate tasks (e.g. strict_match)" },
      limit: { type: int({ min: 1 }), doc: "evaluate only the first n docs" },
    },
  },
  judge_score: {
    doc: "generate answers for a test set and score each with a judge",
    positional: [],
    named: {
      data: { type: ref("data", "dataset"), doc: "test prompts", required: true },
      judge: { type: ref("judge"), doc: "the judge", required: true },
      prompt: { type: ref("prompt"), doc: "judge prompt", required: true },
      range: { type: range, doc: "score range", required: true },
      max_new_tokens: { type: int({ min: 1, units: [null, "tokens"] }), doc: "answer length limit", default: 256 },
      limit: { type: int({ min: 1 }), doc: "only the first n prompts" },
    },
  },
  win_rate: {
    doc: "pairwise win rate against a baseline's outputs (AlpacaEval style)",
    positional: [],
    named: {
      data: { type: ref("data", "dataset"), doc: "prompts with baseline outputs", required: true },
      judge: { type: ref("judge"), doc: "the judge", required: true },
      prompt: { type: ref("prompt"), doc: "pairwise judge prompt", required: true },
      baseline_field: { type: field, doc: "field holding the baseline output", default: "output" },
      max_new_tokens: { type: int({ min: 1, units: [null, "tokens"] }), doc: "answer length limit", default: 512 },
      limit: { type: int({ min: 1 }), doc: "only the first n prompts" },
    },
  },
  response_length: {
    doc: "mean response length in tokens",
    positional: [],
    named: {
      data: { type: ref("data", "dataset"), doc: "prompts", required: true },
      max_new_tokens: { type: int({ min: 1, units: [null, "tokens"] }), doc: "answer length limit", default: 512 },
      limit: { type: int({ min: 1 }), doc: "only the first n prompts" },
    },
  },
};

const evalBlock: BlockSpec = {
  kind: "eval",
  doc: "An evaluation suite run on the listed models (the base and any stage).",
  name: "optional",
  attrs: {
    models: { type: list(ref("model", "stage"), 1), doc: "models evaluated: base models and/or stages", required: true },
    template: { type: oneOf(ref("template"), enumOf("auto", "none")), doc: "chat template at eval time (auto: the one the model trained with)", default: "auto" },
    limit: { type: int({ min: 1 }), doc: "default per-task doc limit" },
    seed: seed(),
  },
  steps: evalSteps,
};

const task: BlockSpec = {
  kind: "task",
  doc: "An lm-eval task definition (stdlib).",
  name: "required",
  attrs: {
    output: { type: enumOf("multiple_choice", "loglikelihood", "generate_until"), doc: "request type", required: true },
    metrics: { type: list(field, 1), doc: "metrics the task reports", required: true },
    shots: { type: int({ min: 0 }), doc: "default number of shots", default: 0 },
    examples: { type: int({ min: 0 }), doc: "docs in the eval split" },
    fewshot_examples: { type: int({ min: 0 }), doc: "docs in the split shots come from" },
    filters: { type: list(field, 1), doc: "answer-extraction filters the task defines" },
    fewshot_split: { type: enumOf("train", "validation", "test", "dev", "same"), doc: "split shots come from" },
    dataset: { type: str, doc: "hub dataset the full task uses" },
    version: { type: num({ min: 0 }), doc: "task version (recorded in reports)" },
  },
};

const group: BlockSpec = {
  kind: "group",
  doc: "A named set of tasks aggregated by size-weighted mean (stdlib).",
  name: "required",
  attrs: {
    tasks: { type: list(ref("task", "group"), 1), doc: "member tasks", required: true },
    metrics: { type: list(field, 1), doc: "metrics aggregated", required: true },
  },
};

export const TOP_LEVEL: Readonly<Record<string, BlockSpec>> = {
  recipe,
  arch,
  model,
  dataset,
  data,
  template,
  prompt,
  adapter,
  judge,
  stage,
  hardware,
  export: exportBlock,
  eval: evalBlock,
  task,
  group,
};

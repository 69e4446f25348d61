// The diagnostic catalogue: every code the compiler can emit, with a title and
// an explanation for `tune explain CODE` and SARIF rule metadata. A test checks
// that every code used in the sources is listed here and has a golden case.

export interface CodeInfo {
  readonly title: string;
  readonly explanation: string;
}

export const CODES: Readonly<Record<string, CodeInfo>> = {
  // ---- T1xxx syntax
  T1001: { title: "unexpected character", explanation: "The lexer met a character that is not part of the language. Names use letters, digits and `_`; text goes in double quotes; comments start with `#`." },
  T1002: { title: "syntax error", explanation: "The parser expected a different token here. Entries inside a block are `key = value`, `name: type` (in fields), `op(args)` or a nested block `kind name { … }`. Lists and arguments are separated by commas." },
  T1003: { title: "unterminated string", explanation: "A string opened with `\"` is not closed on the same line. Close it, or use a triple-quoted `\"\"\"…\"\"\"` string for text that spans lines (its content is taken verbatim)." },
  T1004: { title: "unclosed block", explanation: "The file ends while a `{` is still open. Add the missing `}`." },
  T1005: { title: "unexpected top-level item", explanation: "Only `import …` lines and blocks may appear at the top level; attributes belong inside a block." },
  T1900: { title: "internal formatter error", explanation: "The formatter produced text that does not re-parse to the same recipe. This is a bug in tune; please report it with the file." },
  // ---- T2xxx names
  T2001: { title: "unknown name", explanation: "A name does not refer to anything visible in this file. Names come from top-level blocks of this file and from imports. Standard-library definitions (templates, model shapes, prompts, eval tasks) must be imported, e.g. `import { alpaca } from \"std/templates\"`." },
  T2002: { title: "duplicate definition", explanation: "Two top-level blocks of one file have the same name. All named blocks of a file share one namespace, whatever their kind." },
  T2003: { title: "name already defined", explanation: "An import binds a name that this file already defines or imports. Import the module under another name with `import \"…\" as other`." },
  T2004: { title: "unresolved import", explanation: "An import path cannot be found. Imports are `std/…` modules, paths relative to the importing file (`./common.tune`), or registry packages `@scope/name@range` once installed." },
  T2005: { title: "unknown block kind", explanation: "The first word of a block must be a known kind: recipe, model, arch, dataset, data, template, prompt, adapter, judge, stage, hardware, export, eval, task or group." },
  T2006: { title: "import cycle", explanation: "Files import each other in a loop. Move the shared definitions into a third file that both import." },
  T2007: { title: "missing imported name", explanation: "`import { name } from \"module\"` names something the module does not define." },
  T2008: { title: "unknown key", explanation: "A block sets a key its kind does not have. `tune explain` for the block kind lists the keys, and the message suggests close matches." },
  T2009: { title: "unknown operation", explanation: "A step `op(…)` is not an operation of this block. Data pipelines accept filter, score, dedup, sample, shuffle and split; eval blocks accept task, judge_score, win_rate and response_length." },
  T2010: { title: "unknown field", explanation: "An expression or a `dedup(on = …)` list names a field the rows do not have at that point of the pipeline. Fields come from the dataset's `fields { … }` (after renames), plus fields added by `score`." },
  T2011: { title: "misplaced block", explanation: "A nested block is not allowed inside this kind of block (e.g. `mix` belongs in `data`, `fields` in `dataset`)." },
  T2012: { title: "misplaced field declaration", explanation: "`name: type` declarations belong in a dataset's `fields { … }` block." },
  T2013: { title: "unknown function", explanation: "Filter expressions may call `len(field)` (characters) and `tokens(field)` (tokens with the stage's tokenizer) only." },
  // ---- T3xxx types and values
  T3001: { title: "type mismatch", explanation: "A value has the wrong type for its key: a string where a number is expected, a name where a list is expected, and so on." },
  T3002: { title: "value out of range", explanation: "A number is outside its allowed range: learning rates must be > 0, dropout in [0, 1), shots ≥ 0, percentages between 0 and 100, and so on." },
  T3003: { title: "unit not allowed", explanation: "A number carries a unit its key does not accept (e.g. `lr = 5%`), or lacks one it needs (memory sizes need GB/GiB)." },
  T3004: { title: "unknown enum value", explanation: "The value must be one of a fixed set of words (e.g. quant_type nf4 | fp4; loss sigmoid | ipo | hinge | robust | sampo)." },
  T3005: { title: "missing required setting", explanation: "A block or step lacks a setting it cannot do without (e.g. a stage's `lr`, `batch`, `data` or `from`)." },
  T3006: { title: "duplicate setting", explanation: "A key, argument or field is given twice in the same place; only one may stay." },
  T3007: { title: "wrong kind of definition", explanation: "A name refers to a definition of another kind than expected (e.g. a template where a dataset is required)." },
  T3008: { title: "block name", explanation: "Some block kinds must be named (model, dataset, stage, …) so others can refer to them; some take no name (fields, mix)." },
  T3009: { title: "repeated unique block", explanation: "Only one block of this kind is allowed (one recipe and one hardware block per file; one mix or fields block per parent)." },
  T3010: { title: "bad operation argument", explanation: "An operation got an argument it does not take, or more positional arguments than it has." },
  T3011: { title: "integer expected", explanation: "Counts (batch sizes, ranks, shots, steps) must be whole numbers." },
  T3012: { title: "empty range", explanation: "A range `lo..hi` must have lo < hi." },
  T3013: { title: "template field missing", explanation: "A template placeholder `{{field}}` names a field the stage's data does not have, after renames. Rendering would fail on every row (or silently produce empty text in tools that do not check)." },
  T3014: { title: "nothing to train on", explanation: "The template's completion is missing or empty, so every label would be masked (-100) and the loss would be computed on no tokens. This is the silent failure that ruins SFT runs in other tools." },
  T3015: { title: "invalid template", explanation: "A template body is not valid Handlebars (e.g. an unclosed `{{#if}}`)." },
  T3016: { title: "model source", explanation: "A model needs exactly one of `hub` (with an optional `revision`) or a local `path`." },
  T3017: { title: "dataset source", explanation: "A dataset needs exactly one of a local `path` or a `hub` id." },
  T3018: { title: "list too short", explanation: "A list needs at least the stated number of items." },
  T3019: { title: "judge source", explanation: "A judge is either a local `model` run by tune or an OpenAI-compatible `endpoint`, not both and not neither." },
  T3020: { title: "judge endpoint model", explanation: "A judge with an `endpoint` must name the `api_model` sent with each request." },
  // ---- T4xxx cross-stage and graph
  T4001: { title: "batch arithmetic", explanation: "The global batch must equal micro_batch × gradient accumulation × devices × nodes with a whole accumulation count. tune derives accumulation; choose a micro-batch that divides the batch." },
  T4002: { title: "unknown LoRA target", explanation: "A LoRA target is not a Linear module of the model's architecture. Llama models have q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj and down_proj (or use all_linear)." },
  T4003: { title: "QLoRA and parameter sharding", explanation: "FSDP and DeepSpeed ZeRO-3 shard parameters across devices. bitsandbytes 4-bit weights stored as uint8 cannot be sharded that way (it needs bnb_4bit_quant_storage set to the compute dtype, which tune does not configure). Use ZeRO-2 or DDP with QLoRA." },
  T4004: { title: "stage cycle", explanation: "Stages' `from` / `reference` links must form a DAG: a stage can start only from a model or an earlier stage." },
  T4005: { title: "preference columns", explanation: "DPO and SamPO need rows with prompt, chosen and rejected fields. Rename source columns in the dataset's fields with `from \"column\"`." },
  T4007: { title: "invalid mix", explanation: "Mix percentages must say what they are relative to. `relative_to = each_source`: each is a share of that source's own rows (≤ 100%), as in Platypus' \"100% Open-Platypus + 1% Dolphin\". `relative_to = total`: shares of the final mix, which must sum to 100%." },
  T4008: { title: "unknown metric", explanation: "The metric is not one the task reports (e.g. acc_norm on a task that reports only acc)." },
  T4009: { title: "too many shots", explanation: "The number of few-shot examples exceeds the examples available in the split shots are drawn from (e.g. MMLU's dev split has 5 per subject)." },
  T4010: { title: "memory estimate exceeds the device", explanation: "tune plan's estimate of per-device GPU memory for a stage is larger than the declared device memory. The estimate is approximate (see `tune plan` for its assumptions); consider QLoRA, ZeRO-2/3, a smaller micro-batch or gradient checkpointing." },
  T4011: { title: "setting ignored for this method", explanation: "A DPO-only setting (beta, loss, reference, …) is set on a stage that is not dpo, so it has no effect." },
  T4014: { title: "SamPO without reference", explanation: "SamPO down-samples the policy's and the reference's token log-probabilities; it needs a reference model." },
  T4016: { title: "rounds outside DPO", explanation: "Iterative rounds (each round starting policy and reference from the previous one) are defined for dpo stages only." },
  T4018: { title: "no template", explanation: "An SFT stage needs a template to turn rows into prompt and completion, unless its rows have a `text` field." },
  T4019: { title: "nothing to merge", explanation: "`merge = true` merges an adapter into the base weights, but the exported stage trains no adapter." },
  T4020: { title: "data input", explanation: "A data pipeline has exactly one input: `from = dataset` or a `mix { … }` block." },
  T4022: { title: "QLoRA setting on LoRA", explanation: "bits, quant_type, double_quant and compute_dtype describe the 4-bit base of a qlora adapter; on a plain lora adapter they are ignored." },
  T4023: { title: "adapter on full training", explanation: "pretrain and full stages train every weight; an adapter makes no sense there. Use method = sft for adapter training." },
  T4025: { title: "DeepSpeed setting without DeepSpeed", explanation: "`zero` and `offload` only apply with strategy = deepspeed." },
  T4026: { title: "single device strategy", explanation: "strategy = single runs on one device; with several devices or nodes use ddp, deepspeed or fsdp." },
  T4027: { title: "device memory unknown", explanation: "The hardware block names neither a `gpu` nor `memory`, so memory estimates cannot be compared against a device." },
  // ---- T5xxx data
  T5001: { title: "unknown data format", explanation: "The format of a local dataset is taken from its extension (.json, .jsonl, .csv, .parquet); set `format` when the extension says nothing." },
  T5002: { title: "validation split too large", explanation: "A validation split of 100% or more leaves no training rows." },
  T5003: { title: "filter type", explanation: "A filter must be a condition (true/false): compare values (`score >= 4.5`), combine with and/or/not." },
  T5004: { title: "score range", explanation: "A judge score range must match (or lie within) the range the judge prompt asks for." },
  T5006: { title: "unknown field type", explanation: "Field types are string, int, float, bool, messages and list<T>." },
  T5007: { title: "no field schema", explanation: "Every dataset declares the fields it uses in `fields { … }`, so templates, filters and stages are checked before any data is read." },
  T5008: { title: "dedup settings", explanation: "Near-duplicate removal (`dedup(near, threshold = 0.8)`) needs a similarity threshold; exact dedup takes none." },
  T5009: { title: "two splits", explanation: "A pipeline holds out one validation split." },
};

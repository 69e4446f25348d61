// Write and read LoRA adapters in Hugging Face PEFT's on-disk format.
//
// Why this exists: a tune run's deliverable is usually an adapter that `PeftModel.from_pretrained(base, dir)` must
// load unchanged, and tune must load adapters trained by PEFT. The format (peft_model.py `save_pretrained`,
// utils/save_and_load.py): `adapter_config.json` (LoraConfig fields, `json.dumps(indent=2, sort_keys=True)`,
// inference_mode true) and `adapter_model.safetensors` with metadata {"format": "pt"} and tensors
// `base_model.model.<module>.lora_A.weight` [r, in] and `.lora_B.weight` [out, r], where <module> is the HF module
// path, e.g. `model.layers.0.self_attn.q_proj`. Spec: /work/shared/reference/algorithms.md §1.
// Both files are written atomically.
//
// Error codes (PeftError): T6040 adapter_config.json missing/invalid/unsupported · T6041 tensor names or shapes wrong.

import { mkdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { writeFileAtomic } from "./atomic.js";
import { PyFloat, pyJsonDumps } from "./py-repr.js";
import { readAllF32, writeSafetensors, type StWriteTensor } from "./safetensors.js";

export interface LoraFactor { shape: number[]; data: Float32Array }
export interface PeftAdapter {
  baseModel: string;
  r: number;
  alpha: number;
  dropout: number;
  targets: string[];
  rslora: boolean;
  /** HF module path (e.g. "model.layers.0.self_attn.q_proj") → A [r, in], B [out, r] */
  layers: Map<string, { A: LoraFactor; B: LoraFactor }>;
}

export class PeftError extends Error {
  code: string;
  hint: string;
  file: string;
  constructor(code: string, message: string, hint: string, file: string) {
    super(`${code}: ${file}: ${message}`);
    this.name = "PeftError";
    this.code = code;
    this.hint = hint;
    this.file = file;
  }
}

export const ADAPTER_CONFIG = "adapter_config.json";
export const ADAPTER_WEIGHTS = "adapter_model.safetensors";
const PREFIX = "base_model.model.";

export function peftTensorName(module: string, factor: "A" | "B"): string {
  return `${PREFIX}${module}.lora_${factor}.weight`;
}

// ---- adapter_config.json -----------------------------------------------------------------------------------

/** The adapter_config.json object, with exactly the keys of a plain PEFT LoRA config. */
export function adapterConfig(a: PeftAdapter): Record<string, unknown> {
  return {
    alpha_pattern: {},
    auto_mapping: null,
    base_model_name_or_path: a.baseModel,
    bias: "none",
    corda_config: null,
    eva_config: null,
    exclude_modules: null,
    fan_in_fan_out: false,
    inference_mode: true,
    init_lora_weights: true,
    layer_replication: null,
    layers_pattern: null,
    layers_to_transform: null,
    loftq_config: {},
    lora_alpha: Number.isInteger(a.alpha) ? a.alpha : new PyFloat(a.alpha),
    lora_bias: false,
    lora_dropout: new PyFloat(a.dropout),
    megatron_config: null,
    megatron_core: "megatron.core",
    modules_to_save: null,
    peft_type: "LORA",
    r: a.r,
    rank_pattern: {},
    revision: null,
    target_modules: a.targets.slice().sort(),
    task_type: "CAUSAL_LM",
    use_dora: false,
    use_rslora: a.rslora,
  };
}

/** adapter_config.json text as PEFT writes it (`json.dumps(indent=2, sort_keys=True)`). */
export function adapterConfigText(a: PeftAdapter): string {
  return pyJsonDumps(adapterConfig(a), { indent: 2, sortKeys: true });
}

type RawConfig = Record<string, unknown>;

function parseConfig(raw: RawConfig, file: string): Omit<PeftAdapter, "layers"> {
  const fail = (message: string, hint: string): PeftError => new PeftError("T6040", message, hint, file);
  if ((raw.peft_type ?? "LORA") !== "LORA") throw fail(`peft_type ${JSON.stringify(raw.peft_type)} is not LoRA`, "tune reads LoRA adapters only");
  const r = raw.r ?? 8;
  const alpha = raw.lora_alpha ?? 8;
  const dropout = raw.lora_dropout ?? 0;
  if (typeof r !== "number" || !Number.isInteger(r) || r <= 0) throw fail("`r` must be a positive integer", "see LoraConfig.r");
  if (typeof alpha !== "number") throw fail("`lora_alpha` must be a number", "see LoraConfig.lora_alpha");
  if (typeof dropout !== "number" || dropout < 0 || dropout >= 1) throw fail("`lora_dropout` must be in [0, 1)", "see LoraConfig.lora_dropout");
  const unsupported: Array<[string, boolean]> = [
    ["use_dora", raw.use_dora === true],
    ["lora_bias", raw.lora_bias === true],
    ["fan_in_fan_out", raw.fan_in_fan_out === true],
    ["bias", raw.bias !== undefined && raw.bias !== "none"],
    ["modules_to_save", raw.modules_to_save != null && (raw.modules_to_save as unknown[]).length > 0],
    ["rank_pattern", raw.rank_pattern != null && Object.keys(raw.rank_pattern as object).length > 0],
    ["alpha_pattern", raw.alpha_pattern != null && Object.keys(raw.alpha_pattern as object).length > 0],
  ];
  for (const [key, on] of unsupported) {
    if (on) throw fail(`\`${key}\` is set, which tune does not support`, "train the adapter without it, or merge it with PEFT first");
  }
  const tm = raw.target_modules;
  const targets = typeof tm === "string" ? [tm] : Array.isArray(tm) && tm.every((t) => typeof t === "string") ? (tm as string[]) : null;
  if (targets === null) throw fail("`target_modules` must be a list of names or a regex string", "see LoraConfig.target_modules");
  const baseModel = typeof raw.base_model_name_or_path === "string" ? raw.base_model_name_or_path : "";
  return { baseModel, r, alpha, dropout, targets, rslora: raw.use_rslora === true };
}

// ---- tensors -----------------------------------------------------------------------------------------------

function checkLayer(module: string, A: LoraFactor, B: LoraFactor, r: number, file: string): void {
  const fail = (message: string): PeftError =>
    new PeftError("T6041", `\`${module}\`: ${message}`, "lora_A.weight is [r, in_features] and lora_B.weight is [out_features, r]", file);
  if (A.shape.length !== 2 || B.shape.length !== 2) throw fail(`A ${JSON.stringify(A.shape)} and B ${JSON.stringify(B.shape)} must be 2-D`);
  if (A.shape[0] !== r || B.shape[1] !== r) throw fail(`A ${JSON.stringify(A.shape)} / B ${JSON.stringify(B.shape)} do not have rank r=${r}`);
  for (const [name, t] of [["A", A], ["B", B]] as const) {
    if (t.data.length !== t.shape[0] * t.shape[1]) throw fail(`${name} data has ${t.data.length} values for shape ${JSON.stringify(t.shape)}`);
  }
}

/** The adapter's tensors, named as PEFT saves them. */
export function adapterTensors(a: PeftAdapter, dtype: "F32" | "BF16" = "F32"): StWriteTensor[] {
  const out: StWriteTensor[] = [];
  for (const [module, { A, B }] of a.layers) {
    checkLayer(module, A, B, a.r, "<adapter>");
    out.push({ name: peftTensorName(module, "A"), dtype, shape: A.shape.slice(), data: A.data });
    out.push({ name: peftTensorName(module, "B"), dtype, shape: B.shape.slice(), data: B.data });
  }
  return out;
}

/** Write `adapter_config.json` and `adapter_model.safetensors` into `dir` (created if needed), atomically. */
export async function writePeftAdapter(dir: string, a: PeftAdapter, opts: { dtype?: "F32" | "BF16" } = {}): Promise<void> {
  if (a.layers.size === 0) throw new PeftError("T6041", "adapter has no LoRA layers", "nothing to save", dir);
  const tensors = adapterTensors(a, opts.dtype ?? "F32");
  await mkdir(dir, { recursive: true });
  await writeSafetensors(join(dir, ADAPTER_WEIGHTS), tensors, { format: "pt" });
  await writeFileAtomic(join(dir, ADAPTER_CONFIG), adapterConfigText(a));
}

const NAME_RE = /^base_model\.model\.(.+)\.lora_([AB])\.weight$/;

/** Read a PEFT LoRA adapter directory. */
export async function readPeftAdapter(dir: string): Promise<PeftAdapter> {
  const cfgPath = join(dir, ADAPTER_CONFIG);
  let raw: RawConfig;
  try {
    raw = JSON.parse(await readFile(cfgPath, "utf8")) as RawConfig;
  } catch (err) {
    throw new PeftError("T6040", `cannot read (${(err as Error).message})`, "an adapter directory holds adapter_config.json and adapter_model.safetensors", cfgPath);
  }
  const cfg = parseConfig(raw, cfgPath);
  const wPath = join(dir, ADAPTER_WEIGHTS);
  const tensors = await readAllF32(wPath);
  const parts = new Map<string, { A?: LoraFactor; B?: LoraFactor }>();
  for (const [name, t] of tensors) {
    const m = NAME_RE.exec(name);
    if (!m) {
      throw new PeftError("T6041", `unexpected tensor \`${name}\``, "only base_model.model.<module>.lora_{A,B}.weight tensors are supported", wPath);
    }
    const entry = parts.get(m[1]) ?? {};
    entry[m[2] as "A" | "B"] = t;
    parts.set(m[1], entry);
  }
  const layers = new Map<string, { A: LoraFactor; B: LoraFactor }>();
  for (const [module, { A, B }] of parts) {
    if (!A || !B) throw new PeftError("T6041", `\`${module}\` has only lora_${A ? "A" : "B"}`, "every LoRA module needs both factors", wPath);
    checkLayer(module, A, B, cfg.r, wPath);
    layers.set(module, { A, B });
  }
  return { ...cfg, layers };
}

// LoRA settings and target-module matching with PEFT semantics.
//
// Why this exists: which modules get adapters, and with what scale, decides both the numbers and the
// adapter files other tools load (algorithms.md §1; peft `tuners/lora/config.py`, `tuners/tuners_utils.py`
// `check_target_module_exists`). Kept separate from the tensors so the compiler can validate settings early.

export interface LoraSettings {
  /** Rank r (PEFT default 8). */
  r: number;
  /** lora_alpha (PEFT default 8). */
  alpha: number;
  /** Dropout on the LoRA branch input only (default 0). */
  dropout: number;
  /**
   * Module names (suffix match on "."-separated names, e.g. "q_proj"), "all-linear" (every Linear but lm_head),
   * or any other string = a regular expression that must match the full module name (PEFT's str form).
   */
  targetModules: string[] | string;
  /** rsLoRA: scale alpha/√r instead of alpha/r. */
  useRslora: boolean;
  /** Seed for A's kaiming-uniform init (one generator, modules in forward order). */
  seed: number | string;
}

/** PEFT's default LoRA targets for Llama (TRANSFORMERS_MODELS_TO_LORA_TARGET_MODULES_MAPPING). */
export const LLAMA_DEFAULT_TARGETS = ["q_proj", "v_proj"];

export const DEFAULT_LORA: LoraSettings = {
  r: 8,
  alpha: 8,
  dropout: 0,
  targetModules: LLAMA_DEFAULT_TARGETS,
  useRslora: false,
  seed: 42,
};

/** s = alpha/r, or alpha/√r with rsLoRA. */
export function loraScale(s: Pick<LoraSettings, "r" | "alpha" | "useRslora">): number {
  return s.useRslora ? s.alpha / Math.sqrt(s.r) : s.alpha / s.r;
}

/** Does `module` (full dotted name) receive an adapter under `targets`? lm_head only when named explicitly. */
export function isTargeted(module: string, targets: string[] | string): boolean {
  if (targets === "all-linear") return module !== "lm_head" && !module.endsWith(".lm_head");
  if (typeof targets === "string") return new RegExp(`^(?:${targets})$`).test(module);
  return targets.some((t) => module === t || module.endsWith(`.${t}`));
}

export function validateLoraSettings(s: LoraSettings): void {
  if (!Number.isInteger(s.r) || s.r <= 0) throw new Error(`LoRA r must be a positive integer, got ${s.r}`);
  if (!(s.alpha > 0)) throw new Error(`LoRA alpha must be positive, got ${s.alpha}`);
  if (!(s.dropout >= 0 && s.dropout < 1)) throw new Error(`LoRA dropout must be in [0, 1), got ${s.dropout}`);
  if (Array.isArray(s.targetModules) && s.targetModules.length === 0) throw new Error("LoRA targetModules is empty");
}


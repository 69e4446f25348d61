// Errors of the PyTorch executor (export, environment check, launch): T76xx.
//
// Why this exists: a torch run fails far from the recipe (on a cluster, after minutes of loading), so every
// failure tune can predict is reported up front like a compiler error — a code, a message that stands on its
// own and a hint that says what to do. T71xx belong to the in-process executor (runtime/exec); the generated
// Python programs use T764x for the errors they raise themselves (tune_torch/common.py `fail`).

export const TORCH_CODES = {
  T7601: "python interpreter not found or not runnable",
  T7602: "python too old",
  T7603: "torch is not installed",
  T7604: "transformers is not installed or too old",
  T7605: "peft is not installed (the recipe trains an adapter)",
  T7606: "accelerate is not installed",
  T7607: "no CUDA device",
  T7608: "fewer GPUs than the recipe asks for",
  T7609: "bitsandbytes is missing or broken (the recipe quantizes)",
  T7610: "deepspeed is missing or broken (the recipe asks for ZeRO)",
  T7611: "lm_eval is not installed (eval tasks will be skipped)",
  T7612: "the environment probe failed",
  T7613: "flash-attn is not installed (sdpa attention is used)",
  T7620: "no rendered data for a training node",
  T7621: "the graph has a node the torch executor cannot run",
  T7622: "data file cannot be read",
  T7623: "output directory is not empty",
  T7624: "a training node's input is not a model",
  T7630: "not an exported torch project",
  T7631: "launch script cannot be started",
  T7640: "not a tune torch job file (raised by the generated program)",
  T7641: "model location not found (raised by the generated program)",
  T7642: "loss not supported by the generated program",
  T7643: "no training examples (raised by the generated program)",
  T7644: "adapter cannot be exported alone",
  T7645: "lm_eval failed",
  T7646: "TUNE_MAX_ROWS / TUNE_MAX_STEPS is not a whole number (raised by the generated program)",
} as const;

export type TorchCode = keyof typeof TORCH_CODES;

/** A torch-executor error: a code, a self-contained message and a hint. */
export class TorchError extends Error {
  readonly code: TorchCode;
  readonly hint: string;

  constructor(code: TorchCode, message: string, hint: string) {
    super(message);
    this.name = "TorchError";
    this.code = code;
    this.hint = hint;
  }

  /** `error[T7620]: message\n  = help: hint` as the CLI prints it. */
  render(): string {
    return `error[${this.code}]: ${this.message}\n  = help: ${this.hint}`;
  }
}

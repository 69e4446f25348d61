// Errors of loading and saving whole model directories (config + weights + tokenizer).
//
// Why this exists: runtime/io reports problems inside one file (T600x safetensors, T602x shards, T603x config);
// a model directory can also be inconsistent across files (the config says 4 layers, the weights hold 2). These
// codes name the tensor and the file that disagree, with what was expected.
//
// Codes: T6090 weight missing for the config · T6091 weight shape differs from the config · T6092 unexpected
// tensor (not a Llama weight) · T6093 weight stored in a non-float dtype (quantized/integer checkpoints) ·
// T6094 tokenizer and config disagree (more token ids than vocab_size) · T6095 output directory problem
// (exists as a file, cannot be replaced) · T6096 adapter does not fit the model.

export class CheckpointError extends Error {
  readonly code: string;
  readonly hint: string;
  readonly file: string;
  constructor(code: string, file: string, message: string, hint: string) {
    super(`${code}: ${file}: ${message}`);
    this.name = "CheckpointError";
    this.code = code;
    this.hint = hint;
    this.file = file;
  }
}

/** Code and hint of any coded runtime error (CheckpointError, SafetensorsError, HfConfigError, …), if it has them. */
export function codedError(err: unknown): { code: string; message: string; hint: string } | null {
  if (!(err instanceof Error)) return null;
  const e = err as Error & { code?: unknown; hint?: unknown };
  if (typeof e.code === "string" && /^T\d{4}$/.test(e.code)) {
    return { code: e.code, message: e.message, hint: typeof e.hint === "string" ? e.hint : "" };
  }
  return null;
}

// `tune generate` and `tune logprobs`: run a model directory (optionally with a PEFT adapter) from the shell.
//
// Why this exists: users want to see what a base model or a trained adapter does with a prompt, and parity checks
// against transformers need per-token log-probabilities in a fixed JSON shape:
//   {"model": DIR, "adapter": DIR|null, "tokens": [{"id", "text", "logprob"}…]}, the first token's logprob null.
// The commands are plain async functions returning an exit code (testable in-process with an `Io`); commander
// wiring is in `registerModelCommands`. Every failure is one message on stderr (with its T-code and hint when the
// runtime gave one) and exit code 2, never a stack trace.

import { type Command, InvalidArgumentError, Option } from "commander";
// Only types and light modules are imported statically: tfjs and the tokenizer engine load when a model command
// runs (see `runtime()`), so registering these commands costs the rest of the CLI nothing at startup.
import type { DeviceRequest } from "../runtime/backend/index.js";
import { CheckpointError, codedError } from "../runtime/checkpoint/errors.js";
import type { LoadedModelDir } from "../runtime/checkpoint/load.js";
import type { LoraAdapter } from "../runtime/lora/adapter.js";
import type { Tokenizer } from "../runtime/tokenizer/load.js";
import { type Io, processIo } from "./commands.js";

/** The runtime modules the commands need, loaded on first use. */
async function runtime() {
  const [backend, load, peft, lora, config, gen, lp] = await Promise.all([
    import("../runtime/backend/index.js"), import("../runtime/checkpoint/load.js"), import("../runtime/io/peft.js"),
    import("../runtime/lora/adapter.js"), import("../runtime/model/config.js"), import("../runtime/model/generate.js"),
    import("../runtime/model/logprobs.js"),
  ]);
  return {
    initBackend: backend.initBackend, loadModelDir: load.loadModelDir, readPeftAdapter: peft.readPeftAdapter,
    LoraAdapter: lora.LoraAdapter, llamaLinearModules: config.llamaLinearModules, generate: gen.generate,
    tokenLogProbs: lp.tokenLogProbs,
  };
}

export const DEVICES: readonly DeviceRequest[] = ["auto", "wasm", "cpu", "tensorflow", "gpu"];

export interface ModelOptions {
  model: string;
  adapter?: string;
  device?: DeviceRequest;
}

export interface GenerateCommandOptions extends ModelOptions {
  prompt: string;
  maxNewTokens?: number;
  temperature?: number;
  topP?: number;
  stop?: string[];
  seed?: number;
  json?: boolean;
}

export interface LogprobsCommandOptions extends ModelOptions {
  text: string;
  json?: boolean;
}

/** A bad command-line value (reported as `error: …`, exit 2). */
class ArgError extends Error {}

// ---- shared ----------------------------------------------------------------------------------------------------

function reportError(err: unknown, io: Io): number {
  const coded = codedError(err);
  if (coded) {
    const msg = coded.message.startsWith(`${coded.code}: `) ? coded.message.slice(coded.code.length + 2) : coded.message;
    io.err(`error[${coded.code}]: ${msg}\n${coded.hint ? `  = help: ${coded.hint}\n` : ""}`);
  } else {
    io.err(`error: ${err instanceof Error ? err.message : String(err)}\n`);
  }
  return 2;
}

/** Attach a PEFT LoRA adapter directory to a loaded model (every adapted module must exist with matching shapes). */
export async function attachAdapterDir(loaded: LoadedModelDir, dir: string): Promise<LoraAdapter> {
  const { readPeftAdapter, LoraAdapter, llamaLinearModules } = await runtime();
  const peft = await readPeftAdapter(dir);
  const known = new Set(llamaLinearModules(loaded.config));
  const foreign = [...peft.layers.keys()].filter((m) => !known.has(m));
  if (foreign.length > 0) {
    throw new CheckpointError("T6096", dir, `the adapter adapts \`${foreign[0]}\`, which ${loaded.dir} does not have`, "the adapter was trained on a different base model");
  }
  const adapter = LoraAdapter.attach(loaded.model, {
    r: peft.r, alpha: peft.alpha, dropout: 0, targetModules: [...peft.layers.keys()], useRslora: peft.rslora, seed: 0,
  });
  try {
    adapter.loadPeftAdapter(peft);
  } catch (err) {
    throw new CheckpointError("T6096", dir, (err as Error).message, "the adapter was trained on a different base model");
  }
  return adapter;
}

async function openModel(o: ModelOptions, io: Io): Promise<{ loaded: LoadedModelDir; tokenizer: Tokenizer }> {
  const device = o.device ?? "wasm";
  if (!DEVICES.includes(device)) throw new ArgError(`--device must be one of ${DEVICES.join(", ")}, got "${device}"`);
  const { initBackend, loadModelDir } = await runtime();
  const info = await initBackend(device);
  io.err(`backend: ${info.device}\n`);
  const loaded = await loadModelDir(o.model);
  if (o.adapter) await attachAdapterDir(loaded, o.adapter);
  return { loaded, tokenizer: loaded.tokenizer! };
}

/** Ids the model sees for `text`: the tokenizer's own special tokens (BOS when it adds one), BOS not doubled. */
export function promptIds(tok: Tokenizer, text: string): number[] {
  const plain = tok.encode(text);
  if (tok.addsBos && tok.bosId !== null && plain[0] === tok.bosId) return plain;
  return tok.encodeWithSpecials(text);
}

// ---- generate --------------------------------------------------------------------------------------------------

function checkGenerate(o: GenerateCommandOptions): void {
  const n = o.maxNewTokens ?? 64;
  if (!Number.isInteger(n) || n < 1) throw new ArgError(`--max-new-tokens must be a positive integer, got ${n}`);
  const t = o.temperature ?? 0;
  if (!(t >= 0) || !Number.isFinite(t)) throw new ArgError(`--temperature must be ≥ 0, got ${t}`);
  const p = o.topP ?? 1;
  if (!(p > 0 && p <= 1)) throw new ArgError(`--top-p must be in (0, 1], got ${p}`);
  if (o.seed !== undefined && !Number.isSafeInteger(o.seed)) throw new ArgError(`--seed must be an integer, got ${o.seed}`);
}

export async function generateCommand(o: GenerateCommandOptions, io: Io = processIo): Promise<number> {
  try {
    checkGenerate(o);
    const { loaded, tokenizer } = await openModel(o, io);
    const { generate } = await runtime();
    const ids = promptIds(tokenizer, o.prompt);
    if (ids.length === 0) throw new ArgError("--prompt is empty and the tokenizer adds no BOS token: nothing to condition on");
    if (ids.length >= loaded.config.maxPositionEmbeddings) {
      throw new ArgError(`the prompt has ${ids.length} tokens; the model's context is ${loaded.config.maxPositionEmbeddings}`);
    }
    const maxNew = Math.min(o.maxNewTokens ?? 64, loaded.config.maxPositionEmbeddings - ids.length);
    const result = generate(loaded.model, ids, {
      maxNewTokens: maxNew, temperature: o.temperature ?? 0, topP: o.topP ?? 1, seed: o.seed ?? 0,
      eosTokenIds: loaded.generation.eosTokenIds, stopStrings: o.stop ?? [],
      decode: (t) => tokenizer.decode(t.filter((id) => !loaded.generation.eosTokenIds.includes(id))),
    });
    const text = result.text ?? "";
    if (o.json) {
      io.out(JSON.stringify({ model: o.model, adapter: o.adapter ?? null, prompt: o.prompt, prompt_tokens: ids.length,
        completion: text, tokens: result.tokens, finish_reason: result.finishReason }, null, 2) + "\n");
    } else {
      io.out(text.endsWith("\n") ? text : `${text}\n`);
      io.err(`finish: ${result.finishReason} (${result.tokens.length} new tokens)\n`);
    }
    loaded.model.dispose();
    return 0;
  } catch (err) {
    return reportError(err, io);
  }
}

// ---- logprobs --------------------------------------------------------------------------------------------------

export interface TokenLogprobEntry {
  id: number;
  text: string;
  logprob: number | null;
}

/** Per-token entries for `text`: one per token, the first with a null logprob. */
export async function logprobEntries(loaded: LoadedModelDir, tok: Tokenizer, text: string): Promise<TokenLogprobEntry[]> {
  const { tokenLogProbs } = await runtime();
  const ids = promptIds(tok, text);
  if (ids.length === 0) throw new ArgError("--text is empty and the tokenizer adds no BOS token: there is no token to score");
  if (ids.length > loaded.config.maxPositionEmbeddings) {
    throw new ArgError(`the text has ${ids.length} tokens; the model's context is ${loaded.config.maxPositionEmbeddings}`);
  }
  const lp = ids.length > 1 ? tokenLogProbs(loaded.model, ids).logprobs : new Float32Array(0);
  return ids.map((id, i) => ({ id, text: tok.tokenText(id), logprob: i === 0 ? null : lp[i - 1] }));
}

export async function logprobsCommand(o: LogprobsCommandOptions, io: Io = processIo): Promise<number> {
  try {
    const { loaded, tokenizer } = await openModel(o, io);
    const tokens = await logprobEntries(loaded, tokenizer, o.text);
    if (o.json) {
      io.out(JSON.stringify({ model: o.model, adapter: o.adapter ?? null, tokens }) + "\n");
    } else {
      const total = tokens.reduce((s, t) => s + (t.logprob ?? 0), 0);
      io.out(tokens.map((t) => `${String(t.id).padStart(6)}  ${t.logprob === null ? "      —" : t.logprob.toFixed(4).padStart(9)}  ${JSON.stringify(t.text)}`).join("\n") + "\n");
      io.out(`sum ${total.toFixed(4)} over ${tokens.length - 1} scored tokens\n`);
    }
    loaded.model.dispose();
    return 0;
  } catch (err) {
    return reportError(err, io);
  }
}

// ---- commander wiring ------------------------------------------------------------------------------------------

function num(flag: string): (v: string) => number {
  return (v) => {
    const x = Number(v);
    if (v.trim() === "" || Number.isNaN(x)) throw new InvalidArgumentError(`${flag} expects a number.`);
    return x;
  };
}

const collect = (v: string, prev: string[]): string[] => [...prev, v];
const deviceOption = (): Option => new Option("--device <device>", "tensor backend").choices([...DEVICES]).default("wasm");

/**
 * Add `generate` and `logprobs` to the `tune` program. `setExit` receives the exit code (cli/main.ts passes its
 * own); by default it sets process.exitCode.
 */
export function registerModelCommands(program: Command, setExit: (code: number) => void = (c) => (process.exitCode = c)): void {
  const guard = (fn: () => Promise<number>) => async (): Promise<void> => {
    try {
      setExit(await fn());
    } catch (err) {
      setExit(reportError(err, processIo));
    }
  };
  program
    .command("generate")
    .description("continue a prompt with a model directory (and optionally a LoRA adapter)")
    .requiredOption("--model <dir>", "Hugging Face model directory (config.json, safetensors, tokenizer.json)")
    .option("--adapter <dir>", "PEFT LoRA adapter directory")
    .requiredOption("--prompt <text>", "prompt text (BOS is added when the tokenizer adds one)")
    .option("--max-new-tokens <n>", "new tokens at most", num("--max-new-tokens"), 64)
    .option("--temperature <t>", "0 = greedy", num("--temperature"), 0)
    .option("--top-p <p>", "nucleus sampling threshold", num("--top-p"), 1)
    .option("--stop <s>", "stop string (repeatable)", collect, [] as string[])
    .option("--seed <n>", "sampling seed", num("--seed"), 0)
    .option("--json", "print a JSON object instead of the text")
    .addOption(deviceOption())
    .action((opts: GenerateCommandOptions) => guard(() => generateCommand(opts))());
  program
    .command("logprobs")
    .description("per-token log-probabilities of a text under a model (and optionally a LoRA adapter)")
    .requiredOption("--model <dir>", "Hugging Face model directory")
    .option("--adapter <dir>", "PEFT LoRA adapter directory")
    .requiredOption("--text <text>", "text to score")
    .option("--json", 'JSON: {"model", "adapter", "tokens": [{"id", "text", "logprob"}]}')
    .addOption(deviceOption())
    .action((opts: LogprobsCommandOptions) => guard(() => logprobsCommand(opts))());
}

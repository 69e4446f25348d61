// `tune generate` / `tune logprobs` run in-process on the shipped tiny model: output shapes, adapters, errors.
//
// Why this exists: the logprobs JSON is a parity interface (other tools diff it), so its shape is pinned; and
// a CLI must turn every failure into one readable line with exit code 2, never a stack trace.

import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Command, CommanderError } from "commander";
import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { generateCommand, logprobsCommand, registerModelCommands } from "../../cli/model-commands.js";
import type { Io } from "../../cli/commands.js";
import { initBackend } from "../../runtime/backend/index.js";
import { loadModelDir } from "../../runtime/checkpoint/index.js";
import { writePeftAdapter } from "../../runtime/io/peft.js";
import { LoraAdapter } from "../../runtime/lora/adapter.js";
import { tokenLogProbs } from "../../runtime/model/logprobs.js";

const ROOT = new URL("../..", import.meta.url).pathname;
const MODEL = join(ROOT, "models/tiny-llama");
const TEXT = "Give three tips for staying healthy.";

function capture(): Io & { stdout: string; stderr: string } {
  const io = { stdout: "", stderr: "", out: (t: string) => void (io.stdout += t), err: (t: string) => void (io.stderr += t) };
  return io;
}

let tmp: string;
let adapterDir: string;

beforeAll(async () => {
  await initBackend("wasm");
  tmp = await mkdtemp(join(tmpdir(), "tune-cli-model-"));
  adapterDir = join(tmp, "adapter");
  const loaded = await loadModelDir(MODEL, { tokenizer: false });
  const adapter = LoraAdapter.attach(loaded.model, { r: 4, alpha: 8, dropout: 0, targetModules: ["q_proj", "v_proj"], useRslora: false, seed: 1 });
  for (const m of adapter.modules.values()) m.B.assign(tf.randomNormal(m.B.shape, 0, 0.5, "float32", 7));
  await writePeftAdapter(adapterDir, adapter.toPeftAdapter(MODEL));
  loaded.model.dispose();
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

describe("tune logprobs", () => {
  it("--json: {model, adapter, tokens}, one entry per token, BOS first with logprob null", async () => {
    const io = capture();
    expect(await logprobsCommand({ model: MODEL, text: TEXT, json: true }, io)).toBe(0);
    const out = JSON.parse(io.stdout) as { model: string; adapter: null; tokens: { id: number; text: string; logprob: number | null }[] };
    expect(Object.keys(out)).toEqual(["model", "adapter", "tokens"]);
    expect(out.model).toBe(MODEL);
    expect(out.adapter).toBeNull();
    expect(out.tokens[0]).toEqual({ id: 1, text: "<|begin_of_text|>", logprob: null });
    for (const t of out.tokens) expect(Object.keys(t)).toEqual(["id", "text", "logprob"]);
    expect(out.tokens.slice(1).map((t) => t.text).join("")).toBe(TEXT);
    const loaded = await loadModelDir(MODEL);
    const ids = loaded.tokenizer!.encodeWithSpecials(TEXT);
    expect(out.tokens.map((t) => t.id)).toEqual(ids);
    const want = tokenLogProbs(loaded.model, ids).logprobs;
    out.tokens.slice(1).forEach((t, i) => expect(t.logprob).toBeCloseTo(want[i], 5));
    loaded.model.dispose();
    expect(io.stderr).toMatch(/^backend: wasm/);
  });

  it("--adapter changes the scores, exactly as the adapter attached in process does", async () => {
    const io = capture();
    expect(await logprobsCommand({ model: MODEL, adapter: adapterDir, text: TEXT, json: true }, io)).toBe(0);
    const out = JSON.parse(io.stdout) as { adapter: string; tokens: { id: number; logprob: number | null }[] };
    expect(out.adapter).toBe(adapterDir);
    const base = capture();
    await logprobsCommand({ model: MODEL, text: TEXT, json: true }, base);
    const baseLp = (JSON.parse(base.stdout) as typeof out).tokens.map((t) => t.logprob);
    const diff = Math.max(...out.tokens.slice(1).map((t, i) => Math.abs(t.logprob! - baseLp[i + 1]!)));
    expect(diff).toBeGreaterThan(1e-3);
  });

  it("plain output: a table and the sum", async () => {
    const io = capture();
    expect(await logprobsCommand({ model: MODEL, text: "Hi", json: false }, io)).toBe(0);
    expect(io.stdout).toMatch(/^\s+1\s+—\s+"<\|begin_of_text\|>"/);
    expect(io.stdout).toMatch(/sum -\d+\.\d{4} over \d+ scored tokens/);
  });
});

describe("tune generate", () => {
  it("greedy by default, deterministic; --json has the completion and finish reason", async () => {
    const a = capture();
    const b = capture();
    expect(await generateCommand({ model: MODEL, prompt: TEXT + "\n\n", maxNewTokens: 12, json: true }, a)).toBe(0);
    expect(await generateCommand({ model: MODEL, prompt: TEXT + "\n\n", maxNewTokens: 12, json: true }, b)).toBe(0);
    expect(a.stdout).toBe(b.stdout);
    const out = JSON.parse(a.stdout) as { completion: string; tokens: number[]; finish_reason: string; prompt_tokens: number; adapter: null };
    expect(out.tokens.length).toBeGreaterThan(0);
    expect(out.tokens.length).toBeLessThanOrEqual(12);
    expect(["eos", "length", "stop"]).toContain(out.finish_reason);
    expect(out.adapter).toBeNull();
  });

  it("seeded sampling with --temperature/--top-p is reproducible; --stop cuts the text", async () => {
    const run = async (seed: number): Promise<string> => {
      const io = capture();
      await generateCommand({ model: MODEL, prompt: TEXT, maxNewTokens: 10, temperature: 1, topP: 0.95, seed }, io);
      return io.stdout;
    };
    expect(await run(5)).toBe(await run(5));
    const io = capture();
    await generateCommand({ model: MODEL, prompt: TEXT + "\n\n", maxNewTokens: 30, stop: [" "] }, io);
    expect(io.stdout.trimEnd()).not.toContain(" ");
    expect(io.stderr).toMatch(/finish: (stop|eos|length)/);
  });
});

describe("errors: one line on stderr with code and help, exit 2, no stack", () => {
  const noStack = (s: string): void => expect(s).not.toMatch(/\n\s+at /);

  it("missing model directory → T6033", async () => {
    const io = capture();
    expect(await logprobsCommand({ model: join(tmp, "nope"), text: "x" }, io)).toBe(2);
    expect(io.stderr).toMatch(/error\[T6033\]: \S*nope: cannot read \(ENOENT\)/);
    expect(io.stderr).toMatch(/= help: /);
    noStack(io.stderr);
  });

  it("adapter directory without files → T6040; bad option values → error: …", async () => {
    let io = capture();
    expect(await generateCommand({ model: MODEL, adapter: tmp, prompt: "x" }, io)).toBe(2);
    expect(io.stderr).toMatch(/error\[T6040\]/);
    noStack(io.stderr);
    io = capture();
    expect(await generateCommand({ model: MODEL, prompt: "x", topP: 2 }, io)).toBe(2);
    expect(io.stderr).toBe("error: --top-p must be in (0, 1], got 2\n");
    io = capture();
    expect(await generateCommand({ model: MODEL, prompt: "x", maxNewTokens: 0 }, io)).toBe(2);
    expect(io.stderr).toMatch(/^error: --max-new-tokens must be a positive integer/);
  });
});

describe("registerModelCommands (commander wiring)", () => {
  function program(setExit: (c: number) => void): Command {
    const p = new Command().exitOverride().configureOutput({ writeErr: () => undefined, writeOut: () => undefined });
    registerModelCommands(p, setExit);
    return p;
  }

  it("parses options and reports the exit code", async () => {
    let code = -1;
    const write = vi.spyOn(process.stdout, "write").mockImplementation(() => true);
    const werr = vi.spyOn(process.stderr, "write").mockImplementation(() => true);
    try {
      await program((c) => (code = c)).parseAsync(["logprobs", "--model", MODEL, "--text", "Hi", "--json"], { from: "user" });
      expect(code).toBe(0);
      const json = JSON.parse(String(write.mock.calls.map((c) => c[0]).join(""))) as { tokens: unknown[] };
      expect(json.tokens.length).toBeGreaterThan(1);
      await program((c) => (code = c)).parseAsync(["generate", "--model", join(tmp, "nope"), "--prompt", "x"], { from: "user" });
      expect(code).toBe(2);
    } finally {
      write.mockRestore();
      werr.mockRestore();
    }
  });

  it("missing required options and non-numeric values are commander errors (main.ts maps them to exit 2)", async () => {
    await expect(program(() => undefined).parseAsync(["logprobs", "--text", "x"], { from: "user" })).rejects.toBeInstanceOf(CommanderError);
    await expect(program(() => undefined).parseAsync(["generate", "--model", MODEL, "--prompt", "x", "--top-p", "abc"], { from: "user" }))
      .rejects.toThrow(/--top-p expects a number/);
    await expect(program(() => undefined).parseAsync(["generate", "--model", MODEL, "--prompt", "x", "--device", "tpu"], { from: "user" }))
      .rejects.toBeInstanceOf(CommanderError);
  });
});

// Opt-in: the exported PyTorch projects really run (CPU), through `tune run --executor torch --smoke`.
//   TUNE_TORCH_PYTHON=/path/to/python npx vitest run test/runtime-torch/run-exported.test.ts
// The interpreter needs torch, transformers, peft and accelerate (see docs/torch-executor.md for the versions
// this was run with). Checks, on the shipped tiny recipes (quickstart: LoRA SFT; dpo-demo: LoRA SFT → SamPO
// continuing the SFT adapter against it as reference → export):
//   • the run completes; status.json, metrics.jsonl and summary.json are the run directory's;
//   • each trained adapter is PEFT's own layout: adapter_config.json keys and LoRA targets, safetensors tensor
//     names (and no frozen "ref" adapter saved with it), trainer_state.json's losses = the streamed metrics;
//   • the first SFT step's loss equals tune's in-process loss on the same accumulation window (same rows, same
//     epoch order, HF's num_items_in_batch normalisation), computed here with runtime/train/loss.ts;
//   • the SamPO adapter loaded by tune's in-process runtime (`tune logprobs`) gives transformers + PEFT's
//     log-probs (fixtures/adapter_logprobs.py);
//   • an abort forwards SIGINT: the step checkpoints, the run ends 130 "interrupted", and `bash launch.sh`
//     resumes from the checkpoint to the end.
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { beforeAll, describe, expect, test } from "vitest";
import { logprobsCommand } from "../../cli/model-commands.js";
import { runRecipeCommand } from "../../cli/run.js";
import { packageRoot } from "../../cli/host.js";
import { initBackend } from "../../runtime/backend/index.js";
import { loadModelDir } from "../../runtime/checkpoint/load.js";
import { tokenizeExample } from "../../runtime/data/tokenize.js";
import { epochWindows } from "../../runtime/exec/batches.js";
import { parseSafetensorsHeader } from "../../runtime/io/safetensors-header.js";
import { launchTorchProject, type ProgressRecord } from "../../runtime/torch/index.js";
import { runTorchGraph } from "../../runtime/torch/run.js";
import { causalLmLossSum } from "../../runtime/train/loss.js";
import { compileRecipe, tempDir } from "./helpers.js";

const PY = process.env["TUNE_TORCH_PYTHON"] ?? "";
const TINY = resolve("models/tiny-llama");
const LORA_NAME = /^base_model\.model\.model\.layers\.(\d+)\.(self_attn|mlp)\.(q|k|v|o|gate|up|down)_proj\.lora_(A|B)\.weight$/;

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { out: (t: string) => void out.push(t), err: (t: string) => void err.push(t) }, out, err };
}

function onlyRun(runsDir: string): string {
  const runs = readdirSync(runsDir).filter((d) => !d.startsWith("."));
  expect(runs).toHaveLength(1);
  return join(runsDir, runs[0]!);
}

function json<T = Record<string, unknown>>(path: string): T {
  return JSON.parse(readFileSync(path, "utf8")) as T;
}

/** PEFT layout of `dir`: config keys, targets, tensor names (4 layers × targets × A/B), no second adapter. */
function checkAdapter(dir: string, targets: string[], r: number, alpha: number): void {
  const config = json(join(dir, "adapter_config.json"));
  expect(config).toMatchObject({ peft_type: "LORA", task_type: "CAUSAL_LM", r, lora_alpha: alpha, bias: "none" });
  expect([...(config["target_modules"] as string[])].sort()).toEqual([...targets].sort());
  const bytes = readFileSync(join(dir, "adapter_model.safetensors"));
  const names = parseSafetensorsHeader(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength)).tensors.map((t) => t.name);
  expect(names.every((n) => LORA_NAME.test(n)), names.find((n) => !LORA_NAME.test(n))).toBe(true);
  expect(names).toHaveLength(4 * targets.length * 2);
  expect(new Set(names.map((n) => LORA_NAME.exec(n)![3] + "_proj"))).toEqual(new Set(targets));
  expect(existsSync(join(dir, "ref"))).toBe(false);
}

/** trainer_state.json's per-step losses = the run's streamed metrics for that node; returns them. */
function checkTrainerState(runDir: string, slug: string, node: string, steps: number): number[] {
  const state = json<{ global_step: number; log_history: Record<string, number>[] }>(join(runDir, "torch", "runs", slug, "trainer_state.json"));
  expect(state.global_step).toBe(steps);
  const losses = state.log_history.filter((h) => typeof h["loss"] === "number").map((h) => h["loss"]!);
  expect(losses).toHaveLength(steps);
  for (const l of losses) expect(Number.isFinite(l) && l > 0).toBe(true);
  const streamed = readFileSync(join(runDir, "metrics.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l) as Record<string, unknown>)
    .filter((m) => m["node"] === node && typeof m["loss"] === "number").map((m) => m["loss"] as number);
  expect(streamed).toEqual(losses);
  return losses;
}

describe.skipIf(!PY)("exported torch projects run on CPU (TUNE_TORCH_PYTHON)", () => {
  beforeAll(async () => {
    await initBackend("wasm");
  });

  test("dpo-demo: SFT → SamPO → export, adapters in PEFT layout, loadable by tune", async () => {
    const runsDir = tempDir("run-dpo");
    const c = capture();
    const code = await runRecipeCommand("recipes/dpo-demo.tune", {
      dryRun: false, smoke: true, color: false, device: "wasm", runsDir, cache: false, executor: "torch", python: PY,
    }, c.io);
    expect(code, c.err.join("").slice(-3000)).toBe(0);
    const run = onlyRun(runsDir);
    const status = json<{ state: string; nodes: Record<string, { state: string }> }>(join(run, "status.json"));
    expect(status.state).toBe("completed");
    for (const id of ["load_model:tiny", "train:sft", "train:sampo", "export:sampo"]) expect(status.nodes[id]?.state, id).toBe("done");
    expect(json(join(run, "summary.json"))).toMatchObject({ executor: "torch", ok: true, exitCode: 0 });
    const all = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"];
    checkAdapter(join(run, "torch/runs/train_sft/adapter"), all, 8, 16);
    checkAdapter(join(run, "torch/runs/train_sampo/adapter"), all, 8, 16);
    checkAdapter(join(run, "torch/runs/export_sampo/adapter"), all, 8, 16);
    checkTrainerState(run, "train_sft", "train:sft", 12);
    const dpo = checkTrainerState(run, "train_sampo", "train:sampo", 12);
    expect(Math.abs(dpo[0]! - Math.log(2))).toBeLessThan(0.5); // policy = reference at step 1, up to SamPO's random subsets
    const metrics = readFileSync(join(run, "metrics.jsonl"), "utf8");
    for (const name of ["rewards/chosen", "rewards/margins", "logps/chosen", "eval_loss"]) expect(metrics).toContain(`"${name}"`);

    // tune's in-process runtime loads the SamPO adapter and agrees with transformers + PEFT.
    const adapter = join(run, "torch/runs/export_sampo/adapter");
    const text = "Below is an instruction that describes a task.\n\n### Instruction:\nSay hello politely.\n\n### Response:\nHello!";
    const ref = JSON.parse(execFileSync(PY, ["test/runtime-torch/fixtures/adapter_logprobs.py", TINY, adapter, text], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] })) as { ids: number[]; logprobs: (number | null)[] };
    const ours = async (withAdapter: boolean) => {
      const o = capture();
      expect(await logprobsCommand({ model: TINY, ...(withAdapter ? { adapter } : {}), text, json: true, device: "wasm" }, o.io)).toBe(0);
      return (JSON.parse(o.out.join("")) as { tokens: { id: number; logprob: number | null }[] }).tokens;
    };
    const tuned = await ours(true);
    const base = await ours(false);
    expect(tuned.map((t) => t.id)).toEqual(ref.ids);
    let maxDiff = 0;
    let effect = 0;
    for (let i = 1; i < tuned.length; i++) {
      maxDiff = Math.max(maxDiff, Math.abs(tuned[i]!.logprob! - ref.logprobs[i]!));
      effect = Math.max(effect, Math.abs(tuned[i]!.logprob! - base[i]!.logprob!));
    }
    expect(maxDiff).toBeLessThan(1e-4);
    expect(effect).toBeGreaterThan(1e-3); // the adapter changes the model: the agreement is not the base's
  }, 900_000);

  test("quickstart: first-step loss = in-process loss on the same window; SIGINT checkpoints, launch.sh resumes", async () => {
    const runsDir = tempDir("run-qs");
    const { graph, text } = compileRecipe("quickstart.tune");
    const ac = new AbortController();
    let logged = 0;
    const r = await runTorchGraph({
      graph, recipePath: resolve("recipes/quickstart.tune"), recipeText: text, packageRoot: packageRoot(), runsDir, python: PY, smoke: true,
      tuneVersion: "test", out: { isTTY: false, write: () => {} }, signal: ac.signal, forwardSigint: false, env: { TUNE_MAX_STEPS: "4" },
      onMetric: (m) => {
        if (m["node"] === "train:sft" && typeof m["loss"] === "number" && ++logged === 2) ac.abort();
      },
    });
    expect(r).toMatchObject({ exitCode: 130, interrupted: true });
    expect(json(join(r.runDir, "status.json"))).toMatchObject({ state: "interrupted" });
    expect(json(join(r.runDir, "summary.json"))).toMatchObject({ state: "interrupted", resume: `cd ${r.projectDir} && bash launch.sh` });
    const ckpts = readdirSync(join(r.projectDir!, "runs/train_sft/checkpoints"));
    expect(ckpts.length).toBeGreaterThan(0);
    expect(existsSync(join(r.projectDir!, "runs/train_sft/done.json"))).toBe(false);

    // Run the project again, as the summary says: it resumes from the checkpoint and finishes.
    const events: ProgressRecord[] = [];
    const again = await launchTorchProject(r.projectDir!, {
      env: { PYTHON: PY, TUNE_MODEL_TINY: TINY, TUNE_MAX_ROWS: "200", TUNE_MAX_STEPS: "4" }, forwardSigint: false, onEvent: (e) => events.push(e),
    });
    expect(again.exitCode).toBe(0);
    expect(events.find((e) => e["event"] === "resume")).toMatchObject({ node: "train:sft", checkpoint: expect.stringMatching(/checkpoint-\d+$/) });
    expect(events.find((e) => e["event"] === "node_done" && e["node"] === "export:sft")).toBeDefined();
    checkAdapter(join(r.projectDir!, "runs/train_sft/adapter"), ["q_proj", "v_proj"], 8, 16);
    const state = json<{ global_step: number; log_history: Record<string, number>[] }>(join(r.projectDir!, "runs/train_sft/trainer_state.json"));
    expect(state.global_step).toBe(4);
    const losses = state.log_history.filter((h) => typeof h["loss"] === "number");
    expect(losses.map((h) => h["step"])).toEqual([1, 2, 3, 4]);

    // tune's in-process loss on the first accumulation window of the same rows (epoch order, HF normalisation).
    const rows = readFileSync(join(r.projectDir!, "data/train_sft/train.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l) as { prompt: string; completion: string; append_eos: boolean }).slice(0, 200);
    const loaded = await loadModelDir(TINY);
    const tok = loaded.tokenizer!;
    const examples = rows
      .map((row) => tokenizeExample({ prompt: row.prompt, completion: row.completion, appendEos: row.append_eos }, tok, { cutoff: 256, bosId: tok.bosId ?? undefined, eosId: tok.eosId ?? undefined }))
      .filter((e) => e.labels.some((l) => l !== -100));
    const window = epochWindows(examples, 4, 4, loaded.config.padTokenId ?? 0, graph.seed, 0)[0]!;
    let sum = 0;
    let count = 0;
    for (const b of window) {
      const part = causalLmLossSum(loaded.model, b);
      sum += (await part.sum.data())[0]!;
      part.sum.dispose();
      count += part.count;
    }
    expect(Math.abs(losses[0]!["loss"]! - sum / count)).toBeLessThan(1e-4);
  }, 900_000);
});

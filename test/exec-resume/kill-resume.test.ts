// A real `tune run` is killed with SIGKILL during data prep, mid training and mid eval, and stopped with
// SIGINT once (exit 130 after saving a checkpoint); each time `tune run --resume` continues it. The final
// adapter, the final checkpoint (weights + AdamW moments), the metrics and the eval results must equal those
// of an uninterrupted run with the same seed, byte for byte (metrics: every field but time stamps and tok/s).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bundleCli, checkpointExists, cleanup, metricsWithoutTiming, onlyRun, runCli, tempDir } from "./helpers.js";

const RECIPE = "test/exec-resume/resume-check.tune";
let entry = "";

beforeAll(async () => {
  entry = await bundleCli();
}, 120_000);
afterAll(cleanup);

function evalValues(runDir: string, file: string): unknown {
  const j = JSON.parse(readFileSync(join(runDir, "eval", file), "utf8")) as { run: { results: { name: string; n: number; metrics: unknown }[] } };
  return j.run.results.map((r) => ({ name: r.name, n: r.n, metrics: r.metrics }));
}

describe("tune run --resume after SIGKILL / SIGINT", () => {
  it("ends with the same adapter, checkpoint, metrics and eval as an uninterrupted run", async () => {
    const ref = { runs: join(tempDir("resume-ref"), "runs"), cache: tempDir("resume-ref-cache") };
    const r0 = await runCli(entry, ["run", RECIPE, "--runs-dir", ref.runs], ref.cache);
    expect(r0.code, r0.stdout).toBe(0);
    const refDir = onlyRun(ref.runs);

    const k = { runs: join(tempDir("resume-kill"), "runs"), cache: tempDir("resume-kill-cache") };
    const args = ["run", RECIPE, "--runs-dir", k.runs];
    // 1. SIGKILL while the data half runs.
    const a = await runCli(entry, args, k.cache, { stdout: "] split:", signal: "SIGKILL" });
    expect(a.signal).toBe("SIGKILL");
    // 2. SIGKILL mid training, once checkpoint-2 exists.
    const b = await runCli(entry, [...args, "--resume"], k.cache, { check: () => checkpointExists(k.runs, "sft", 2), signal: "SIGKILL" });
    expect(b.signal, b.stdout).toBe("SIGKILL");
    expect(b.stdout).toContain("cached");
    // 3. SIGINT mid training: the current step finishes, a checkpoint is saved, exit 130.
    const c = await runCli(entry, [...args, "--resume"], k.cache, { check: () => checkpointExists(k.runs, "sft", 4), signal: "SIGINT" });
    expect(c.stdout).toMatch(/resumed from .*checkpoint-2 \(step 2\)/);
    expect(c.code, c.stdout).toBe(130);
    // 4. SIGKILL once the evaluation started.
    const d = await runCli(entry, [...args, "--resume"], k.cache, { stdout: "] eval_task:", signal: "SIGKILL" });
    expect(d.signal, d.stdout).toBe("SIGKILL");
    expect(d.stdout).toMatch(/resumed from .*checkpoint-\d+ \(step \d+\)/);
    // 5. Resume to the end.
    const e = await runCli(entry, [...args, "--resume"], k.cache);
    expect(e.code, e.stdout).toBe(0);
    const runDir = onlyRun(k.runs);

    const bytes = (dir: string, rel: string) => readFileSync(join(dir, rel));
    for (const rel of ["artifacts/sft/adapter_model.safetensors", "checkpoints/sft/checkpoint-8/adapter_model.safetensors", "checkpoints/sft/checkpoint-8/optimizer.safetensors", "checkpoints/sft/checkpoint-8/rng_state.json"]) {
      expect(bytes(runDir, rel).equals(bytes(refDir, rel)), rel).toBe(true);
    }
    expect(metricsWithoutTiming(runDir)).toEqual(metricsWithoutTiming(refDir));
    for (const f of ["arc_easy@tiny.json", "arc_easy@sft.json"]) expect(evalValues(runDir, f)).toEqual(evalValues(refDir, f));
    const status = JSON.parse(readFileSync(join(runDir, "status.json"), "utf8")) as { state: string; resumes: number };
    expect(status).toMatchObject({ state: "completed", resumes: 4 });

    // A completed run has nothing to resume.
    const f = await runCli(entry, [...args, "--resume"], k.cache);
    expect(f.code).toBe(1);
    expect(f.stdout).toContain("T9107");
  }, 600_000);
});

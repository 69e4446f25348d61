// launchTorchProject with real subprocesses: the generated launch.sh of an exported recipe, run with python3
// (--dry-run: the real programs plan without torch) or with a stand-in training program (fixtures/
// fake_trainer.py) that prints the protocol's lines and handles SIGINT like the real programs.
import { chmodSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, expect, test } from "vitest";
import { totalSteps, warmupSteps } from "../../runtime/train/schedule.js";
import { launchTorchProject, parseProgressLine, type ProgressRecord } from "../../runtime/torch/index.js";
import { compileRecipe, exportGraph } from "./helpers.js";

function fakePython(dir: string): string {
  const path = join(dir, "fake-python");
  writeFileSync(path, `#!/usr/bin/env bash\nexec python3 ${resolve("test/runtime-torch/fixtures/fake_trainer.py")} "$@"\n`);
  chmodSync(path, 0o755);
  return path;
}

describe("progress lines", () => {
  test("metric, event, text and malformed lines", () => {
    expect(parseProgressLine('TUNE_METRIC {"loss": 1.5, "step": 3}')).toEqual({ kind: "metric", record: { loss: 1.5, step: 3 } });
    expect(parseProgressLine('TUNE_EVENT {"event": "node_done"}')).toEqual({ kind: "event", record: { event: "node_done" } });
    expect(parseProgressLine("{'loss': 1.5}")).toEqual({ kind: "text" });
    expect(parseProgressLine("TUNE_METRIC [1, 2]")).toEqual({ kind: "malformed" });
    expect(parseProgressLine("TUNE_METRIC {not json")).toEqual({ kind: "malformed" });
  });
});

describe("launchTorchProject", () => {
  test("--dry-run of the exported quickstart: the real programs plan the schedule tune computes", async () => {
    const { graph } = compileRecipe("quickstart.tune");
    const { dir } = await exportGraph(graph, "dry", undefined, 37);
    const events: ProgressRecord[] = [];
    const r = await launchTorchProject(dir, { args: ["--dry-run"], onEvent: (e) => events.push(e), env: { PYTHON: "python3" } });
    expect(r.exitCode).toBe(0);
    const plan = events.find((e) => e["event"] === "plan" && e["node"] === "train:sft")!;
    const p = graph.nodes.find((n) => n.id === "train:sft")!.params;
    const micro = p["micro_batch"] as number;
    const ga = (p["batch"] as number) / micro;
    const T = totalSteps({ epochs: p["epochs"] as number, batchesPerEpoch: Math.ceil(37 / micro), gradAccum: ga, rounding: "ceil" });
    expect(plan).toMatchObject({ rows: 37, micro_batch: micro, grad_accum: ga, effective_batch: p["batch"], total_steps: T, warmup_steps: warmupSteps(T, 0, 0.05) });
    expect(events.at(-1)).toMatchObject({ event: "finished", recipe: "quickstart" });
  });

  test("streams metrics from every step of the generated launch.sh and finishes", async () => {
    const { graph } = compileRecipe("dpo-demo.tune");
    const { dir } = await exportGraph(graph, "run");
    const metrics: ProgressRecord[] = [];
    const lines: string[] = [];
    const r = await launchTorchProject(dir, { env: { PYTHON: fakePython(dir), FAKE_STEPS: "3" }, onMetric: (m) => metrics.push(m), onLine: (l) => lines.push(l) });
    expect(r).toMatchObject({ exitCode: 0, interrupted: false, metrics: 9, malformed: 0 });
    expect(metrics.map((m) => `${m["node"]}:${m["step"]}`)).toEqual(["train:sft", "train:sampo", "export:sampo"].flatMap((n) => [1, 2, 3].map((s) => `${n}:${s}`)));
    expect(metrics[0]).toMatchObject({ loss: 2, learning_rate: 1e-4, grad_norm: 0.5, epoch: 0.1 });
    expect(lines).toContain("plain output line from train_sft.py");
  });

  test("abort forwards SIGINT: the step checkpoints and exits 130, launch.sh stops before the next step", async () => {
    const { graph } = compileRecipe("dpo-demo.tune");
    const { dir } = await exportGraph(graph, "sigint");
    const ac = new AbortController();
    const events: ProgressRecord[] = [];
    let seen = 0;
    const r = await launchTorchProject(dir, {
      env: { PYTHON: fakePython(dir) },
      signal: ac.signal,
      killAfterMs: 20_000,
      onMetric: () => {
        if (++seen === 5) ac.abort();
      },
      onEvent: (e) => events.push(e),
    });
    expect(r.interrupted).toBe(true);
    expect(r.exitCode).toBe(130);
    const kinds = events.map((e) => e["event"]);
    expect(kinds).toContain("interrupt");
    expect(events.find((e) => e["event"] === "interrupted")).toMatchObject({ node: "train:sft" });
    expect(events.find((e) => e["event"] === "stopped")).toMatchObject({ node: "train:sft" });
    expect(events.some((e) => e["node"] === "train:sampo")).toBe(false);
  });

  test("a folder without launch.sh is T7630", async () => {
    await expect(launchTorchProject("/")).rejects.toMatchObject({ code: "T7630" });
  });
});

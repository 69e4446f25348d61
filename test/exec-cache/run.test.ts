// Real runs of a small LoRA recipe through runGraph with the cache plugged in
// (the tiny model, 8 training rows, 2 optimizer steps, arc_easy on 4
// documents): a second run reuses every node but loading and the report and
// leaves the same files and numbers; changing the eval block re-runs only
// eval; changing the template keeps loading and data prep; a flipped byte in
// an entry costs a recomputation with a warning, never a crash; a smoke run
// never reuses a full run's entries.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { GraphNode } from "../../compiler/graph.js";
import { initBackend } from "../../runtime/backend/index.js";
import { SMOKE_LIMITS } from "../../runtime/exec/run.js";
import { byState, cleanupTemps, recipe, runCached, sandbox, type CachedRun, type Sandbox } from "./helpers.js";

let sb: Sandbox;
let first: CachedRun;
let again: CachedRun;

const LOADING = ["load_model:tiny"];
const DATA = ["load_data:rows", "filter:train#1", "sample:train#2", "split:train#3"];
const STAGE = ["tokenize:sft", "tokenize:sft/validation", "train:sft", "export:sft"];
const EVALS = ["eval_task:arc_easy@tiny", "eval_task:arc_easy@sft"];
const REPORT = ["report:cached"];

const read = (run: CachedRun, rel: string): Buffer => readFileSync(join(run.summary.runDir, rel));
const text = (run: CachedRun, rel: string): string => read(run, rel).toString("utf8");

beforeAll(async () => {
  await initBackend("wasm");
  sb = await sandbox();
  first = await runCached(sb, recipe(), "first");
  again = await runCached(sb, recipe(), "again");
}, 60_000);
afterAll(cleanupTemps);

describe("a second run of the same recipe", () => {
  it("computes everything the first time and stores every cacheable node", () => {
    expect(first.summary.ok).toBe(true);
    expect(byState(first)).toEqual({ done: [...LOADING, ...DATA, ...STAGE, ...EVALS, ...REPORT] });
    expect(first.cache.stats).toEqual({ hits: 0, misses: 10, stored: 10, errors: 0 });
  });

  it("reports every node but loading and the report as cached", () => {
    expect(again.summary.ok).toBe(true);
    expect(byState(again)).toEqual({ done: [...LOADING, ...REPORT], cached: [...DATA, ...STAGE, ...EVALS] });
    expect(again.cache.stats).toEqual({ hits: 10, misses: 0, stored: 0, errors: 0 });
    expect(again.out).toContain("completed in");
    expect(again.out).toContain("2 nodes ran, 10 cached");
    expect(again.out).toMatch(/train:sft: cached \([0-9a-f]{12}\)/);
    expect(sb.warnings).toEqual([]);
  });

  it("produces identical report numbers", () => {
    expect(JSON.parse(text(again, "report.json"))).toEqual(JSON.parse(text(first, "report.json")));
    expect(text(again, "report.md")).toBe(text(first, "report.md"));
    expect(text(first, "report.md")).toMatch(/\| arc_easy \(acc\) \| [0-9.]+ ± [0-9.]+ \(n=4\) \| [0-9.]+ ± [0-9.]+ \(n=4\) \|/);
  });

  it("leaves the same files in its run directory: adapter, checkpoint, loss curve, eval results", () => {
    for (const rel of [
      "artifacts/sft/adapter_model.safetensors",
      "artifacts/sft/adapter_config.json",
      "artifacts/sft/README.md",
      "checkpoints/sft/checkpoint-2/adapter_model.safetensors",
      "checkpoints/sft/checkpoint-2/trainer_state.json",
      "plots/sft-loss.svg",
      "eval/arc_easy@tiny.json",
      "eval/arc_easy@sft.json",
    ]) {
      expect(read(again, rel).equals(read(first, rel)), rel).toBe(true);
    }
  });
});

describe("after a change", () => {
  it("re-runs only eval and the report when only the eval block changed", async () => {
    const run = await runCached(sb, recipe({ evalLimit: 3 }), "eval-changed");
    expect(run.summary.ok).toBe(true);
    expect(byState(run)).toEqual({ done: [...LOADING, ...EVALS, ...REPORT], cached: [...DATA, ...STAGE] });
    expect(text(run, "report.md")).toMatch(/\(n=3\) \| [0-9.]+ ± [0-9.]+ \(n=3\) \|/);
    // The restored stage evaluates exactly as a freshly trained one: compare with a run that shares no cache.
    const scratch = await runCached(await sandbox(), recipe({ evalLimit: 3 }), "scratch");
    expect(byState(scratch).cached).toBeUndefined();
    expect(text(run, "eval/arc_easy@sft.json")).toBe(text(scratch, "eval/arc_easy@sft.json"));
    expect(JSON.parse(text(run, "report.json"))).toEqual(JSON.parse(text(scratch, "report.json")));
  });

  it("re-runs tokenize, train, export and the stage's eval when the template changed, but not loading or data prep", async () => {
    const run = await runCached(sb, recipe({ template: "chatml" }), "template-changed");
    expect(run.summary.ok).toBe(true);
    // The base model's eval has no template, so it is reused too.
    expect(byState(run)).toEqual({ done: [...LOADING, ...STAGE, "eval_task:arc_easy@sft", ...REPORT], cached: [...DATA, "eval_task:arc_easy@tiny"] });
  });

  it("recomputes a node whose entry has a flipped byte, warns, and ends with the same results", async () => {
    const key = (await again.cache.keyOf(graphNode(again, "train:sft")))!;
    const file = join(again.cache.store.entryPath(key), "out", "ports", "0", "adapter", "adapter_model.safetensors");
    const bytes = readFileSync(file);
    bytes[bytes.length - 5] ^= 0x40;
    writeFileSync(file, bytes);

    const run = await runCached(sb, recipe(), "after-corruption");
    expect(run.summary.ok).toBe(true);
    expect(byState(run)).toEqual({ done: [...LOADING, "train:sft", ...REPORT], cached: [...DATA, ...STAGE.filter((id) => id !== "train:sft"), ...EVALS] });
    expect(sb.warnings.map((w) => w.code)).toEqual(["T9001"]);
    expect(sb.warnings[0]!.message).toMatch(/adapter_model\.safetensors: sha256 differs/);
    // Training is deterministic: the recomputed checkpoint is the first run's, and the numbers are unchanged.
    const ckpt = "checkpoints/sft/checkpoint-2/adapter_model.safetensors";
    expect(read(run, ckpt).equals(read(first, ckpt))).toBe(true);
    expect(text(run, "report.md")).toBe(text(first, "report.md"));
    // The recomputed entry replaced the quarantined one.
    const next = await runCached(sb, recipe(), "repaired");
    expect(byState(next).cached).toEqual([...DATA, ...STAGE, ...EVALS]);
  });

  it("does not store a training node cut short by a stop request", async () => {
    const s = await sandbox();
    const stopped = await runCached(s, recipe(), "stopped", null, "train:sft");
    expect(stopped.summary.stopped).toBe(true);
    // The stopped node saved a checkpoint and stays pending (tune run --resume continues it); nothing is stored.
    expect(stopped.summary.outcomes.map((o) => o.id)).not.toContain("train:sft");
    expect(stopped.out).toMatch(/interrupt|stopp/i);
    const next = await runCached(s, recipe(), "after-stop");
    expect(byState(next)).toEqual({ done: [...LOADING, "train:sft", "export:sft", ...EVALS, ...REPORT], cached: [...DATA, "tokenize:sft", "tokenize:sft/validation"] });
  });

  it("never reuses a full run's entries in a smoke run", async () => {
    const run = await runCached(sb, recipe(), "smoke", SMOKE_LIMITS);
    expect(run.summary.ok).toBe(true);
    expect(byState(run).cached).toBeUndefined();
    expect(run.cache.stats.stored).toBe(10);
  });
});

/** A node of the graph the run wrote into its directory (keyOf answers from the run's memo by id). */
function graphNode(run: CachedRun, id: string): GraphNode {
  const graph = JSON.parse(text(run, "graph.json")) as { nodes: GraphNode[] };
  return graph.nodes.find((n) => n.id === id)!;
}

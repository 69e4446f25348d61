// `tune run --executor torch`: a run directory whose training happens in an exported PyTorch project.
//
// Why this exists: the same run directory a user gets from the in-process executor (recipe.tune, graph.json,
// env.json, status.json, run.log, metrics.jsonl, summary.json) must come out of a torch run, so `tune runs`,
// reports and comparisons work unchanged. The data half runs here, in process (runtime/exec/prepare.ts); the
// project is exported into <run>/torch/ (export.ts) and launched (launch.ts). Its progress lines become the
// run's metrics (same names), node states and progress bars; its exit code is the run's (130 = interrupted,
// resumable by running launch.sh again). The caller checks the Python environment first (env-check.ts).
// Models: a local `path` is resolved here exactly as in process (recipe folder, cwd, tune package) and handed
// to the programs as TUNE_MODEL_<NAME>; under --smoke the tiny model stands in for every non-tiny model, the
// data is subsampled as in process, and TUNE_MAX_ROWS / TUNE_MAX_STEPS cap each training node.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import type { Graph, GraphNode } from "../../compiler/graph.js";
import { TINY_MODEL_DIR } from "../exec/ops/model.js";
import { resolveRecipePath } from "../exec/paths.js";
import { prepareRenderedData } from "../exec/prepare.js";
import { createProgress, type Progress, type ProgressSink } from "../exec/progress.js";
import { SMOKE_LIMITS } from "../exec/run.js";
import { scratchEnv } from "../exec/scratch-env.js";
import type { JsonValue } from "../store/fsx.js";
import { createRun, type RunDir } from "../store/index.js";
import { exportTorchProject } from "./export.js";
import { launchTorchProject, type ProgressRecord } from "./launch.js";
import type { TorchPlan } from "./plan.js";

export interface TorchRunOptions {
  graph: Graph;
  recipePath: string;
  recipeText: string;
  packageRoot: string;
  runsDir: string;
  /** The interpreter the environment check approved. */
  python: string;
  /** Its version (README and requirements of the export). */
  pythonVersion?: string;
  smoke: boolean;
  tuneVersion: string;
  /** Messages and progress bars. */
  out: ProgressSink;
  /** The programs' plain output lines (transformers logs, tracebacks). */
  onLine?: (line: string, stream: "stdout" | "stderr") => void;
  /** Every metric record, after it was written to metrics.jsonl. */
  onMetric?: (m: ProgressRecord) => void;
  /** Abort → SIGINT to the job (it checkpoints and exits 130). */
  signal?: AbortSignal;
  /** Forward this process's SIGINT to the job (default true). */
  forwardSigint?: boolean;
  /** Extra environment for the programs. */
  env?: Record<string, string>;
  /** Environment facts for env.json (the probe's summary). */
  envFacts?: Record<string, JsonValue>;
}

export interface TorchRunResult {
  runDir: string;
  /** The project under the run directory (<run>/torch). */
  projectDir: string | null;
  /** 0 ok, 130 interrupted, 1 data preparation failed, else the launched program's exit code. */
  exitCode: number;
  interrupted: boolean;
  /** Last training loss per node, as reported by the programs. */
  losses: Record<string, number>;
}

export async function runTorchGraph(o: TorchRunOptions): Promise<TorchRunResult> {
  const run = createRun({ runsDir: o.runsDir, recipeName: o.graph.recipe, recipePath: o.recipePath, recipeText: o.recipeText, graph: o.graph, tuneVersion: o.tuneVersion });
  run.setEnv({ executor: "torch", python: o.python, smoke: o.smoke, ...(o.envFacts ?? {}) });
  const say = (line: string): void => {
    run.log(line);
    o.out.write(line + "\n");
  };
  const result: TorchRunResult = { runDir: run.dir, projectDir: null, exitCode: 1, interrupted: false, losses: {} };
  let stop = false;
  const onSigint = (): void => {
    stop = true;
  };
  process.on("SIGINT", onSigint); // until launch, which forwards SIGINT to the job itself
  const scratch = mkdtempSync(join(tmpdir(), "tune-torch-data-"));
  try {
    const sink: ProgressSink = { isTTY: o.out.isTTY, write: (t) => (t.endsWith("\n") && !t.startsWith("\r") ? say(t.trimEnd()) : o.out.write(t)) };
    const env = scratchEnv({ graph: o.graph, recipePath: o.recipePath, packageRoot: o.packageRoot, runDir: run.dir, smoke: o.smoke, sink });
    const prepared = await prepareRenderedData(o.graph, scratch, env);
    for (const x of prepared.outcomes) {
      if (x.state === "done" || x.state === "cached") run.nodeDone(x.id);
      else if (x.state === "failed") run.nodeFailed(x.id, `${x.code ? `[${x.code}] ` : ""}${x.reason ?? "failed"}`);
    }
    const failed = prepared.outcomes.filter((x) => x.state !== "done" && x.state !== "cached");
    for (const f of failed) say(`data node ${f.id} ${f.state}: ${f.reason ?? ""}${f.hint ? ` (help: ${f.hint})` : ""}`);
    if (failed.length > 0 && prepared.data.size === 0) return finish(run, result, 1, "the recipe's data could not be prepared");
    if (stop || o.signal?.aborted) return finish(run, { ...result, interrupted: true }, 130, null);

    const projectDir = join(run.dir, "torch");
    const exported = await exportTorchProject(o.graph, projectDir, { data: prepared.data, recipeText: o.recipeText, tuneVersion: o.tuneVersion, pythonVersion: o.pythonVersion });
    result.projectDir = projectDir;
    say(`exported ${exported.files.length} files to ${projectDir}`);
    for (const n of exported.plan.notExported) say(`not executed by the torch executor: ${n.node} (${n.reason})`);
    const env2 = { ...programEnv(o, exported.plan, env.recipeDir, say), ...(o.env ?? {}) };
    if (stop || o.signal?.aborted) return finish(run, { ...result, interrupted: true }, 130, null);
    process.off("SIGINT", onSigint);

    const tracker = new NodeTracker(run, o.out, say, result);
    const launched = await launchTorchProject(projectDir, {
      env: env2,
      signal: o.signal,
      forwardSigint: o.forwardSigint,
      onMetric: (m) => {
        tracker.metric(m);
        o.onMetric?.(m);
      },
      onEvent: (e) => tracker.event(e),
      onLine: (line, stream) => {
        run.log(`[${stream}] ${line}`);
        o.onLine?.(line, stream);
      },
    });
    tracker.close();
    // The programs load the base models themselves; once they all finished, those nodes ran too.
    if (launched.exitCode === 0) for (const n of o.graph.nodes) if (n.op === "load_model" && run.status.nodes[n.id]?.state === "pending") run.nodeDone(n.id);
    result.interrupted = launched.interrupted || launched.exitCode === 130;
    return finish(run, result, launched.exitCode, launched.exitCode === 0 || result.interrupted ? null : `the torch project exited with ${launched.exitCode}`);
  } catch (e) {
    run.finish("failed", (e as Error).message);
    throw e;
  } finally {
    process.off("SIGINT", onSigint);
    rmSync(scratch, { recursive: true, force: true });
  }
}

function finish(run: RunDir, result: TorchRunResult, exitCode: number, error: string | null): TorchRunResult {
  const interrupted = result.interrupted || exitCode === 130;
  const state = exitCode === 0 ? "completed" : interrupted ? "interrupted" : "failed";
  const summary: Record<string, JsonValue> = {
    executor: "torch",
    ok: exitCode === 0,
    state,
    exitCode,
    project: result.projectDir,
    losses: result.losses,
    ...(interrupted && result.projectDir ? { resume: `cd ${result.projectDir} && bash launch.sh` } : {}),
  };
  run.writeSummary(summary);
  run.finish(state, error);
  return { ...result, exitCode, interrupted };
}

/** The programs' environment: interpreter, where each base model is, and the smoke caps. */
function programEnv(o: TorchRunOptions, plan: TorchPlan, recipeDir: string, say: (line: string) => void): Record<string, string> {
  const env: Record<string, string> = { PYTHON: o.python, TUNE_RECIPE_DIR: recipeDir };
  const paths = { recipeDir, packageRoot: o.packageRoot };
  for (const n of o.graph.nodes.filter((x) => x.op === "load_model")) {
    const name = n.id.slice("load_model:".length);
    const key = `TUNE_MODEL_${name.replace(/[^A-Za-z0-9]/g, "_").toUpperCase()}`;
    if (o.smoke && archName(n) !== "tiny_llama") {
      env[key] = resolveRecipePath(paths, TINY_MODEL_DIR, "tiny model");
      say(`smoke: ${n.id}: the tiny model (${TINY_MODEL_DIR}) stands in for ${String(n.params["hub"] ?? n.params["path"] ?? name)}`);
    } else if (typeof n.params["path"] === "string") {
      env[key] = resolveRecipePath(paths, n.params["path"], "model directory");
    }
  }
  if (o.smoke) {
    env["TUNE_MAX_ROWS"] = String(SMOKE_LIMITS.rows);
    env["TUNE_MAX_STEPS"] = String(SMOKE_LIMITS.steps);
    say(`smoke: every training node capped at ${SMOKE_LIMITS.steps} optimizer steps and ${SMOKE_LIMITS.rows} rows`);
  }
  if (plan.steps.length === 0) say("the graph has no training, export or eval step for the torch executor");
  return env;
}

function archName(n: GraphNode): string | undefined {
  const arch = n.params["arch"];
  return arch && typeof arch === "object" && !Array.isArray(arch) ? (arch as { name?: string }).name : undefined;
}

/** Turns the programs' TUNE_EVENT / TUNE_METRIC lines into node states, metrics and progress bars. */
class NodeTracker {
  private bars = new Map<string, { bar: Progress; step: number }>();
  private failed = new Set<string>();

  constructor(
    private readonly run: RunDir,
    private readonly out: ProgressSink,
    private readonly say: (line: string) => void,
    private readonly result: TorchRunResult,
  ) {}

  metric(m: ProgressRecord): void {
    const record = { time: new Date().toISOString(), ...m } as Record<string, JsonValue>;
    this.run.metric(record);
    const node = typeof m["node"] === "string" ? m["node"] : null;
    const step = typeof m["step"] === "number" ? m["step"] : null;
    if (!node || step === null || typeof m["loss"] !== "number") return;
    this.result.losses[node] = m["loss"];
    const b = this.bars.get(node);
    if (!b) return;
    const fields: Record<string, number> = { loss: m["loss"] };
    if (typeof m["learning_rate"] === "number") fields["lr"] = m["learning_rate"];
    if (step > b.step) b.bar.tick(step - b.step, fields);
    b.step = Math.max(b.step, step);
  }

  event(e: ProgressRecord): void {
    const node = typeof e["node"] === "string" ? e["node"] : null;
    const kind = String(e["event"] ?? "");
    const detail = Object.entries(e).filter(([k]) => !["event", "node", "time"].includes(k)).map(([k, v]) => `${k}=${typeof v === "string" ? v : JSON.stringify(v)}`).join(" ");
    this.run.log(`${node ?? "torch"}: ${kind}${detail ? ` ${detail}` : ""}`);
    const known = node !== null && this.run.status.nodes[node] !== undefined;
    switch (kind) {
      case "node_start":
        if (known) this.run.nodeStarted(node);
        break;
      case "train_begin":
        if (node && typeof e["max_steps"] === "number") this.bars.set(node, { bar: createProgress(this.out, `train ${node.replace(/^train:/, "")}`, e["max_steps"], "steps"), step: 0 });
        break;
      case "node_done":
        this.bars.get(node ?? "")?.bar.done();
        this.bars.delete(node ?? "");
        if (known) this.run.nodeDone(node);
        break;
      case "node_skipped":
        if (/done\.json/.test(String(e["reason"] ?? ""))) {
          if (known) this.run.nodeDone(node);
        } else this.say(`${node}: not executed: ${String(e["reason"] ?? "")}`);
        break;
      case "error":
      case "failed":
        if (known && !this.failed.has(node)) {
          this.failed.add(node);
          this.run.nodeFailed(node, kind === "error" ? `[${String(e["code"])}] ${String(e["message"])}` : `exit code ${String(e["exit_code"])}`);
        }
        if (kind === "error") this.say(`error[${String(e["code"])}]: ${String(e["message"])}\n  = help: ${String(e["hint"] ?? "")}`);
        break;
      case "warning":
      case "limits":
      case "interrupt":
      case "interrupted":
        this.say(`${node ? `${node}: ` : ""}${kind === "warning" ? "warning: " : ""}${String(e["message"] ?? kind)}`);
        break;
      default:
        break;
    }
  }

  close(): void {
    for (const b of this.bars.values()) b.bar.done();
    this.bars.clear();
  }
}

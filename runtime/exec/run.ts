// `tune run`: executes a compiled recipe in process. Creates the run
// directory, wires the op handlers, runs the graph, and prints what ran,
// what was cached, what was substituted (--smoke) and what could not run.
import { appendFileSync, mkdirSync } from "node:fs";
import { basename, join } from "node:path";
import type { Graph } from "../../compiler/graph.js";
import { writeRunFile as writeFileAtomic } from "./files.js";
import { createProgress, formatDuration, type ProgressSink } from "./progress.js";
import { executeGraph, type NodeOutcome, type ScheduleHooks } from "./scheduler.js";
import { DATA_OPS } from "./ops/data.js";
import { tokenizeOp } from "./ops/tokenize.js";
import { loadModelOp } from "./ops/model.js";
import { trainSft } from "./ops/train.js";
import { exportOp } from "./ops/export.js";
import { evalTaskOp } from "./ops/eval.js";
import { reportOp } from "./ops/report.js";
import { generateOp, responseLengthOp } from "./ops/generate.js";
import { judgeOp, scoreOp, winRateOp } from "./ops/judge.js";
import { loadTinyModel } from "./ops/model.js";
import type { ExecEnv, ExecTokenizer, ModelValue, OpHandler, SmokeLimits, Substitution, Value } from "./types.js";

export const SMOKE_LIMITS: SmokeLimits = { rows: 200, steps: 12, evalDocs: 20, cutoff: 256, maxNewTokens: 32 };

export interface RunOptions {
  graph: Graph;
  recipePath: string;
  recipeText: string;
  packageRoot: string;
  runsDir: string;
  smoke: boolean;
  out: ProgressSink;
  /** Extra or replacement op handlers (preference training, judges, …). */
  handlers?: Record<string, OpHandler>;
  hooks?: ScheduleHooks;
  /** Fixed run directory (tests); default runs/<recipe>-<UTC>-<hash8>. */
  runDir?: string;
  now?: () => Date;
}

export interface RunSummary {
  runDir: string;
  outcomes: NodeOutcome[];
  substitutions: Substitution[];
  values: Map<string, Record<string, Value>>;
  ok: boolean;
  stopped: boolean;
}

export const BASE_HANDLERS: Record<string, OpHandler> = {
  ...DATA_OPS,
  load_model: loadModelOp,
  tokenize: tokenizeOp,
  train: trainSft,
  export: exportOp,
  eval_task: evalTaskOp,
  report: reportOp,
  generate: generateOp,
  response_length: responseLengthOp,
  score: scoreOp,
  judge: judgeOp,
  win_rate: winRateOp,
};

export function runDirName(graph: Graph, now: Date): string {
  const stamp = now.toISOString().replace(/[-:]/g, "").replace(/\.\d+Z$/, "Z");
  const hash8 = graph.nodes.map((n) => n.hash).join("").slice(0, 8);
  return `${graph.recipe}-${stamp}-${hash8}`;
}

export async function runGraph(o: RunOptions): Promise<RunSummary> {
  const runDir = o.runDir ?? join(o.runsDir, runDirName(o.graph, (o.now ?? (() => new Date()))()));
  mkdirSync(runDir, { recursive: true });
  await writeFileAtomic(join(runDir, basename(o.recipePath)), o.recipeText);
  await writeFileAtomic(join(runDir, "graph.json"), JSON.stringify(o.graph, null, 2) + "\n");
  const substitutions: Substitution[] = [];
  const logFile = join(runDir, "run.log");
  const metricsFile = join(runDir, "metrics.jsonl");
  let tokenizer: ExecTokenizer | null = null;
  let standIn: Promise<ModelValue> | null = null;
  const env: ExecEnv = {
    graph: o.graph,
    recipeDir: join(o.recipePath, ".."),
    packageRoot: o.packageRoot,
    runDir,
    smoke: o.smoke ? SMOKE_LIMITS : null,
    seed: o.graph.seed,
    log(line) {
      appendFileSync(logFile, line + "\n");
      o.out.write(line + "\n");
    },
    metric(record) {
      appendFileSync(metricsFile, JSON.stringify({ time: new Date().toISOString(), ...record }) + "\n");
    },
    progress: (label, total, unit) => createProgress(o.out, label, total, unit),
    substitute(node, what) {
      substitutions.push({ node, what });
      env.log(`smoke: ${node}: ${what}`);
    },
    defaultTokenizer: () => tokenizer,
    standIn: () => (standIn ??= loadTinyModel(env)),
    stopRequested: () => o.hooks?.stopRequested?.() ?? false,
  };
  const handlers: Record<string, OpHandler> = { ...BASE_HANDLERS, ...o.handlers };
  const loadModel = handlers["load_model"]!;
  handlers["load_model"] = async (node, inputs, e) => {
    const out = await loadModel(node, inputs, e);
    const m = out["model"];
    if (!tokenizer && m?.kind === "model") tokenizer = m.tokenizer;
    return out;
  };
  const t0 = Date.now();
  const result = await executeGraph(o.graph, handlers, env, {
    ...o.hooks,
    onStart: (node, i, n) => {
      o.out.write(`[${i + 1}/${n}] ${node.id}\n`);
      o.hooks?.onStart?.(node, i, n);
    },
    onEnd: (outcome) => {
      if (outcome.state === "failed") env.log(`error${outcome.code ? `[${outcome.code}]` : ""}: ${outcome.id}: ${outcome.reason}${outcome.hint ? `\n  = help: ${outcome.hint}` : ""}`);
      if (outcome.state === "not_executed") env.log(`not executed: ${outcome.id}: ${outcome.reason}${outcome.hint ? `\n  = help: ${outcome.hint}` : ""}`);
      o.hooks?.onEnd?.(outcome);
    },
  });
  const failed = result.outcomes.filter((x) => x.state === "failed");
  const skipped = result.outcomes.filter((x) => x.state === "not_executed");
  const blocked = result.outcomes.filter((x) => x.state === "blocked");
  const summary = {
    recipe: o.graph.recipe,
    smoke: o.smoke,
    status: result.stopped ? "interrupted" : failed.length > 0 ? "failed" : "completed",
    duration_ms: Date.now() - t0,
    nodes: result.outcomes,
    substitutions,
  };
  await writeFileAtomic(join(runDir, "summary.json"), JSON.stringify(summary, null, 2) + "\n");
  o.out.write(`\n${summary.status} in ${formatDuration(summary.duration_ms)}: ${result.outcomes.filter((x) => x.state === "done").length} nodes ran, ${result.outcomes.filter((x) => x.state === "cached").length} cached, ${skipped.length} not executed, ${blocked.length} blocked, ${failed.length} failed\n`);
  if (skipped.length > 0) o.out.write(`not executed: ${skipped.map((x) => x.id).join(", ")}\n`);
  if (blocked.length > 0) o.out.write(`blocked (an input did not run): ${blocked.map((x) => x.id).join(", ")}\n`);
  if (substitutions.length > 0) o.out.write(`smoke substitutions: ${substitutions.length} (listed in run.log and summary.json)\n`);
  o.out.write(`run directory: ${runDir}\n`);
  return { runDir, outcomes: result.outcomes, substitutions, values: result.values, ok: failed.length === 0 && !result.stopped, stopped: result.stopped };
}

// `tune run`: executes a compiled recipe in process. Creates the run
// directory, wires the op handlers, runs the graph, and prints what ran,
// what was cached, what was substituted (--smoke) and what could not run.
import { cpSync, existsSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import type { Graph } from "../../compiler/graph.js";
import { TUNE_VERSION } from "../../compiler/version.js";
import { createProgress, formatDuration, type ProgressSink } from "./progress.js";
import { executeGraph, type NodeCache, type NodeOutcome, type ScheduleHooks } from "./scheduler.js";
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
import { createNodeCache } from "./cache.js";
import { graphLock, outputDifferenceAsync } from "./lock.js";
import { createRun, openRun, type TuneLock } from "../store/index.js";
import type { JsonValue } from "../store/fsx.js";
import { ExecError, type ExecEnv, type ExecTokenizer, type ModelValue, type OpHandler, type SmokeLimits, type Substitution, type Value } from "./types.js";


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
  /** Reuse and store node outputs in $TUNE_CACHE (tune run: on unless --no-cache). */
  cache?: boolean;
  /** A fixed run directory (tests) instead of runs/<recipe>-<UTC>-<hash8>. */
  runDir?: string;
  /**
   * Continue this interrupted run directory (`tune run --resume`): finished nodes come from the cache, training
   * nodes continue from their newest checkpoint. The caller checks that the graph is unchanged.
   */
  resume?: string;
  /** A changed recipe resumed with --allow-changes: this new run continues from that run's checkpoints. */
  continueFrom?: string;
  /** `--frozen`: the lock the run must reproduce; a data node whose rows or tokens differ from it fails (T9203). */
  frozen?: TuneLock;
  /** Backend and device that actually ran, for env.json. */
  backend?: Record<string, JsonValue>;
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

export async function runGraph(o: RunOptions): Promise<RunSummary> {
  // The run directory (runtime/store): a lock against a second process, status.json per node,
  // env.json, run.log, metrics.jsonl, tune.lock and summary.json, all written atomically.
  const run = o.resume ? openRun(o.resume, { warn: (w) => o.out.write(`warning: ${typeof w === "string" ? w : JSON.stringify(w)}\n`) }) : createRun({
    runsDir: o.runDir ? dirname(o.runDir) : o.runsDir,
    id: o.runDir ? basename(o.runDir) : undefined,
    recipeName: o.graph.recipe,
    recipePath: o.recipePath,
    recipeText: o.recipeText,
    graph: o.graph,
    tuneVersion: TUNE_VERSION,
    now: o.now?.(),
    warn: (w) => o.out.write(`warning: ${typeof w === "string" ? w : JSON.stringify(w)}\n`),
  });
  const runDir = run.path();
  if (o.continueFrom && existsSync(join(o.continueFrom, "checkpoints"))) {
    // Checkpoints carry their node's hash: those of changed training nodes are never picked up.
    cpSync(join(o.continueFrom, "checkpoints"), join(runDir, "checkpoints"), { recursive: true });
  }
  run.setEnv({ smoke: o.smoke, seed: o.graph.seed, ...(o.backend ?? {}) });
  const substitutions: Substitution[] = [];
  const headline: Record<string, number> = {};
  const metricsByNode = new Map<string, Record<string, unknown>[]>();
  let tokenizer: ExecTokenizer | null = null;
  let standIn: Promise<ModelValue> | null = null;
  const env: ExecEnv = {
    graph: o.graph,
    recipeDir: dirname(o.recipePath),
    packageRoot: o.packageRoot,
    runDir,
    smoke: o.smoke ? SMOKE_LIMITS : null,
    seed: o.graph.seed,
    cache: o.cache === true,
    log(line) {
      run.log(line);
      o.out.write(line + "\n");
    },
    metric(record) {
      const id = typeof record["node"] === "string" ? record["node"] : null;
      if (id) (metricsByNode.get(id) ?? metricsByNode.set(id, []).get(id)!).push(JSON.parse(JSON.stringify(record)) as Record<string, unknown>);
      noteHeadline(headline, record);
      run.metric({ time: new Date().toISOString(), ...(JSON.parse(JSON.stringify(record)) as Record<string, JsonValue>) });
    },
    progress: (label, total, unit) => createProgress(o.out, label, total, unit),
    substitute(node, what) {
      substitutions.push({ node, what });
      env.log(`smoke: ${node}: ${what}`);
    },
    defaultTokenizer: () => tokenizer,
    standIn: () => (standIn ??= loadTinyModel(env)),
    resumed: !!(o.resume || o.continueFrom),
    stopRequested: () => o.hooks?.stopRequested?.() ?? false,
  };
  const handlers: Record<string, OpHandler> = { ...BASE_HANDLERS, ...o.handlers };
  if (o.resume) env.log(`resuming run ${run.id} (resume ${run.status.resumes})`);
  if (o.continueFrom) env.log(`continuing from ${o.continueFrom} (recipe changed; unaffected nodes and checkpoints are reused)`);
  if (o.frozen) {
    const locked = o.frozen;
    for (const [op, h] of Object.entries(handlers)) {
      handlers[op] = async (node, inputs, e) => checkFrozen(locked, node.id, await h(node, inputs, e));
    }
  }
  const loadModel = handlers["load_model"]!;
  handlers["load_model"] = async (node, inputs, e) => {
    const out = await loadModel(node, inputs, e);
    const m = out["model"];
    if (!tokenizer && m?.kind === "model") tokenizer = m.tokenizer;
    return out;
  };
  const t0 = Date.now();
  let cache: NodeCache | undefined = o.hooks?.cache ?? (o.cache ? createNodeCache({ smoke: env.smoke, env, metricsOf: (id) => metricsByNode.get(id) ?? [] }) : undefined);
  if (cache && o.frozen) {
    const inner = cache;
    const locked = o.frozen;
    cache = { get: async (node) => { const v = await inner.get(node); return v ? checkFrozen(locked, node.id, v) : v; }, put: (node, v) => inner.put(node, v) };
  }
  const result = await executeGraph(o.graph, handlers, env, {
    ...o.hooks,
    cache,
    onStart: (node, i, n) => {
      // Resuming: every node logs its metrics again (a cache hit replays them, a training node replays those of
      // its checkpoint), so its lines from the interrupted attempt go and metrics.jsonl ends up as an
      // uninterrupted run's.
      if (o.resume) run.retainMetrics((r) => r["node"] !== node.id);
      run.nodeStarted(node.id);
      o.out.write(`[${i + 1}/${n}] ${node.id}\n`);
      o.hooks?.onStart?.(node, i, n);
    },
    onEnd: (outcome) => {
      if (outcome.state === "done") run.nodeDone(outcome.id);
      else if (outcome.state === "cached") run.nodeCached(outcome.id);
      else if (outcome.state === "failed") run.nodeFailed(outcome.id, `${outcome.code ? `[${outcome.code}] ` : ""}${outcome.reason ?? ""}`);
      if (outcome.state === "failed") env.log(`error${outcome.code ? `[${outcome.code}]` : ""}: ${outcome.id}: ${outcome.reason}${outcome.hint ? `\n  = help: ${outcome.hint}` : ""}`);
      if (outcome.state === "not_executed") env.log(`not executed: ${outcome.id}: ${outcome.reason}${outcome.hint ? `\n  = help: ${outcome.hint}` : ""}`);
      o.hooks?.onEnd?.(outcome);
    },
  });
  const failed = result.outcomes.filter((x) => x.state === "failed");
  const skipped = result.outcomes.filter((x) => x.state === "not_executed");
  const blocked = result.outcomes.filter((x) => x.state === "blocked");
  const status = result.stopped ? "interrupted" : failed.length > 0 ? "failed" : "completed";
  const summary = {
    metrics: headline,
    recipe: o.graph.recipe,
    smoke: o.smoke,
    status,
    duration_ms: Date.now() - t0,
    nodes: result.outcomes,
    substitutions,
  };
  run.writeSummary(JSON.parse(JSON.stringify(summary)) as Record<string, JsonValue>);
  run.writeTuneLock(await graphLock({ graph: o.graph, recipeText: o.recipeText, ctx: { recipeDir: env.recipeDir, packageRoot: env.packageRoot, smoke: env.smoke }, values: result.values }));
  run.finish(status, failed[0] ? `${failed[0].id}: ${failed[0].reason ?? ""}` : null);
  o.out.write(`\n${summary.status} in ${formatDuration(summary.duration_ms)}: ${result.outcomes.filter((x) => x.state === "done").length} nodes ran, ${result.outcomes.filter((x) => x.state === "cached").length} cached, ${skipped.length} not executed, ${blocked.length} blocked, ${failed.length} failed\n`);
  if (skipped.length > 0) o.out.write(`not executed: ${skipped.map((x) => x.id).join(", ")}\n`);
  if (blocked.length > 0) o.out.write(`blocked (an input did not run): ${blocked.map((x) => x.id).join(", ")}\n`);
  if (substitutions.length > 0) o.out.write(`smoke substitutions: ${substitutions.length} (listed in run.log and summary.json)\n`);
  o.out.write(`run directory: ${runDir}\n`);
  return { runDir, outcomes: result.outcomes, substitutions, values: result.values, ok: failed.length === 0 && !result.stopped, stopped: result.stopped };
}

/** The numbers `tune runs` shows: each stage's last training loss and eval loss, each eval's headline value. */
function noteHeadline(headline: Record<string, number>, r: Record<string, unknown>): void {
  const num = (k: string) => (typeof r[k] === "number" && Number.isFinite(r[k]) ? (r[k] as number) : null);
  const stage = typeof r["stage"] === "string" ? r["stage"] : null;
  if (stage && num("loss") !== null) headline[`${stage}.loss`] = num("loss")!;
  if (stage && num("eval_loss") !== null) headline[`${stage}.eval_loss`] = num("eval_loss")!;
  if (typeof r["task"] === "string" && typeof r["model"] === "string" && num("value") !== null) headline[`${r["task"]}@${r["model"]}`] = num("value")!;
}

/** --frozen: a node's rows/tokens must have the digests the lock recorded (streamed rows are read for it). */
async function checkFrozen(locked: TuneLock, nodeId: string, outputs: Record<string, Value>): Promise<Record<string, Value>> {
  const diff = await outputDifferenceAsync(locked, nodeId, outputs);
  if (diff) throw new ExecError("T9203", `--frozen: ${diff}`, "the data resolved differently than when the lock was written (a changed file, filter, seed or tune version); run `tune lock <recipe>` to accept it");
  return outputs;
}

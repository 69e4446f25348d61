// A run directory, runs/<recipe>-<UTC time>-<hash8>/, as the executor writes it:
//
//   recipe.tune   the recipe text as run          graph.json   the compiled graph
//   env.json      tune/node/platform/backend/seed  status.json  run and per-node state with durations
//   run.log       timestamped log lines            metrics.jsonl one JSON object per line
//   run.lock      the owning process               tune.lock / summary.json / checkpoints/ / artifacts (later)
//
// Why this exists: a run must be inspectable and resumable after any crash. The directory is assembled under a
// temp name and renamed into place complete; JSON files are replaced atomically (temp + fsync + rename); logs are
// appended a line per write; `run.lock` keeps a second process out and is taken over when its owner died.
// Methods are synchronous on purpose: the executor's SIGINT handler and `exit` hooks must be able to record
// "interrupted" without waiting on promises.

import { randomBytes } from "node:crypto";
import { mkdirSync, readFileSync, renameSync, rmSync } from "node:fs";
import { arch, cpus, platform } from "node:os";
import { join, resolve } from "node:path";
import type { Graph } from "../../compiler/graph.js";
import { LineAppender, readJsonLines } from "./appender.js";
import { errnoCode, stderrWarnings, StoreError, type WarningSink } from "./errors.js";
import { readJsonSync, stableJson, syncDirSync, writeFileAtomicSync, writeJsonAtomicSync, type JsonValue } from "./fsx.js";
import { serializeLock, type TuneLock } from "./lockfile.js";
import { acquireLock, type HeldLock } from "./pid-lock.js";
import { graphHash, parseRunStatus, utcStamp, type NodeStatus, type RunEnv, type RunState, type RunStatus } from "./run-status.js";

export const RUN_FILES = {
  recipe: "recipe.tune",
  graph: "graph.json",
  env: "env.json",
  status: "status.json",
  log: "run.log",
  metrics: "metrics.jsonl",
  lock: "run.lock",
  tuneLock: "tune.lock",
  summary: "summary.json",
} as const;

export interface CreateRunOptions {
  readonly runsDir?: string;
  readonly recipeName: string;
  readonly recipePath: string;
  readonly recipeText: string;
  readonly graph: Graph;
  readonly tuneVersion: string;
  /** A fixed run id (folder name) instead of `<recipe>-<UTC>-<hash8>` (tests); `-2`… is added if taken. */
  readonly id?: string;
  readonly warn?: WarningSink;
  /** For tests: the creation time. */
  readonly now?: Date;
}

export class RunDir {
  private statusValue: RunStatus;
  private readonly logFile: LineAppender;
  private metricsFile: LineAppender;
  private closed = false;

  /** Use createRun / openRun. */
  constructor(
    readonly dir: string,
    private readonly lock: HeldLock,
    status: RunStatus,
  ) {
    this.statusValue = status;
    this.logFile = new LineAppender(join(dir, RUN_FILES.log));
    this.metricsFile = new LineAppender(join(dir, RUN_FILES.metrics));
  }

  get id(): string {
    return this.statusValue.id;
  }
  get status(): RunStatus {
    return this.statusValue;
  }
  get graphHash(): string {
    return this.statusValue.graphHash;
  }
  /** The stale owner whose lock this run took over (a resumed run after kill -9), if any. */
  get tookOverFrom(): HeldLock["tookOverFrom"] {
    return this.lock.tookOverFrom;
  }

  path(...parts: string[]): string {
    return join(this.dir, ...parts);
  }

  /** `checkpoints/<node id made file-name safe>/`, created. */
  checkpointDir(nodeId: string): string {
    const p = join(this.dir, "checkpoints", safeName(nodeId));
    mkdirSync(p, { recursive: true });
    return p;
  }

  // ---- logs and metrics

  log(message: string): void {
    const t = new Date().toISOString();
    for (const line of message.split("\n")) this.logFile.append(`${t} ${line}`);
  }

  metric(record: Readonly<Record<string, JsonValue>>): void {
    this.metricsFile.append(JSON.stringify(record));
  }

  /** Metrics so far (a torn last line from a crash is skipped). */
  metrics(): Record<string, JsonValue>[] {
    return readJsonLines<Record<string, JsonValue>>(this.path(RUN_FILES.metrics)).records;
  }

  /**
   * Keep only the metric records `keep` accepts (atomic rewrite). For resume from a checkpoint at step k:
   * drop that node's records after k so the file ends up as an uninterrupted run's would.
   */
  retainMetrics(keep: (record: Record<string, JsonValue>) => boolean): number {
    const kept = this.metrics().filter(keep);
    this.metricsFile.close();
    writeFileAtomicSync(this.path(RUN_FILES.metrics), kept.map((r) => JSON.stringify(r) + "\n").join(""));
    this.metricsFile = new LineAppender(this.path(RUN_FILES.metrics));
    return kept.length;
  }

  // ---- status

  nodeStarted(nodeId: string): void {
    this.setNode(nodeId, { state: "running", startedAt: new Date().toISOString(), endedAt: null, durationMs: null, error: null });
  }
  nodeCached(nodeId: string): void {
    this.setNode(nodeId, { state: "cached", startedAt: null, endedAt: null, durationMs: null, error: null });
  }
  nodeDone(nodeId: string): void {
    this.endNode(nodeId, "done", null);
  }
  nodeFailed(nodeId: string, error: string): void {
    this.endNode(nodeId, "failed", error);
  }

  /** Record the run's end state and release the lock. Idempotent; `interrupted` resets running nodes to pending. */
  finish(state: Exclude<RunState, "running">, error: string | null = null): void {
    if (this.closed) return;
    const now = new Date();
    const nodes: Record<string, NodeStatus> = {};
    for (const [id, n] of Object.entries(this.statusValue.nodes)) {
      nodes[id] = n.state === "running" && state !== "failed" ? { ...n, state: "pending", startedAt: null } : n;
    }
    this.writeStatus({ ...this.statusValue, state, error, nodes, endedAt: now.toISOString(), durationMs: now.getTime() - Date.parse(this.statusValue.startedAt) });
    this.close();
  }

  /** Flush and release the lock without changing the status (state stays as last written). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.logFile.close();
    this.metricsFile.close();
    this.lock.release();
  }

  // ---- other files

  setEnv(patch: Readonly<Record<string, JsonValue>>): RunEnv {
    const env = { ...(readJsonSync(this.path(RUN_FILES.env)) as RunEnv), ...patch };
    writeJsonAtomicSync(this.path(RUN_FILES.env), env);
    return env;
  }
  writeSummary(summary: Readonly<Record<string, JsonValue>>): void {
    writeJsonAtomicSync(this.path(RUN_FILES.summary), summary);
  }
  /** Any JSON file of the run (eval reports, …), atomically; `name` relative to the run directory. */
  writeJson(name: string, value: unknown): void {
    writeJsonAtomicSync(this.path(name), value);
  }
  /** Write the run's tune.lock (deterministic text, see lockfile.ts). */
  writeTuneLock(lock: TuneLock): void {
    writeFileAtomicSync(this.path(RUN_FILES.tuneLock), serializeLock(lock));
  }

  private setNode(nodeId: string, patch: Partial<NodeStatus>): void {
    const prev = this.statusValue.nodes[nodeId];
    if (!prev) throw new Error(`run ${this.id}: no node ${nodeId} in the graph`);
    this.writeStatus({ ...this.statusValue, nodes: { ...this.statusValue.nodes, [nodeId]: { ...prev, ...patch } } });
  }

  private endNode(nodeId: string, state: "done" | "failed", error: string | null): void {
    const prev = this.statusValue.nodes[nodeId];
    const now = new Date();
    const started = prev?.startedAt ? Date.parse(prev.startedAt) : null;
    this.setNode(nodeId, { state, error, endedAt: now.toISOString(), durationMs: started === null ? null : now.getTime() - started });
  }

  private writeStatus(s: RunStatus): void {
    if (this.closed) throw new Error(`run ${this.id} is closed`);
    writeFileAtomicSync(this.path(RUN_FILES.status), JSON.stringify(s, null, 2) + "\n");
    this.statusValue = s;
  }
}

/** Create a new run directory (complete, locked by this process). */
export function createRun(opts: CreateRunOptions): RunDir {
  const runsDir = resolve(opts.runsDir ?? "./runs");
  const now = opts.now ?? new Date();
  const gh = graphHash(opts.graph);
  mkdirSync(runsDir, { recursive: true });
  const baseId = opts.id ?? `${safeName(opts.recipeName)}-${utcStamp(now)}-${gh.slice(0, 8)}`;
  const tmp = join(runsDir, `.creating-${baseId}-${randomBytes(4).toString("hex")}`);
  mkdirSync(tmp);
  try {
    writeFileAtomicSync(join(tmp, RUN_FILES.recipe), opts.recipeText);
    writeFileAtomicSync(join(tmp, RUN_FILES.graph), JSON.stringify(opts.graph, null, 2) + "\n");
    const env: RunEnv = { tune: opts.tuneVersion, node: process.version, platform: platform(), arch: arch(), cpus: cpus().length, seed: opts.graph.seed, backend: null, device: null };
    writeFileAtomicSync(join(tmp, RUN_FILES.env), stableJson(env));
    const lock = acquireLock(join(tmp, RUN_FILES.lock), `run ${baseId}`, opts.warn ?? stderrWarnings);
    const id = publish(tmp, runsDir, baseId);
    const dir = join(runsDir, id);
    const status: RunStatus = {
      format: "tune-run-status",
      version: 1,
      id,
      recipe: opts.recipeName,
      recipePath: opts.recipePath,
      graphHash: gh,
      state: "running",
      startedAt: now.toISOString(),
      endedAt: null,
      durationMs: null,
      resumes: 0,
      error: null,
      nodes: Object.fromEntries(opts.graph.nodes.map((n) => [n.id, { state: "pending", hash: n.hash, op: n.op, startedAt: null, endedAt: null, durationMs: null, error: null }])),
    };
    writeFileAtomicSync(join(dir, RUN_FILES.status), JSON.stringify(status, null, 2) + "\n");
    return new RunDir(dir, lock.moved(join(dir, RUN_FILES.lock)), status);
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
}

/** Rename the assembled directory to `<baseId>`, or `<baseId>-2`, … when a run of the same second exists. */
function publish(tmp: string, runsDir: string, baseId: string): string {
  for (let n = 1; ; n++) {
    const id = n === 1 ? baseId : `${baseId}-${n}`;
    try {
      renameSync(tmp, join(runsDir, id));
      syncDirSync(runsDir);
      return id;
    } catch (e) {
      if (errnoCode(e) !== "ENOTEMPTY" && errnoCode(e) !== "EEXIST") throw e;
    }
  }
}

/**
 * Reopen an existing run to resume it: takes its lock (T9103 if a live process holds it, T9104 warning when a
 * dead one did), marks it running again and resets nodes that were running when it stopped to pending.
 */
export function openRun(dir: string, opts: { warn?: WarningSink } = {}): RunDir {
  const abs = resolve(dir);
  const status = readStatusOrThrow(abs);
  const lock = acquireLock(join(abs, RUN_FILES.lock), `run ${status.id}`, opts.warn ?? stderrWarnings);
  const fresh = readStatusOrThrow(abs); // re-read under the lock
  const nodes: Record<string, NodeStatus> = {};
  for (const [id, n] of Object.entries(fresh.nodes)) nodes[id] = n.state === "running" ? { ...n, state: "pending", startedAt: null } : n;
  const resumed: RunStatus = { ...fresh, state: "running", endedAt: null, durationMs: null, error: null, resumes: fresh.resumes + 1, nodes };
  writeFileAtomicSync(join(abs, RUN_FILES.status), JSON.stringify(resumed, null, 2) + "\n");
  return new RunDir(abs, lock, resumed);
}

export function readStatusOrThrow(dir: string): RunStatus {
  let text: string;
  try {
    text = readFileSync(join(dir, RUN_FILES.status), "utf8");
  } catch (e) {
    throw new StoreError("T9105", `${dir} is not a run directory (cannot read status.json: ${errnoCode(e) ?? (e as Error).message})`, "pass a directory under runs/ as listed by `tune runs`");
  }
  const s = parseRunStatus(text);
  if (typeof s === "string") throw new StoreError("T9105", `${dir}: ${s}`, "the run directory was edited or damaged; start a new run");
  return s;
}

function safeName(s: string): string {
  return s.replace(/[^A-Za-z0-9_.-]+/g, "_");
}

// Reading run directories: listing, resolving an id the user typed, headline metrics, and finding the run
// `tune run --resume` continues.
//
// Why this exists: `tune runs`, `tune runs show|diff` and resume all need the same view of a run, including runs
// that were killed: status.json then still says "running" while no live process holds run.lock. That run is
// reported as interrupted (killed) — the state a user can act on — without rewriting anything.

import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import type { Graph } from "../../compiler/graph.js";
import { readJsonLines } from "./appender.js";
import { StoreError } from "./errors.js";
import { ownerAlive, readLockOwner, type LockOwner } from "./pid-lock.js";
import { RUN_FILES } from "./run-dir.js";
import { parseRunStatus, type RunState, type RunStatus } from "./run-status.js";

export interface RunInfo {
  readonly id: string;
  readonly dir: string;
  /** null when status.json cannot be read (`problem` says why). */
  readonly status: RunStatus | null;
  readonly problem: string | null;
  /** The state to show: a "running" run whose owner is gone is "interrupted". */
  readonly state: RunState | "unreadable";
  /** Recorded as running, but its process is gone (kill -9, crash, reboot). */
  readonly killed: boolean;
  /** The live process holding run.lock, if any. */
  readonly owner: LockOwner | null;
  readonly startedAt: Date | null;
  /** Recorded duration, or time so far for a live run; null when unknown. */
  readonly durationMs: number | null;
}

export function readRunInfo(dir: string, now = new Date()): RunInfo {
  const abs = resolve(dir);
  const id = basename(abs);
  let text = "";
  try {
    text = readFileSync(join(abs, RUN_FILES.status), "utf8");
  } catch {
    // reported below
  }
  const parsed = text ? parseRunStatus(text) : "status.json is missing";
  const lockOwner = readLockOwner(join(abs, RUN_FILES.lock));
  const owner = ownerAlive(lockOwner) ? lockOwner : null;
  if (typeof parsed === "string") {
    return { id, dir: abs, status: null, problem: parsed, state: "unreadable", killed: false, owner, startedAt: null, durationMs: null };
  }
  const killed = parsed.state === "running" && !owner;
  const startedAt = new Date(parsed.startedAt);
  const durationMs = parsed.durationMs ?? (parsed.state === "running" && owner ? now.getTime() - startedAt.getTime() : null);
  return { id, dir: abs, status: parsed, problem: null, state: killed ? "interrupted" : parsed.state, killed, owner, startedAt, durationMs };
}

/** Every run under `runsDir`, newest first. T9106 when the directory does not exist. */
export function listRuns(runsDir: string): RunInfo[] {
  const abs = resolve(runsDir);
  if (!existsSync(abs)) throw new StoreError("T9106", `runs directory ${runsDir} does not exist`, "runs are written to ./runs, or to the directory given with --runs-dir");
  const runs: RunInfo[] = [];
  for (const name of readdirSync(abs).sort()) {
    if (name.startsWith(".")) continue; // .creating-… directories are runs being assembled
    const dir = join(abs, name);
    if (!statSync(dir).isDirectory() || !existsSync(join(dir, RUN_FILES.status)) && !existsSync(join(dir, RUN_FILES.graph))) continue;
    runs.push(readRunInfo(dir));
  }
  return runs.sort((a, b) => (b.startedAt?.getTime() ?? 0) - (a.startedAt?.getTime() ?? 0) || (a.id < b.id ? 1 : -1));
}

/** A run named by its id, a unique id prefix, or a path to its directory. T9101 / T9102 otherwise. */
export function resolveRun(runsDir: string, ref: string): RunInfo {
  if ((ref.includes("/") || ref.startsWith(".")) && existsSync(join(ref, RUN_FILES.status))) return readRunInfo(ref);
  const runs = listRuns(runsDir);
  const exact = runs.find((r) => r.id === ref);
  if (exact) return exact;
  const matches = runs.filter((r) => r.id.startsWith(ref));
  if (matches.length === 1) return matches[0]!;
  if (matches.length > 1) {
    const shown = matches.slice(0, 5).map((r) => r.id).join(", ");
    throw new StoreError("T9102", `\`${ref}\` matches ${matches.length} runs: ${shown}${matches.length > 5 ? ", …" : ""}`, "give more of the id");
  }
  const recent = runs.slice(0, 3).map((r) => r.id);
  throw new StoreError("T9101", `no run \`${ref}\` in ${runsDir}`, recent.length ? `recent runs: ${recent.join(", ")}` : "`tune runs` lists the runs; --runs-dir selects another directory");
}

export interface ResumeCandidate {
  readonly run: RunInfo;
  /** The run was started from the same graph (same seed, node ids and hashes). */
  readonly sameGraph: boolean;
  /** Not completed and not held by a live process. */
  readonly resumable: boolean;
  /** Why it cannot be resumed, when it cannot. */
  readonly reason: string | null;
}

/**
 * The newest run of `recipeName` under `runsDir` (what `tune run --resume` continues), or null when there is
 * none. The caller decides what to do with a changed graph (`sameGraph` false: compare with `graphChanges`).
 */
export function findResumable(runsDir: string, recipeName: string, currentGraphHash: string): ResumeCandidate | null {
  if (!existsSync(runsDir)) return null;
  const run = listRuns(runsDir).find((r) => r.status?.recipe === recipeName);
  if (!run || !run.status) return null;
  const sameGraph = run.status.graphHash === currentGraphHash;
  let reason: string | null = null;
  if (run.owner) reason = `it is running (process ${run.owner.pid})`;
  else if (run.state === "completed") reason = "it completed";
  return { run, sameGraph, resumable: reason === null, reason };
}

export function readRunGraph(dir: string): Graph | null {
  try {
    return JSON.parse(readFileSync(join(dir, RUN_FILES.graph), "utf8")) as Graph;
  } catch {
    return null;
  }
}

/**
 * Headline numbers of a run: the numeric values of summary.json (nested keys joined with "."), else those of
 * the last metrics line. In file order.
 */
export function headlineMetrics(dir: string): Array<[string, number]> {
  try {
    const summary = JSON.parse(readFileSync(join(dir, RUN_FILES.summary), "utf8")) as unknown;
    const out: Array<[string, number]> = [];
    flattenNumbers(summary, "", out);
    return out;
  } catch {
    const { records } = readJsonLines(join(dir, RUN_FILES.metrics));
    const last = records[records.length - 1];
    const out: Array<[string, number]> = [];
    if (last) flattenNumbers(last, "", out);
    return out;
  }
}

function flattenNumbers(v: unknown, prefix: string, out: Array<[string, number]>): void {
  if (typeof v === "number" && Number.isFinite(v)) out.push([prefix, v]);
  else if (v && typeof v === "object" && !Array.isArray(v)) {
    for (const [k, x] of Object.entries(v)) flattenNumbers(x, prefix ? `${prefix}.${k}` : k, out);
  }
}

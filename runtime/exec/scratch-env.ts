// Execution environments for running part of a graph outside a run directory:
// `scratchEnv` for commands (`tune data`, `tune lock`, `tune export --executor
// torch`): messages and progress go to the given sink, metrics nowhere, outputs
// to a scratch folder; `memoryEnv` for programs that call op handlers directly
// (benchmarks, tests): log lines and metrics kept in arrays, progress silent,
// and no tiny stand-in model (asking for one is an error).
import { dirname } from "node:path";
import type { Graph } from "../../compiler/graph.js";
import { createProgress, type ProgressSink } from "./progress.js";
import { loadTinyModel } from "./ops/model.js";
import { SMOKE_LIMITS } from "./run.js";
import type { ExecEnv } from "./types.js";

export interface ScratchEnvOptions {
  graph: Graph;
  recipePath: string;
  packageRoot: string;
  runDir: string;
  smoke: boolean;
  sink: ProgressSink;
}

export function scratchEnv(o: ScratchEnvOptions): ExecEnv {
  const log = (line: string): void => o.sink.write(line + "\n");
  const env: ExecEnv = {
    graph: o.graph,
    recipeDir: dirname(o.recipePath),
    packageRoot: o.packageRoot,
    runDir: o.runDir,
    smoke: o.smoke ? SMOKE_LIMITS : null,
    seed: o.graph.seed,
    log,
    metric: () => {},
    progress: (label, total, unit) => createProgress(o.sink, label, total, unit),
    substitute: (node, what) => log(`smoke: ${node}: ${what}`),
    defaultTokenizer: () => null,
    standIn: () => loadTinyModel(env),
    stopRequested: () => false,
  };
  return env;
}

export interface MemoryEnvOptions {
  graph: Graph;
  recipeDir: string;
  runDir: string;
  packageRoot: string;
  /** Receives every log line (and "smoke: <node>: <what>" substitutions). */
  log: string[];
  /** Receives every metric record; omitted: metrics are dropped. */
  metrics?: Record<string, unknown>[];
}

export function memoryEnv(o: MemoryEnvOptions): ExecEnv {
  return {
    graph: o.graph,
    recipeDir: o.recipeDir,
    packageRoot: o.packageRoot,
    runDir: o.runDir,
    smoke: null,
    seed: o.graph.seed,
    log: (line) => void o.log.push(line),
    metric: (record) => void o.metrics?.push(record),
    progress: (label, total, unit) => createProgress({ isTTY: false, write: () => undefined }, label, total, unit),
    substitute: (node, what) => void o.log.push(`smoke: ${node}: ${what}`),
    defaultTokenizer: () => null,
    stopRequested: () => false,
    standIn: () => Promise.reject(new Error("memoryEnv has no stand-in model")),
  };
}

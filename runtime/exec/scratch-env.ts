// An execution environment for commands that run part of a graph outside a
// run directory (`tune data`, `tune export --executor torch`): messages and
// progress go to the given sink, metrics nowhere, outputs to a scratch folder.
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

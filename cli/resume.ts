// `tune run <recipe> --resume [<run>]`: which run directory to continue, and
// whether it may be continued. The newest run of the recipe when none is
// named. A run whose recipe compiled to a different graph is refused with the
// difference (node by node, and the recipe text), unless `--allow-changes`:
// then a new run starts that reuses everything unaffected (cached nodes,
// checkpoints of unchanged training nodes) and recomputes the rest.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { Graph } from "../compiler/graph.js";
import { findResumable, graphChanges, graphHash, readRunGraph, resolveRun, RUN_FILES, StoreError, type RunInfo } from "../runtime/store/index.js";
import { lineDiff } from "./diff.js";
import type { Io } from "./commands.js";

export type ResumePlan =
  /** Reopen this run directory and continue it. */
  | { kind: "same"; dir: string; id: string }
  /** The recipe changed and --allow-changes was given: a new run continues from this one's checkpoints. */
  | { kind: "changed"; from: string; id: string };

export interface ResumeRequest {
  recipePath: string;
  recipeText: string;
  graph: Graph;
  runsDir: string;
  /** true: the newest run of the recipe; a string: a run id, id prefix or directory. */
  ref: string | true;
  allowChanges: boolean;
  /** This invocation's --smoke: a smoke run is only continued by a smoke run (and a full one by a full one). */
  smoke: boolean;
}

/** Decide what `--resume` continues; prints why not and returns null when it cannot. */
export function planResume(r: ResumeRequest, io: Io): ResumePlan | null {
  const current = graphHash(r.graph);
  let run: RunInfo;
  try {
    if (r.ref === true) {
      const c = findResumable(r.runsDir, r.graph.recipe, current);
      if (!c) {
        io.err(`error[T9109]: no run of recipe \`${r.graph.recipe}\` in ${r.runsDir} to resume\n  = help: start it with \`tune run ${r.recipePath}\`; --runs-dir selects another directory\n`);
        return null;
      }
      run = c.run;
    } else run = resolveRun(r.runsDir, r.ref);
  } catch (e) {
    if (e instanceof StoreError) {
      io.err(`error[${e.code}]: ${e.message}\n  = help: ${e.hint}\n`);
      return null;
    }
    throw e;
  }
  if (run.status && run.status.recipe !== r.graph.recipe) {
    io.err(`error[T9101]: run ${run.id} is of recipe \`${run.status.recipe}\`, not \`${r.graph.recipe}\`\n  = help: name a run of this recipe (\`tune runs\` lists them)\n`);
    return null;
  }
  if (run.owner) {
    io.err(`error[T9103]: run ${run.id} is running (process ${run.owner.pid})\n  = help: wait for it, or stop it (Ctrl-C saves a checkpoint) and resume then\n`);
    return null;
  }
  if (run.state === "completed") {
    io.err(`error[T9107]: run ${run.id} completed; there is nothing to resume\n  = help: \`tune run ${r.recipePath}\` starts a new run (unchanged nodes come from the cache)\n`);
    return null;
  }
  const runSmoke = readSmoke(run.dir);
  if (runSmoke !== null && runSmoke !== r.smoke) {
    io.err(`error[T9108]: run ${run.id} was ${runSmoke ? "a --smoke run" : "a full run"}; resume it ${runSmoke ? "with" : "without"} --smoke\n  = help: smoke runs use the tiny stand-in model and capped steps; they cannot continue a full run or the reverse\n`);
    return null;
  }
  if (run.status?.graphHash === current) return { kind: "same", dir: run.dir, id: run.id };
  const before = readRunGraph(run.dir);
  const changes = before ? graphChanges(before, r.graph) : null;
  const lines = [`the recipe changed since run ${run.id} started:`];
  if (changes) {
    if (changes.seedChanged) lines.push(`  seed ${before!.seed} → ${r.graph.seed}`);
    for (const id of changes.changed) lines.push(`  ~ ${id}`);
    for (const id of changes.added) lines.push(`  + ${id}`);
    for (const id of changes.removed) lines.push(`  - ${id}`);
    lines.push(`  ${changes.unchanged.length} node(s) unchanged`);
  }
  let oldText = "";
  try {
    oldText = readFileSync(join(run.dir, RUN_FILES.recipe), "utf8");
  } catch {
    /* an older run without recipe.tune: the node list says enough */
  }
  if (oldText) lines.push(lineDiff(r.recipePath, oldText, r.recipeText, [`${r.recipePath} (run ${run.id})`, `${r.recipePath} (now)`]).trimEnd());
  if (!r.allowChanges) {
    io.err(`error[T9108]: ${lines.join("\n")}\n  = help: undo the change to resume ${run.id}, or add --allow-changes to start a new run that reuses every unaffected node and checkpoint\n`);
    return null;
  }
  io.out(`${lines.join("\n")}\n--allow-changes: a new run reuses the unaffected nodes and checkpoints of ${run.id}\n`);
  return { kind: "changed", from: run.dir, id: run.id };
}

/** The run's --smoke setting from env.json (null when unknown). */
function readSmoke(dir: string): boolean | null {
  try {
    const env = JSON.parse(readFileSync(join(dir, RUN_FILES.env), "utf8")) as { smoke?: unknown };
    return typeof env.smoke === "boolean" ? env.smoke : null;
  } catch {
    return null;
  }
}

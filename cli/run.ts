// `tune run <recipe>`: compile, print the plan, then execute in process
// (runtime/exec). The runtime is imported lazily so lint/fmt/plan never load
// TensorFlow.js.
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { planText } from "./plan.js";
import { compileRecipe, type Io } from "./commands.js";
import { packageRoot } from "./host.js";
import { planResume, type ResumePlan } from "./resume.js";
import { frozenLock } from "./lock-commands.js";

export interface RunCliOptions {
  dryRun: boolean;
  smoke: boolean;
  color: boolean;
  device: string;
  runsDir: string;
  cache: boolean;
  /** `--resume [run]`: true = the newest run of the recipe. */
  resume?: string | true;
  /** `--allow-changes`: resume a changed recipe as a new run reusing what is unaffected. */
  allowChanges?: boolean;
  /** `tune eval`: only the evaluation and what it needs (trained stages come from the cache when unchanged). */
  evalOnly?: boolean;
  /** `--executor torch`: train in an exported PyTorch project under the run directory (cli/torch-commands.ts). */
  executor?: "tfjs" | "torch";
  /** `--python PATH` for the torch executor (default python3). */
  python?: string;
  /** `--frozen`: refuse to run unless everything resolves as in the lockfile. */
  frozen?: boolean;
  /** `--lockfile F` (default: the project's tune.lock). */
  lockfile?: string | null;
}

const DEVICES = ["auto", "wasm", "cpu", "tensorflow", "gpu"] as const;

export async function runRecipeCommand(path: string, opts: RunCliOptions, io: Io): Promise<number> {
  const c = compileRecipe(path, opts.color, io);
  if (!c || !c.graph) return 1;
  if (c.diagnostics.some((d) => d.severity === "error")) return 1;
  io.out(planText(c.graph, "text", opts.color).text);
  if (opts.dryRun) {
    io.out("dry run: compiled and planned; nothing was executed\n");
    return 0;
  }
  if (opts.executor === "torch") {
    if (opts.resume !== undefined || opts.evalOnly) {
      io.err(`error: ${opts.evalOnly ? "tune eval" : "--resume"} is not available with --executor torch\n  = help: the exported project resumes itself: run \`bash launch.sh\` in <run dir>/torch again\n`);
      return 2;
    }
    const { runTorchCommand } = await import("./torch-commands.js");
    return runTorchCommand(path, c.graph, { python: opts.python ?? "python3", smoke: opts.smoke, runsDir: opts.runsDir }, io);
  }
  const device = DEVICES.find((d) => d === opts.device);
  if (!device) {
    io.err(`error: unknown device \`${opts.device}\`; choose one of ${DEVICES.join(", ")}\n`);
    return 2;
  }
  const { initBackend } = await import("../runtime/backend/index.js");
  const { runGraph } = await import("../runtime/exec/run.js");
  const { evalSubgraph } = await import("../runtime/exec/subgraph.js");
  const graph = opts.evalOnly ? evalSubgraph(c.graph) : c.graph;
  if (opts.evalOnly && graph.nodes.length === 0) {
    io.err(`error: ${path} has no eval block; nothing to evaluate\n`);
    return 1;
  }
  const recipeText = readFileSync(path, "utf8");
  let resume: ResumePlan | null = null;
  if (opts.resume !== undefined) {
    if (!opts.cache) io.err("warning: --resume with --no-cache: finished nodes are recomputed (same seed, same results), only training continues from checkpoints\n");
    resume = planResume({ recipePath: path, recipeText, graph, runsDir: opts.runsDir, ref: opts.resume, allowChanges: !!opts.allowChanges, smoke: opts.smoke }, io);
    if (!resume) return 1;
  }
  let frozen: Awaited<ReturnType<typeof frozenLock>> = null;
  if (opts.frozen) {
    frozen = await frozenLock(graph, path, recipeText, opts.smoke, opts.lockfile ?? null, io);
    if (!frozen) return 1;
  }
  const backend = await initBackend(device);
  io.out(`\nexecuting in process on ${JSON.stringify(backend)}${opts.smoke ? " (smoke: tiny stand-in model, subsampled data, capped steps)" : ""}\n`);
  // First Ctrl-C: finish the current step, save a checkpoint, stop (exit 130). Second: exit at once.
  let stop = false;
  const onSignal = (): void => {
    if (stop) process.exit(130);
    stop = true;
    io.err("\ninterrupt: finishing the current step and saving; press Ctrl-C again to abort\n");
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  const summary = await runGraph({
    graph,
    recipePath: resolve(path),
    recipeText,
    resume: resume?.kind === "same" ? resume.dir : undefined,
    continueFrom: resume?.kind === "changed" ? resume.from : undefined,
    frozen: frozen ?? undefined,
    packageRoot: packageRoot(),
    runsDir: opts.runsDir,
    smoke: opts.smoke,
    cache: opts.cache,
    backend: { backend: backend.backend, device: backend.device },
    out: { isTTY: !!process.stdout.isTTY, write: (t) => io.out(t) },
    hooks: { stopRequested: () => stop },
  });
  process.off("SIGINT", onSignal);
  process.off("SIGTERM", onSignal);
  if (stop) return 130;
  return summary.ok ? 0 : 1;
}

// `tune export <recipe> --executor torch -o DIR` and `tune run <recipe> --executor torch`: the CLI edge of the
// PyTorch executor (runtime/torch).
//
// Why this exists: exporting needs the recipe's data prepared by tune's in-process data executor (load,
// filter, score, dedup, mix, split, template rendering) before the torch project can be written; the caller
// supplies that step as `prepareData`, so this file stays a thin layer of argument parsing, messages and exit
// codes (0 written, 1 the recipe does not compile / data preparation failed, 2 usage, I/O or export error).
// `tune run --executor torch` checks the Python environment first (exit 2 with each missing piece's code and
// hint), then runs runtime/torch/run.ts; the launched project's exit code is the command's (130 interrupted).
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { Command, Option } from "commander";
import type { Graph } from "../compiler/graph.js";
import { TUNE_VERSION } from "../compiler/version.js";
import { checkTorchEnvironment, exportTorchProject, TorchError, type EnvFinding, type TorchDataFiles } from "../runtime/torch/index.js";
import { packageRoot } from "./host.js";

export interface TorchCommandDeps {
  /** Compile the recipe and run its data half; JSONL of rendered examples per training node id. */
  prepareData(recipePath: string): Promise<{ graph: Graph; data: Map<string, TorchDataFiles> }>;
  /** Exit-code sink (main.ts's setExit); default process.exitCode. */
  setExit?: (code: number) => void;
  io?: { out(text: string): void; err(text: string): void };
  tuneVersion?: string;
}

export const EXECUTORS = ["torch"] as const;
/** `tune run --executor`: in process (TensorFlow.js) or an exported PyTorch project. */
export const RUN_EXECUTORS = ["tfjs", "torch"] as const;

export function registerTorchCommands(program: Command, deps: TorchCommandDeps): Command {
  program
    .command("export")
    .description("write a self-contained project that trains the recipe with PyTorch (transformers, PEFT, accelerate, DeepSpeed)")
    .argument("<recipe>", "recipe file")
    .addOption(new Option("--executor <executor>", "executor to export for").choices([...EXECUTORS]).makeOptionMandatory())
    .requiredOption("-o, --out <dir>", "output folder (new, empty, or an earlier export)")
    .option("--python-version <version>", "Python version to state in requirements and README", "3.11")
    .action(async (recipe: string, opts: { executor: string; out: string; pythonVersion: string }) => {
      const code = await exportCommand(recipe, opts, deps);
      (deps.setExit ?? ((c: number) => (process.exitCode = c)))(code);
    });
  return program;
}

export async function exportCommand(recipe: string, opts: { out: string; pythonVersion: string }, deps: TorchCommandDeps): Promise<number> {
  const io = deps.io ?? { out: (t: string) => void process.stdout.write(t), err: (t: string) => void process.stderr.write(t) };
  let recipeText: string;
  try {
    recipeText = readFileSync(recipe, "utf8");
  } catch (e) {
    io.err(`error: cannot read ${recipe}: ${(e as Error).message}\n`);
    return 2;
  }
  let prepared: Awaited<ReturnType<TorchCommandDeps["prepareData"]>>;
  try {
    prepared = await deps.prepareData(recipe);
  } catch (e) {
    io.err(`error: preparing the data of ${recipe} failed: ${(e as Error).message}\n`);
    return 1;
  }
  try {
    const r = await exportTorchProject(prepared.graph, opts.out, {
      data: prepared.data, recipeText, pythonVersion: opts.pythonVersion, tuneVersion: deps.tuneVersion,
    });
    const trains = r.plan.steps.filter((s) => s.kind === "train").length;
    io.out(`wrote ${r.files.length} files to ${r.dir}: ${trains} training step(s), ${r.plan.steps.length - trains} export/eval step(s)\n`);
    for (const n of r.plan.notExported) io.out(`  not exported: ${n.node} — ${n.reason}\n`);
    io.out(`next: cd ${r.dir} && pip install -r requirements.txt && bash launch.sh --check-env && bash launch.sh\n`);
    return 0;
  } catch (e) {
    if (e instanceof TorchError) {
      io.err(e.render() + "\n");
      return 2;
    }
    throw e;
  }
}

export interface TorchRunCliOptions {
  /** Python interpreter (default python3). */
  python: string;
  smoke: boolean;
  runsDir: string;
  /** Extra environment for the programs (tests). */
  env?: Record<string, string>;
}

type CliIo = { out(text: string): void; err(text: string): void };

/** `tune run <recipe> --executor torch` after compiling and planning (cli/run.ts). Returns the exit code. */
export async function runTorchCommand(recipePath: string, graph: Graph, opts: TorchRunCliOptions, io: CliIo): Promise<number> {
  io.out(`\nchecking the Python environment (${opts.python})\n`);
  const report = await checkTorchEnvironment(opts.python, { graph, cpuFallback: opts.smoke });
  for (const f of report.findings) io.err(renderFinding(f));
  if (!report.ok) {
    io.err(`error: the torch executor cannot run with \`${opts.python}\`; fix the errors above (\`--python PATH\` picks another interpreter)\n`);
    return 2;
  }
  io.out(`executing with PyTorch: ${report.summary}${opts.smoke ? " (smoke: tiny stand-in model, subsampled data, capped steps)" : ""}\n`);
  const { runTorchGraph } = await import("../runtime/torch/run.js");
  const r = await runTorchGraph({
    graph,
    recipePath: resolve(recipePath),
    recipeText: readFileSync(recipePath, "utf8"),
    packageRoot: packageRoot(),
    runsDir: opts.runsDir,
    python: opts.python,
    pythonVersion: report.probe?.python.version.split(".").slice(0, 2).join("."),
    smoke: opts.smoke,
    tuneVersion: TUNE_VERSION,
    out: { isTTY: !!process.stdout.isTTY, write: (t) => io.out(t) },
    onLine: (line, stream) => (stream === "stderr" ? io.err : io.out)(line + "\n"),
    env: opts.env,
    envFacts: { torch_env: report.summary },
  });
  const how = r.exitCode === 0 ? "completed" : r.interrupted ? "interrupted (checkpoints saved)" : `failed (exit ${r.exitCode})`;
  io.out(`\nrun ${r.runDir}: ${how}\n`);
  if (r.interrupted && r.projectDir) io.out(`resume: cd ${r.projectDir} && bash launch.sh\n`);
  return r.exitCode;
}

function renderFinding(f: EnvFinding): string {
  return `${f.severity}[${f.code}]: ${f.message}\n  = help: ${f.hint}\n`;
}

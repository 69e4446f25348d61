// `tune export <recipe> --executor torch -o DIR`: the CLI edge of the PyTorch executor (runtime/torch).
//
// Why this exists: exporting needs the recipe's data prepared by tune's in-process data executor (load,
// filter, score, dedup, mix, split, template rendering) before the torch project can be written; the caller
// supplies that step as `prepareData`, so this file stays a thin layer of argument parsing, messages and exit
// codes (0 written, 1 the recipe does not compile / data preparation failed, 2 usage, I/O or export error).
import { readFileSync } from "node:fs";
import { Command, Option } from "commander";
import type { Graph } from "../compiler/graph.js";
import { exportTorchProject, TorchError, type TorchDataFiles } from "../runtime/torch/index.js";

export interface TorchCommandDeps {
  /** Compile the recipe and run its data half; JSONL of rendered examples per training node id. */
  prepareData(recipePath: string): Promise<{ graph: Graph; data: Map<string, TorchDataFiles> }>;
  /** Exit-code sink (main.ts's setExit); default process.exitCode. */
  setExit?: (code: number) => void;
  io?: { out(text: string): void; err(text: string): void };
  tuneVersion?: string;
}

export const EXECUTORS = ["torch"] as const;

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

// The `tune` command line: argument parsing (commander) and exit codes only.
// Exit codes: 0 clean, 1 findings (lint/fmt --check) or compile errors, 2 usage or I/O error.
import { Command, CommanderError, Option } from "commander";
import { RENDER_FORMATS } from "./render/index.js";
import { runRecipeCommand } from "./run.js";
import { dataCommand } from "./data.js";
import { registerRegistryCommands } from "./registry/commands.js";
import { registerStoreCommands } from "./store-commands.js";
import { lockCommand } from "./lock-commands.js";
import { registerTorchCommands } from "./torch-commands.js";
import { prepareDataForExport } from "./prepare.js";
import { registerModelCommands } from "./model-commands.js";
import {
  explainCommand,
  fmtCommand,
  lintCommand,
  lintCommandWithData,
  listCodes,
  planCommand,
  processIo,
  referenceCommand,
  UsageError,
  VERSION,
} from "./commands.js";

function useColor(opts: { color?: boolean }): boolean {
  return opts.color !== false && !process.env["NO_COLOR"] && !!process.stdout.isTTY;
}

export function buildProgram(setExit: (code: number) => void): Command {
  const program = new Command();
  program
    .name("tune")
    .description("Declarative, checked and reproducible LLM fine-tuning recipes")
    .version(VERSION)
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });

  program
    .command("lint")
    .description("check recipes and report every problem at once")
    .argument("[paths...]", "recipe files or directories", [])
    .addOption(new Option("--format <format>", "output format").choices([...RENDER_FORMATS]).default("text"))
    .option("--data", "also read local data files and warn (T5540) when a share of rows exceeds a stage's cutoff with the model's real tokenizer (slower: tokenizes up to 2,000 rows per dataset)")
    .option("--no-color", "plain output")
    .action(async (paths: string[], opts) =>
      setExit(opts.data ? await lintCommandWithData(paths, { format: opts.format, color: useColor(opts) }, processIo) : lintCommand(paths, { format: opts.format, color: useColor(opts) }, processIo)),
    );

  program
    .command("fmt")
    .description("format recipes in the canonical layout (keeps comments)")
    .argument("[paths...]", "recipe files or directories", [])
    .option("--check", "exit 1 if a file is not formatted; change nothing")
    .option("--diff", "print what would change; change nothing")
    .option("--no-color", "plain output")
    .action((paths: string[], opts) => setExit(fmtCommand(paths, { check: !!opts.check, diff: !!opts.diff, color: useColor(opts) }, processIo)));

  program
    .command("plan")
    .description("show the execution graph and per-stage cost and memory estimates")
    .argument("<recipe>", "recipe file")
    .addOption(new Option("--format <format>", "output format").choices(["text", "json", "dot", "mermaid"]).default("text"))
    .option("--no-color", "plain output")
    .action((recipe: string, opts) => setExit(planCommand(recipe, { format: opts.format, color: useColor(opts) }, processIo)));

  program
    .command("run")
    .description("compile, plan and execute a recipe")
    .argument("<recipe>", "recipe file")
    .option("--dry-run", "compile and print the plan; execute nothing")
    .option("--smoke", "run the whole graph with the tiny model standing in, data subsampled, steps capped")
    .addOption(new Option("--device <device>", "tensor backend").choices(["auto", "wasm", "cpu", "tensorflow", "gpu"]).default("auto"))
    .option("--runs-dir <dir>", "where run directories go", "runs")
    .option("--no-cache", "recompute every node; neither read nor write $TUNE_CACHE")
    .option("--resume [run]", "continue an interrupted run (default: the newest run of this recipe) from its last complete node and training checkpoint")
    .option("--allow-changes", "with --resume: if the recipe changed, start a new run reusing every unaffected node and checkpoint")
    .option("--frozen", "fail unless every input (and every derived data digest) resolves as in the lockfile")
    .option("--lockfile <file>", "lockfile for --frozen (default: the project's tune.lock; a run's runs/<id>/tune.lock reproduces it)")
    .addOption(new Option("--executor <executor>", "where training runs: in process (tfjs) or an exported PyTorch project (torch)").choices(["tfjs", "torch"]).default("tfjs"))
    .option("--python <path>", "Python interpreter for --executor torch", "python3")
    .option("--no-color", "plain output")
    .action(async (recipe: string, opts) =>
      setExit(
        await runRecipeCommand(
          recipe,
          { dryRun: !!opts.dryRun, smoke: !!opts.smoke, device: opts.device, runsDir: opts.runsDir, cache: opts.cache !== false, color: useColor(opts), resume: opts.resume as string | true | undefined, allowChanges: !!opts.allowChanges, executor: opts.executor, python: opts.python, frozen: !!opts.frozen, lockfile: (opts.lockfile as string | undefined) ?? null },
          processIo,
        ),
      ),
    );

  program
    .command("eval")
    .description("run only a recipe's evaluation (stages it needs come from the cache when unchanged)")
    .argument("<recipe>", "recipe file")
    .option("--smoke", "the tiny model stands in, tasks subsampled (as tune run --smoke)")
    .addOption(new Option("--device <device>", "tensor backend").choices(["auto", "wasm", "cpu", "tensorflow", "gpu"]).default("auto"))
    .option("--runs-dir <dir>", "where run directories go", "runs")
    .option("--no-cache", "recompute every node; neither read nor write $TUNE_CACHE")
    .option("--no-color", "plain output")
    .action(async (recipe: string, opts) =>
      setExit(await runRecipeCommand(recipe, { dryRun: false, smoke: !!opts.smoke, device: opts.device, runsDir: opts.runsDir, cache: opts.cache !== false, color: useColor(opts), evalOnly: true }, processIo)),
    );

  program
    .command("data")
    .description("show what each stage will be trained on (rows after each op, token lengths, masked/trained samples), or inspect one file with --source")
    .argument("[recipe]", "recipe file (not needed with --source)")
    .option("--source <file>", "inspect one data file without a recipe: format, inferred schema, bad rows as FILE:LINE (exit 1 if any)")
    .option("--stage <name>", "only this stage")
    .option("--n <n>", "examples to show per stage", "3")
    .option("--rows <n>", "alias of --n")
    .option("--smoke", "read the smoke files (as tune run --smoke); token counts still use the real tokenizer when it can be had")
    .option("--json", "machine-readable report (token ids and the masked/trained split per sample)")
    .action(async (recipe: string | undefined, opts) =>
      setExit(
        await dataCommand(recipe ?? null, { stage: opts.stage ?? null, n: Math.max(0, Number(opts.rows ?? opts.n) || 0), smoke: !!opts.smoke, json: !!opts.json, source: (opts.source as string | undefined) ?? null }, processIo),
      ),
    );

  program
    .command("lock")
    .description("pin what a recipe reads (file sha256, hub commits, node hashes) and the digest of every derived data artifact in tune.lock")
    .argument("<recipe>", "recipe file")
    .option("--smoke", "lock the smoke inputs (as tune run --smoke)")
    .option("--no-data", "pin inputs only; do not run the data half for derived-data digests")
    .option("--no-cache", "recompute the data half; neither read nor write $TUNE_CACHE")
    .option("--lockfile <file>", "where to write (default: the project's tune.lock)")
    .action(async (recipe: string, opts) =>
      setExit(await lockCommand(recipe, { smoke: !!opts.smoke, data: opts.data !== false, cache: opts.cache !== false, lockfile: (opts.lockfile as string | undefined) ?? null }, processIo)),
    );

  program
    .command("explain")
    .description("explain a diagnostic code (T3013) or a block kind (stage); --list lists the codes")
    .argument("[code]", "diagnostic code or block kind")
    .option("--list", "list every code")
    .option("--reference", "print the whole language reference (Markdown)")
    .action((code: string | undefined, opts) => {
      if (opts.reference) setExit(referenceCommand(processIo));
      else if (opts.list || !code) setExit(listCodes(processIo));
      else setExit(explainCommand(code, processIo));
    });
  registerModelCommands(program, setExit);
  registerRegistryCommands(program, setExit);
  registerStoreCommands(program, setExit);
  registerTorchCommands(program, { prepareData: prepareDataForExport, setExit, tuneVersion: VERSION });
  return program;
}

export async function main(argv: string[]): Promise<number> {
  let code = 0;
  const program = buildProgram((c) => (code = c));
  try {
    await program.parseAsync(argv, { from: "user" });
    return code;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 2;
    if (e instanceof UsageError) {
      process.stderr.write(`error: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
}

// `tune run <recipe> --executor torch` when the Python environment cannot run it: no interpreter, or one without
// torch. The check runs the real probe (tune_torch/check_env.py) through a stand-in interpreter: a two-line
// script that starts this machine's python3 with `-S` (no site-packages, so no torch, transformers, peft or
// accelerate, whatever is installed). Nothing is prepared or written before the check passes. The run itself
// (a real torch) is run-exported.test.ts, opt-in.
import { chmodSync, existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { buildProgram } from "../../cli/main.js";
import { runRecipeCommand, type RunCliOptions } from "../../cli/run.js";
import { tempDir } from "./helpers.js";

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { out: (t: string) => void out.push(t), err: (t: string) => void err.push(t) }, out, err };
}

function bareAnyPython(dir: string): string {
  const path = join(dir, "python-without-packages");
  writeFileSync(path, `#!/bin/sh\nexec python3 -S "$@"\n`);
  chmodSync(path, 0o755);
  return path;
}

const opts = (runsDir: string, python: string): RunCliOptions => ({ dryRun: false, smoke: false, color: false, device: "auto", runsDir, cache: false, executor: "torch", python });

describe("tune run --executor torch: environment errors come first, with codes and hints", () => {
  test("an interpreter that does not exist: T7601, exit 2, no run directory", async () => {
    const runsDir = join(tempDir("run-cli"), "runs");
    const c = capture();
    expect(await runRecipeCommand("recipes/quickstart.tune", opts(runsDir, "/nonexistent/python3"), c.io)).toBe(2);
    const err = c.err.join("");
    expect(err).toMatch(/^error\[T7601\]: python interpreter `\/nonexistent\/python3` could not be started .*\n {2}= help: install Python 3\.9\+ or pass its path/m);
    expect(err).toMatch(/--python PATH/);
    expect(existsSync(runsDir)).toBe(false);
  });

  test("a Python without torch, transformers, peft, accelerate: one error each, with the pip command", async () => {
    const work = tempDir("run-cli");
    const runsDir = join(work, "runs");
    const c = capture();
    expect(await runRecipeCommand("recipes/dpo-demo.tune", opts(runsDir, bareAnyPython(work)), c.io)).toBe(2);
    const err = c.err.join("");
    for (const [code, hint] of [["T7603", /pip install torch==/], ["T7604", /pip install transformers==/], ["T7605", /pip install peft==/], ["T7606", /pip install accelerate==/]] as const) {
      const m = new RegExp(`^error\\[${code}\\]: .*\\n  = help: (.*)$`, "m").exec(err);
      expect(m, `${code} in:\n${err}`).not.toBeNull();
      expect(m![1]).toMatch(hint);
    }
    expect(c.out.join("")).toMatch(/checking the Python environment \(.*python-without-packages\)/);
    expect(existsSync(runsDir)).toBe(false);
  });

  test("the CLI parses --executor and --python; --resume is refused with torch", async () => {
    let code = -1;
    const work = tempDir("run-cli");
    const program = buildProgram((c) => (code = c)).configureOutput({ writeOut: () => {}, writeErr: () => {} });
    const stdout = process.stdout.write.bind(process.stdout);
    const stderr = process.stderr.write.bind(process.stderr);
    const seen: string[] = [];
    process.stdout.write = ((t: string) => (seen.push(t), true)) as typeof process.stdout.write;
    process.stderr.write = ((t: string) => (seen.push(t), true)) as typeof process.stderr.write;
    try {
      await program.parseAsync(["run", "recipes/quickstart.tune", "--executor", "torch", "--python", "/nonexistent/python3", "--runs-dir", join(work, "runs")], { from: "user" });
      expect(code).toBe(2);
      expect(seen.join("")).toMatch(/error\[T7601\]/);
      await expect(buildProgram(() => {}).exitOverride().configureOutput({ writeErr: () => {} }).parseAsync(["run", "recipes/quickstart.tune", "--executor", "jax"], { from: "user" })).rejects.toThrow(/jax/);
    } finally {
      process.stdout.write = stdout;
      process.stderr.write = stderr;
    }
    const c = capture();
    expect(await runRecipeCommand("recipes/quickstart.tune", { ...opts(join(work, "runs"), "python3"), resume: true }, c.io)).toBe(2);
    expect(c.err.join("")).toMatch(/--resume is not available with --executor torch\n {2}= help: .*launch\.sh/);
  });
});

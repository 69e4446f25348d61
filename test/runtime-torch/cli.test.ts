// `tune export --executor torch` through commander, with prepareData compiling the recipe and writing rendered
// JSONL (the in-process data executor's job in the real CLI).
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { Command } from "commander";
import { describe, expect, test } from "vitest";
import { registerTorchCommands } from "../../cli/torch-commands.js";
import { compileRecipe, dataFor, tempDir } from "./helpers.js";

function cli(prepareFails = false) {
  const out: string[] = [];
  const err: string[] = [];
  let code = -1;
  const program = new Command().exitOverride().configureOutput({ writeErr: (s) => err.push(s), writeOut: (s) => out.push(s) });
  const work = tempDir("cli");
  registerTorchCommands(program, {
    prepareData: async (path) => {
      if (prepareFails) throw new Error("judge endpoint unreachable");
      const { graph } = compileRecipe(path.replace(/^recipes\//, ""));
      return { graph, data: dataFor(graph, work, 8) };
    },
    setExit: (c) => (code = c),
    io: { out: (t) => out.push(t), err: (t) => err.push(t) },
  });
  return { program, out, err, work, code: () => code };
}

describe("tune export --executor torch", () => {
  test("writes the project and says what to run next", async () => {
    const c = cli();
    const dir = join(c.work, "proj");
    await c.program.parseAsync(["export", "recipes/dpo-demo.tune", "--executor", "torch", "-o", dir], { from: "user" });
    expect(c.code()).toBe(0);
    expect(c.out.join("")).toMatch(/wrote \d+ files to .*: 2 training step\(s\), 1 export\/eval step\(s\)/);
    expect(existsSync(join(dir, "launch.sh"))).toBe(true);
    expect(readFileSync(join(dir, "recipe.tune"), "utf8")).toBe(readFileSync("recipes/dpo-demo.tune", "utf8"));
  });

  test("export errors are printed with their code; data preparation failures exit 1", async () => {
    const c = cli();
    await c.program.parseAsync(["export", "recipes/quickstart.tune", "--executor", "torch", "-o", "README.md"], { from: "user" });
    expect(c.code()).toBe(2);
    expect(c.err.join("")).toMatch(/^error\[T7623\]: .* is not a directory\n  = help: /);
    const f = cli(true);
    await f.program.parseAsync(["export", "recipes/quickstart.tune", "--executor", "torch", "-o", join(f.work, "x")], { from: "user" });
    expect(f.code()).toBe(1);
    expect(f.err.join("")).toMatch(/judge endpoint unreachable/);
  });

  test("--executor is required and must be torch", async () => {
    const c = cli();
    await expect(c.program.parseAsync(["export", "recipes/quickstart.tune", "-o", "x"], { from: "user" })).rejects.toThrow(/--executor/);
    await expect(c.program.parseAsync(["export", "recipes/quickstart.tune", "--executor", "tfjs", "-o", "x"], { from: "user" })).rejects.toThrow(/tfjs/);
  });
});

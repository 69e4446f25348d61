// `tune run --resume` of a run whose recipe changed since: refused with the difference (T9108), or with
// --allow-changes continued as a new run that reuses the unaffected nodes and the training checkpoint.
import { copyFileSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bundleCli, checkpointExists, cleanup, runCli, tempDir } from "./helpers.js";

let entry = "";

beforeAll(async () => {
  entry = await bundleCli();
}, 120_000);
afterAll(cleanup);

describe("tune run --resume of a changed recipe", () => {
  it("refuses with the difference, or continues as a new run with --allow-changes", async () => {
    const dir = tempDir("changed");
    const cache = tempDir("changed-cache");
    const recipe = join(dir, "recipe.tune");
    copyFileSync("test/exec-resume/resume-check.tune", recipe);
    const runs = join(dir, "runs");
    const first = await runCli(entry, ["run", recipe, "--runs-dir", runs], cache, { check: () => checkpointExists(runs, "sft", 4), signal: "SIGKILL" });
    expect(first.signal, first.stdout).toBe("SIGKILL");

    // Only the eval changes: the training node (and everything before it) is unaffected.
    writeFileSync(recipe, readFileSync(recipe, "utf8").replace("limit = 6", "limit = 5"));
    const refused = await runCli(entry, ["run", recipe, "--runs-dir", runs, "--resume"], cache);
    expect(refused.code).toBe(1);
    expect(refused.stdout).toContain("error[T9108]: the recipe changed since run");
    expect(refused.stdout).toMatch(/~ eval_task:arc_easy@tiny/);
    expect(refused.stdout).toContain("\n-  limit = 6");
    expect(refused.stdout).toContain("\n+  limit = 5");
    expect(refused.stdout).toContain("--allow-changes");

    const allowed = await runCli(entry, ["run", recipe, "--runs-dir", runs, "--resume", "--allow-changes"], cache);
    expect(allowed.code, allowed.stdout).toBe(0);
    expect(allowed.stdout).toMatch(/train:sft: resumed from .*checkpoint-4 \(step 4\)/);
    expect(allowed.stdout).toContain("tokenize:sft: cached");
    expect(readdirSync(runs).filter((d) => !d.startsWith("."))).toHaveLength(2);
  }, 300_000);
});

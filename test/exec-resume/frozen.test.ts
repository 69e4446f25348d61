// `tune lock` + `tune run --frozen` on a real recipe: the lock pins files by sha256 and records the digest of
// every derived data artifact; a frozen run starts only when every input matches, a run's own tune.lock
// reproduces it, an edited data file is refused before any compute, and a data node whose rows differ from the
// lock's digest fails with T9203.
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bundleCli, cleanup, onlyRun, runCli, tempDir } from "./helpers.js";

const RECIPE = "test/exec-resume/resume-check.tune";
let entry = "";
let work = "";
let cache = "";

beforeAll(async () => {
  entry = await bundleCli();
  work = tempDir("frozen");
  cache = tempDir("frozen-cache");
}, 120_000);
afterAll(cleanup);

interface Lock {
  nodes: Record<string, { hash: string; identities: Record<string, { kind: string; sha256?: string }>; outputs?: Record<string, string> }>;
}
const readLock = (p: string): Lock => JSON.parse(readFileSync(p, "utf8")) as Lock;

describe("tune lock / tune run --frozen", () => {
  it("locks inputs and derived data, and a frozen run (and a run's own lock) reproduces", async () => {
    const lock = join(work, "tune.lock");
    const l = await runCli(entry, ["lock", RECIPE, "--lockfile", lock], cache);
    expect(l.code, l.stdout).toBe(0);
    const locked = readLock(lock);
    expect(locked.nodes["load_data:rows"]!.identities["data"]).toMatchObject({ kind: "file", sha256: expect.stringMatching(/^[0-9a-f]{64}$/) });
    for (const id of ["load_data:rows", "sample:train#1", "tokenize:sft"]) expect(Object.values(locked.nodes[id]!.outputs ?? {})[0]).toMatch(/^(rows|tokens):[0-9a-f]{64}$/);
    expect(locked.nodes["split:train#2"]!.outputs).toEqual({ train: expect.stringMatching(/^rows:/), validation: expect.stringMatching(/^rows:/) });

    const runs = join(work, "runs");
    const r = await runCli(entry, ["run", RECIPE, "--frozen", "--lockfile", lock, "--runs-dir", runs], cache);
    expect(r.code, r.stdout).toBe(0);
    expect(r.stdout).toContain("frozen: every input matches");
    // The run's own lockfile records the same digests, and reproduces the run.
    const runLock = join(onlyRun(runs), "tune.lock");
    expect(readLock(runLock).nodes["tokenize:sft"]!.outputs).toEqual(locked.nodes["tokenize:sft"]!.outputs);
    const again = await runCli(entry, ["run", RECIPE, "--frozen", "--lockfile", runLock, "--runs-dir", join(work, "runs2")], cache);
    expect(again.code, again.stdout).toBe(0);
  }, 300_000);

  it("refuses an edited data file before any compute, naming the file and both hashes", async () => {
    const dir = join(work, "edited");
    mkdirSync(join(dir, "data/alpagasus"), { recursive: true });
    copyFileSync(RECIPE, join(dir, "recipe.tune"));
    const rows = JSON.parse(readFileSync("data/alpagasus/claude_t45.json", "utf8")) as { output: string }[];
    writeFileSync(join(dir, "data/alpagasus/claude_t45.json"), JSON.stringify(rows));
    const lock = join(dir, "tune.lock");
    expect((await runCli(entry, ["lock", join(dir, "recipe.tune"), "--lockfile", lock, "--no-data"], cache)).code).toBe(0);
    rows[3]!.output += " (edited)";
    writeFileSync(join(dir, "data/alpagasus/claude_t45.json"), JSON.stringify(rows));
    const r = await runCli(entry, ["run", join(dir, "recipe.tune"), "--frozen", "--lockfile", lock, "--runs-dir", join(dir, "runs")], cache);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/error\[T9203\]: --frozen: 1 thing\(s\) resolve differently/);
    expect(r.stdout).toMatch(/load_data:rows: data .*claude_t45\.json sha256 [0-9a-f]{12}… \(\d+ B\) → .*sha256 [0-9a-f]{12}…/);
    expect(r.stdout).not.toContain("executing in process");
  }, 120_000);

  it("fails a data node whose rows differ from the lock's digest, and names a missing lock", async () => {
    const lock = join(work, "tampered.lock");
    expect((await runCli(entry, ["lock", RECIPE, "--lockfile", lock], cache)).code).toBe(0);
    const l = readLock(lock);
    l.nodes["sample:train#1"]!.outputs = { rows: `rows:${"0".repeat(64)}` };
    writeFileSync(lock, JSON.stringify(l, null, 2));
    const r = await runCli(entry, ["run", RECIPE, "--frozen", "--lockfile", lock, "--no-cache", "--runs-dir", join(work, "runs3")], cache);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/error\[T9203\]: sample:train#1: --frozen: sample:train#1\.rows: produced [0-9a-f]{12}…, the lock recorded 000000000000…/);
    expect(r.stdout).toMatch(/blocked \(an input did not run\): split:train#2/);

    const missing = await runCli(entry, ["run", RECIPE, "--frozen", "--lockfile", join(work, "nope.lock"), "--runs-dir", join(work, "runs4")], cache);
    expect(missing.code).toBe(1);
    expect(missing.stdout).toContain("error[T9204]: --frozen: no lock in");
  }, 120_000);
});

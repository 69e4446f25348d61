// `tune cache …` and `tune runs …` called in-process on real cache and run directories, plus the commander
// wiring. Errors must print `error[T9xxx]` with a help line, exit 2 and show no stack trace.
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, utimesSync, writeFileSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Command } from "commander";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { compile } from "../../compiler/compile.js";
import { fsHost } from "../../cli/host.js";
import type { Io } from "../../cli/commands.js";
import {
  cacheGcCommand,
  cacheLsCommand,
  cachePathCommand,
  cacheRmCommand,
  registerStoreCommands,
  runsDiffCommand,
  runsListCommand,
  runsShowCommand,
} from "../../cli/store-commands.js";
import { buildLock, CacheStore, createRun, defaultCacheRoot, formatBytes, parseSize, type RunDir } from "../../runtime/store/index.js";
import { gen } from "./children/gen.mjs";
import { cleanupTemps, quickstart, startChild, tempDir } from "./helpers.js";

afterAll(cleanupTemps);

function capture(): Io & { out_: () => string; err_: () => string } {
  let out = "";
  let err = "";
  return { out: (t) => void (out += t), err: (t) => void (err += t), out_: () => out, err_: () => err };
}

function expectCleanError(io: ReturnType<typeof capture>, code: string): void {
  expect(io.err_()).toMatch(new RegExp(`^error\\[${code}\\]: .+\\n  = help: .+\\n$`));
  expect(io.err_()).not.toMatch(/\n\s+at /); // no stack trace
}

const now = new Date("2024-06-01T12:00:00Z");

describe("tune cache", () => {
  let root: string;
  const hashes = ["k1", "k2", "k3"].map((k) => createHash("sha256").update(k).digest("hex"));
  beforeAll(async () => {
    root = tempDir("cache");
    const cache = new CacheStore({ root });
    for (const [i, k] of hashes.entries()) {
      await cache.put(k, (dir) => writeFile(join(dir, "x.bin"), gen(k, [5000, 1_500_000, 250][i]!)), { op: "filter", nodeId: `filter:train#${i}`, recipe: "quickstart" });
      const t = now.getTime() / 1000 - [7200, 300, 90000][i]!;
      utimesSync(cache.entryPath(k), t, t);
    }
  });

  it("ls shows keys, human sizes, last use and a total", async () => {
    const io = capture();
    expect(await cacheLsCommand({ cacheRoot: root, now }, io)).toBe(0);
    const lines = io.out_().split("\n");
    expect(lines[0]).toMatch(/^KEY\s+SIZE\s+USED\s+OP\s+NODE\s+RECIPE$/);
    expect(lines[1]).toMatch(new RegExp(`^${hashes[1]!.slice(0, 12)}\\s+1\\.50 MB\\s+5m ago\\s+filter\\s+filter:train#1\\s+quickstart$`));
    expect(lines[2]).toMatch(new RegExp(`^${hashes[0]!.slice(0, 12)}\\s+5\\.00 kB\\s+2h ago`));
    expect(lines[3]).toMatch(new RegExp(`^${hashes[2]!.slice(0, 12)}\\s+250 B\\s+1d ago`));
    expect(lines[4]).toBe(`3 entries, 1.51 MB in ${root}`);
    const json = capture();
    await cacheLsCommand({ cacheRoot: root, json: true }, json);
    expect((JSON.parse(json.out_()) as unknown[]).length).toBe(3);
  });

  it("gc --dry-run reports, gc --budget evicts least recently used", async () => {
    const dry = capture();
    expect(await cacheGcCommand({ cacheRoot: root, budget: "1.6MB", dryRun: true }, dry)).toBe(0);
    expect(dry.out_()).toBe("would remove 0 entries (0 B); kept 3 (1.51 MB) within a budget of 1.60 MB\n");
    const io = capture();
    expect(await cacheGcCommand({ cacheRoot: root, budget: "1.5MB" }, io)).toBe(0);
    expect(io.out_()).toContain(`removed ${hashes[2]!.slice(0, 12)}     250 B  filter:train#2\n`);
    expect(io.out_()).toContain(`removed ${hashes[0]!.slice(0, 12)}   5.00 kB  filter:train#0\n`);
    expect(io.out_()).toMatch(/removed 2 entries \(5\.25 kB\); kept 1 \(1\.50 MB\) within a budget of 1\.50 MB\n$/);
  });

  it("rm removes by prefix and reports unknown or too-short prefixes", async () => {
    const short = capture();
    expect(await cacheRmCommand(["ab"], { cacheRoot: root }, short)).toBe(2);
    expectCleanError(short, "T9004");
    const none = capture();
    expect(await cacheRmCommand(["ffffffff"], { cacheRoot: root }, none)).toBe(2);
    expectCleanError(none, "T9003");
    const io = capture();
    expect(await cacheRmCommand([hashes[1]!.slice(0, 8)], { cacheRoot: root }, io)).toBe(0);
    expect(io.out_()).toMatch(/removed 1 entry\n$/);
    const ls = capture();
    await cacheLsCommand({ cacheRoot: root }, ls);
    expect(ls.out_()).toBe(`cache is empty (${root})\n`);
  });

  it("counts per-model eval request caches in ls and evicts the oldest under a gc budget", async () => {
    const r = tempDir("cache-eval");
    const cache = new CacheStore({ root: r });
    await cache.put(hashes[0]!, (dir) => writeFile(join(dir, "x.bin"), gen("e", 1000)), { op: "filter", nodeId: "filter:x", recipe: "q" });
    mkdirSync(join(r, "eval-requests"));
    const old = join(r, "eval-requests", "aaa.jsonl");
    const fresh = join(r, "eval-requests", "bbb.jsonl");
    writeFileSync(old, "x".repeat(3000));
    writeFileSync(fresh, "y".repeat(2000));
    utimesSync(old, now.getTime() / 1000 - 3600, now.getTime() / 1000 - 3600);
    const ls = capture();
    await cacheLsCommand({ cacheRoot: r, now }, ls);
    expect(ls.out_()).toContain(`eval request caches: 2 model(s), 5.00 kB in ${join(r, "eval-requests")}\n`);
    const io = capture();
    expect(await cacheGcCommand({ cacheRoot: r, budget: "4kB" }, io)).toBe(0);
    expect(io.out_()).toContain("removed eval request cache aaa.jsonl  3.00 kB\n");
    expect(existsSync(old)).toBe(false);
    expect(existsSync(fresh)).toBe(true);
  });

  it("a bad --budget is a T9006 error with a hint, exit 2", async () => {
    const io = capture();
    expect(await cacheGcCommand({ cacheRoot: root, budget: "ten gigs" }, io)).toBe(2);
    expectCleanError(io, "T9006");
    expect(io.err_()).toContain("10GB");
  });

  it("parses and prints sizes in decimal and binary units", () => {
    expect([parseSize("10GB"), parseSize("2GiB"), parseSize("500 mb"), parseSize("0"), parseSize("1.5k")]).toEqual([1e10, 2 * 1024 ** 3, 5e8, 0, 1500]);
    expect([0, 999, 1000, 12_345, 1_234_567_890].map(formatBytes)).toEqual(["0 B", "999 B", "1.00 kB", "12.3 kB", "1.23 GB"]);
    expect(() => parseSize("-1GB")).toThrow(/not a size/);
  });

  it("path honours $TUNE_CACHE", async () => {
    expect(defaultCacheRoot({ TUNE_CACHE: "/data/tune-cache" })).toBe("/data/tune-cache");
    expect(defaultCacheRoot({ XDG_CACHE_HOME: "/xdg" })).toBe("/xdg/tune");
    const io = capture();
    await cachePathCommand({ cacheRoot: root }, io);
    expect(io.out_()).toBe(root + "\n");
  });
});

describe("tune runs", () => {
  const q = quickstart();
  const textB = q.text.replace("task(arc_easy, shots = 0, metric = acc)", "task(arc_easy, shots = 5, metric = acc)");
  const graphB = compile(q.path, textB, fsHost()).graph!;
  let runsDir: string;
  let a: RunDir;
  let b: RunDir;
  let killedId: string;

  beforeAll(async () => {
    runsDir = tempDir("runs");
    const common = { runsDir, recipeName: "quickstart", recipePath: q.path, tuneVersion: "0.1.0" };
    a = createRun({ ...common, recipeText: q.text, graph: q.graph, now: new Date("2024-06-01T10:00:00Z") });
    for (const n of q.graph.nodes) a.nodeCached(n.id);
    a.setEnv({ backend: "wasm", device: "cpu" });
    a.metric({ step: 1, loss: 2.5 });
    a.writeSummary({ train: { loss: 1.5 }, eval: { arc_easy: { acc: 0.25 } } });
    a.writeTuneLock(buildLock({ recipeName: "quickstart", recipeText: q.text, tuneVersion: "0.1.0", graph: q.graph }));
    a.finish("completed");
    b = createRun({ ...common, recipeText: textB, graph: graphB, now: new Date("2024-06-01T11:00:00Z") });
    b.metric({ step: 1, loss: 2.5 });
    b.metric({ step: 2, loss: 1.25, "eval.arc_easy.acc": 0.3125 });
    b.writeTuneLock(buildLock({ recipeName: "quickstart", recipeText: textB, tuneVersion: "0.1.0", graph: graphB }));
    b.finish("completed");
    const graphPath = join(tempDir("graph"), "g.json");
    writeFileSync(graphPath, JSON.stringify(q.graph));
    const holder = await startChild("hold-run.mjs", ["create", runsDir, graphPath]);
    await holder.waitFor("ready");
    killedId = holder.stdout.trim().split("/").pop()!;
    holder.proc.kill("SIGKILL");
    await holder.exited;
  });

  it("lists runs newest first with status, start, duration and headline metrics", async () => {
    const io = capture();
    expect(await runsListCommand({ runsDir }, io)).toBe(0);
    const lines = io.out_().trimEnd().split("\n");
    expect(lines[0]).toMatch(/^RUN\s+STATUS\s+STARTED \(UTC\)\s+DURATION\s+METRICS$/);
    expect(lines[1]).toMatch(new RegExp(`^${killedId}\\s+interrupted \\(killed\\)\\s+\\d{4}-`));
    expect(lines[2]).toMatch(new RegExp(`^${b.id}\\s+completed\\s+2024-06-01 11:00:00Z\\s+.+?\\s+step=2 loss=1\\.25 eval\\.arc_easy\\.acc=0\\.3125$`));
    expect(lines[3]).toMatch(new RegExp(`^${a.id}\\s+completed\\s+2024-06-01 10:00:00Z\\s+.+?\\s+eval\\.arc_easy\\.acc=0\\.25 train\\.loss=1\\.5$`));
    const empty = capture();
    expect(await runsListCommand({ runsDir: join(runsDir, "nope") }, empty)).toBe(2);
    expectCleanError(empty, "T9106");
  });

  it("shows one run by unique id prefix", async () => {
    const io = capture();
    expect(await runsShowCommand(a.id.slice(0, 24), { runsDir }, io)).toBe(0);
    const out = io.out_();
    expect(out).toContain(`run ${a.id}\n`);
    expect(out).toContain("  status    completed\n");
    expect(out).toContain("  recipe    quickstart (recipes/quickstart.tune)\n");
    expect(out).toMatch(/  env       tune 0\.1\.0, node v\S+, \w+ \w+ \(\d+ cpus\), backend wasm, device cpu, seed 42\n/);
    expect(out).toMatch(/\n  cached {13}train:sft\n/);
    expect(out).toContain("metrics\n  eval.arc_easy.acc = 0.25\n  train.loss = 1.5\n");
  });

  it("reports unknown and ambiguous run ids with codes", async () => {
    const none = capture();
    expect(await runsShowCommand("nosuchrun", { runsDir }, none)).toBe(2);
    expectCleanError(none, "T9101");
    const amb = capture();
    expect(await runsShowCommand("quickstart-", { runsDir }, amb)).toBe(2);
    expectCleanError(amb, "T9102");
  });

  it("diffs recipe text, graph, lockfile and metrics", async () => {
    const io = capture();
    expect(await runsDiffCommand(a.id, b.id, { runsDir }, io)).toBe(0);
    const out = io.out_();
    expect(out).toContain(`--- ${a.id}/recipe.tune\n+++ ${b.id}/recipe.tune\n`);
    expect(out).toContain("\n-  task(arc_easy, shots = 0, metric = acc)\n");
    expect(out).toContain("\n+  task(arc_easy, shots = 5, metric = acc)\n");
    const changed = graphB.nodes.filter((n) => q.graph.nodes.find((m) => m.id === n.id)?.hash !== n.hash).map((n) => n.id);
    expect(changed.every((id) => id.startsWith("eval_task:") || id.startsWith("report:"))).toBe(true);
    for (const id of changed) expect(out).toContain(`  ~ ${id}\n`);
    expect(out).not.toContain("~ train:sft");
    expect(out).toMatch(/lockfile\n(  ~ .*\n)*  ~ recipe\.sha256: /);
    expect(out).toMatch(/  eval\.arc_easy\.acc\s+0\.25\s+0\.3125\s+\+0\.0625\n/);
    expect(out).toMatch(/  train\.loss\s+1\.5\s+-\n/);
  });
});

describe("commander wiring", () => {
  it("registers cache and runs subcommands with --runs-dir before or after the subcommand", async () => {
    const runsDir = tempDir("runs");
    const q = quickstart();
    const run = createRun({ runsDir, recipeName: "quickstart", recipePath: q.path, recipeText: q.text, graph: q.graph, tuneVersion: "0.1.0" });
    run.finish("completed");
    const parse = async (argv: string[]): Promise<{ code: number; out: string; err: string }> => {
      const io = capture();
      let code = -1;
      const program = new Command().exitOverride();
      registerStoreCommands(program, (c) => (code = c), io);
      await program.parseAsync(argv, { from: "user" });
      return { code, out: io.out_(), err: io.err_() };
    };
    expect(await parse(["runs", "--runs-dir", runsDir])).toMatchObject({ code: 0, out: expect.stringContaining(run.id) });
    expect(await parse(["runs", "show", run.id, "--runs-dir", runsDir])).toMatchObject({ code: 0, out: expect.stringContaining("status    completed") });
    expect(await parse(["runs", "--runs-dir", runsDir, "show", run.id])).toMatchObject({ code: 0 });
    const prev = process.env["TUNE_CACHE"];
    process.env["TUNE_CACHE"] = join(runsDir, "cache");
    try {
      expect(await parse(["cache", "path"])).toEqual({ code: 0, out: join(runsDir, "cache") + "\n", err: "" });
      expect(await parse(["cache", "gc", "--budget", "1x"])).toMatchObject({ code: 2, err: expect.stringMatching(/^error\[T9006\]/) });
    } finally {
      if (prev === undefined) delete process.env["TUNE_CACHE"];
      else process.env["TUNE_CACHE"] = prev;
    }
  });
});

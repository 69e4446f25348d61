// Run directories with the real compiled quickstart graph: layout, status transitions, appenders, the run lock
// against other real processes (contention, stale takeover, racing takeovers) and finding the run to resume.
import { appendFileSync, existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
  createRun,
  findResumable,
  graphChanges,
  graphHash,
  listRuns,
  openRun,
  readJsonLines,
  readRunInfo,
  RunDir,
  StoreError,
  type RunStatus,
} from "../../runtime/store/index.js";
import { cleanupTemps, quickstart, startChild, tempDir, warnings } from "./helpers.js";

afterAll(cleanupTemps);

const q = quickstart();
const base = { recipeName: "quickstart", recipePath: q.path, recipeText: q.text, graph: q.graph, tuneVersion: "0.1.0" };
const readStatus = (run: RunDir): RunStatus => JSON.parse(readFileSync(run.path("status.json"), "utf8")) as RunStatus;

function graphFile(): string {
  const p = join(tempDir("graph"), "graph.json");
  writeFileSync(p, JSON.stringify(q.graph));
  return p;
}

describe("createRun", () => {
  it("writes the layout: recipe copy, graph, env, status, lock, log and metrics", () => {
    const runsDir = tempDir("runs");
    const run = createRun({ ...base, runsDir, now: new Date("2024-05-01T12:30:05.123Z") });
    const gh = graphHash(q.graph);
    expect(run.id).toBe(`quickstart-20240501T123005Z-${gh.slice(0, 8)}`);
    expect(readdirSync(runsDir)).toEqual([run.id]); // no .creating-* left behind
    expect(readdirSync(run.dir).sort()).toEqual(["env.json", "graph.json", "metrics.jsonl", "recipe.tune", "run.lock", "run.log", "status.json"]);
    expect(readFileSync(run.path("recipe.tune"), "utf8")).toBe(q.text);
    expect(JSON.parse(readFileSync(run.path("graph.json"), "utf8"))).toEqual(JSON.parse(JSON.stringify(q.graph)));
    const env = JSON.parse(readFileSync(run.path("env.json"), "utf8"));
    expect(env).toMatchObject({ tune: "0.1.0", node: process.version, platform: process.platform, seed: 42, backend: null, device: null });
    const status = readStatus(run);
    expect(status).toMatchObject({ id: run.id, recipe: "quickstart", graphHash: gh, state: "running", resumes: 0 });
    expect(Object.keys(status.nodes)).toEqual(q.graph.nodes.map((n) => n.id));
    expect(Object.values(status.nodes).every((n) => n.state === "pending")).toBe(true);
    expect(JSON.parse(readFileSync(run.path("run.lock"), "utf8")).pid).toBe(process.pid);
    run.setEnv({ backend: "wasm", device: "cpu" });
    expect(JSON.parse(readFileSync(run.path("env.json"), "utf8"))).toMatchObject({ backend: "wasm", device: "cpu", seed: 42 });
    run.finish("completed");
    expect(existsSync(run.path("run.lock"))).toBe(false);
  });

  it("gives a second run of the same second and graph its own directory", () => {
    const runsDir = tempDir("runs");
    const now = new Date("2024-05-01T12:30:05Z");
    const a = createRun({ ...base, runsDir, now });
    const b = createRun({ ...base, runsDir, now });
    expect(b.id).toBe(`${a.id}-2`);
    a.close();
    b.close();
  });

  it("tracks per-node state and durations, and the run's end state", async () => {
    const run = createRun({ ...base, runsDir: tempDir("runs") });
    const [n0, n1, n2] = q.graph.nodes.map((n) => n.id);
    run.nodeCached(n0!);
    run.nodeStarted(n1!);
    await new Promise((r) => setTimeout(r, 30));
    run.nodeDone(n1!);
    run.nodeStarted(n2!);
    run.nodeFailed(n2!, "T5511: field has the wrong type");
    const s = readStatus(run).nodes;
    expect(s[n0!]!.state).toBe("cached");
    expect(s[n1!]!.state).toBe("done");
    expect(s[n1!]!.durationMs).toBeGreaterThanOrEqual(25);
    expect(s[n2!]).toMatchObject({ state: "failed", error: "T5511: field has the wrong type" });
    run.finish("failed", "node filter:train#1 failed");
    const final = readStatus(run);
    expect(final.state).toBe("failed");
    expect(final.durationMs).toBeGreaterThanOrEqual(25);
    expect(() => run.nodeStarted(n0!)).toThrow(/closed/);
    expect(() => createRun({ ...base, runsDir: tempDir("runs") }).nodeDone("no-such-node")).toThrow(/no node/);
  });

  it("appends log lines and metrics one line per write; a torn tail is skipped and then terminated", () => {
    const run = createRun({ ...base, runsDir: tempDir("runs") });
    run.log("loading model\nsecond line");
    run.metric({ step: 1, loss: 2.5 });
    run.metric({ step: 2, loss: 2.25 });
    expect(readFileSync(run.path("run.log"), "utf8")).toMatch(/^\S+Z loading model\n\S+Z second line\n$/);
    run.close();
    appendFileSync(run.path("metrics.jsonl"), '{"step": 3, "lo'); // what a power cut mid-line leaves
    expect(readJsonLines(run.path("metrics.jsonl"))).toEqual({ records: [{ step: 1, loss: 2.5 }, { step: 2, loss: 2.25 }], badLines: [3] });
    const again = openRun(run.dir, { warn: () => undefined });
    again.metric({ step: 3, loss: 2.0 });
    expect(again.metrics()).toEqual([{ step: 1, loss: 2.5 }, { step: 2, loss: 2.25 }, { step: 3, loss: 2.0 }]);
    // resume from a checkpoint at step 1: later records go, atomically
    expect(again.retainMetrics((r) => (r["step"] as number) <= 1)).toBe(1);
    again.metric({ step: 2, loss: 2.25 });
    expect(again.metrics()).toEqual([{ step: 1, loss: 2.5 }, { step: 2, loss: 2.25 }]);
    again.close();
  });
});

describe("run lock", () => {
  it("keeps a second process out of a run, and takes over once the owner is killed", async () => {
    const runsDir = tempDir("runs");
    const holder = await startChild("hold-run.mjs", ["create", runsDir, graphFile()]);
    await holder.waitFor("ready");
    const dir = holder.stdout.trim().split(" ")[1]!;
    const live = readRunInfo(dir);
    expect(live.state).toBe("running");
    expect(live.owner?.pid).toBe(holder.proc.pid);
    const err = (() => {
      try {
        openRun(dir);
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(StoreError);
    expect((err as StoreError).code).toBe("T9103");
    expect((err as StoreError).message).toContain(`process ${holder.proc.pid}`);

    holder.proc.kill("SIGKILL");
    await holder.exited;
    const dead = readRunInfo(dir);
    expect(dead).toMatchObject({ state: "interrupted", killed: true, owner: null });

    const w = warnings();
    const run = openRun(dir, { warn: w.sink });
    expect(w.seen.map((x) => x.code)).toEqual(["T9104"]);
    expect(run.tookOverFrom?.pid).toBe(holder.proc.pid);
    expect(readStatus(run)).toMatchObject({ state: "running", resumes: 1 });
    run.finish("interrupted");
    expect(readRunInfo(dir).state).toBe("interrupted");
  });

  it("lets exactly one of several processes take over the same stale lock", async () => {
    const runsDir = tempDir("runs");
    const holder = await startChild("hold-run.mjs", ["create", runsDir, graphFile()]);
    await holder.waitFor("ready");
    const dir = holder.stdout.trim().split(" ")[1]!;
    holder.proc.kill("SIGKILL");
    await holder.exited;
    const sync = tempDir("sync");
    const [start, done] = [join(sync, "start"), join(sync, "done")];
    const racers = await Promise.all([1, 2, 3, 4].map(() => startChild("hold-run.mjs", ["open-once", dir, start, done])));
    writeFileSync(start, "");
    await Promise.all(racers.map((r) => r.waitFor(/^(ok|err|crash)/m)));
    writeFileSync(done, ""); // every racer has tried while the winner still holds the lock
    await Promise.all(racers.map((r) => r.exited));
    const outcomes = racers.map((r) => r.stdout.trim().split("\n").filter((l) => !l.startsWith("warn")).join(""));
    expect(outcomes.filter((o) => o === "ok"), outcomes.join(" | ")).toHaveLength(1);
    expect(outcomes.filter((o) => o === "err T9103")).toHaveLength(3);
  });
});

describe("findResumable and graph changes", () => {
  it("finds the newest run of a recipe and says whether its graph is the same", () => {
    const runsDir = tempDir("runs");
    expect(findResumable(runsDir, "quickstart", graphHash(q.graph))).toBeNull();
    const old = createRun({ ...base, runsDir, now: new Date("2024-05-01T10:00:00Z") });
    old.finish("completed");
    const newer = createRun({ ...base, runsDir, now: new Date("2024-05-02T10:00:00Z") });
    newer.finish("interrupted");
    const other = createRun({ ...base, recipeName: "dpo-demo", runsDir, now: new Date("2024-05-03T10:00:00Z") });
    other.finish("failed");

    const c = findResumable(runsDir, "quickstart", graphHash(q.graph))!;
    expect(c).toMatchObject({ sameGraph: true, resumable: true, reason: null });
    expect(c.run.id).toBe(newer.id);
    expect(listRuns(runsDir).map((r) => r.id)).toEqual([other.id, newer.id, old.id]);

    // the eval block changed: only eval/report nodes differ
    const nodes = q.graph.nodes.map((n) => (n.op === "eval_task" || n.op === "report" ? { ...n, hash: "f".repeat(64) } : n));
    const changedGraph = { ...q.graph, nodes };
    const c2 = findResumable(runsDir, "quickstart", graphHash(changedGraph))!;
    expect(c2.sameGraph).toBe(false);
    const diff = graphChanges(q.graph, changedGraph);
    expect(diff.changed).toEqual(q.graph.nodes.filter((n) => n.op === "eval_task" || n.op === "report").map((n) => n.id));
    expect(diff.added).toEqual([]);
    expect(diff.unchanged).toContain("train:sft");
    expect(graphChanges(q.graph, { ...q.graph, seed: 7 }).seedChanged).toBe(true);
    expect(graphHash({ ...q.graph, seed: 7 })).not.toBe(graphHash(q.graph));
  });

  it("does not offer a completed run or one a live process holds", () => {
    const runsDir = tempDir("runs");
    const done = createRun({ ...base, runsDir, now: new Date("2024-05-01T10:00:00Z") });
    done.finish("completed");
    expect(findResumable(runsDir, "quickstart", done.graphHash)).toMatchObject({ resumable: false, reason: "it completed" });
    const live = createRun({ ...base, runsDir, now: new Date("2024-05-02T10:00:00Z") });
    expect(findResumable(runsDir, "quickstart", live.graphHash)).toMatchObject({ resumable: false, reason: `it is running (process ${process.pid})` });
    live.close();
  });
});

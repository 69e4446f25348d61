// kill -9 safety: a real child process writes cache entries, run status, env, summary, metrics and log lines as
// fast as it can; it is killed with SIGKILL at varied moments, restarted (taking over the stale run lock), and
// after every kill everything on disk is read back and checked — entries against regenerated content.
import { existsSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { CacheStore, listRuns, readJsonLines, readRunInfo } from "../../runtime/store/index.js";
import { gen } from "./children/gen.mjs";
import { cleanupTemps, quickstart, sleep, startChild, tempDir, warnings } from "./helpers.js";

afterAll(cleanupTemps);

const KILLS = 6;

async function checkCache(root: string): Promise<{ entries: number; tmpLeft: number }> {
  const w = warnings();
  const cache = new CacheStore({ root, warn: w.sink });
  const entries = await cache.ls();
  for (const e of entries) {
    expect(e.problem).toBeUndefined();
    const got = await cache.get(e.key);
    expect(got, `entry ${e.key} (${e.nodeId}) must verify`).not.toBeNull();
    const extra = got!.meta.extra as { seed?: string; sizes?: number[] } | null;
    if (extra?.seed && extra.sizes) {
      const [a, b, c] = extra.sizes;
      expect(readFileSync(join(got!.dir, "a.bin")).equals(gen(`${extra.seed}/a`, a!))).toBe(true);
      expect(readFileSync(join(got!.dir, "d", "b.bin")).equals(gen(`${extra.seed}/b`, b!))).toBe(true);
      expect(readFileSync(join(got!.dir, "d", "c.bin")).equals(gen(`${extra.seed}/c`, c!))).toBe(true);
    } else {
      const v = (await cache.getJson(e.key))!.value as { seed: string; i: number };
      expect(typeof v.seed).toBe("string");
    }
  }
  expect(w.seen, "no entry may be corrupt").toEqual([]);
  return { entries: entries.length, tmpLeft: existsSync(join(root, "v1", "tmp")) ? readdirSync(join(root, "v1", "tmp")).length : 0 };
}

function checkRun(runsDir: string, kills: number): { metrics: number; torn: number } {
  for (const r of listRuns(runsDir)) expect(r.state, `${r.id}: ${r.problem}`).not.toBe("unreadable");
  const dir = readFileSync(join(runsDir, "latest.txt"), "utf8");
  const info = readRunInfo(dir);
  expect(info).toMatchObject({ state: "interrupted", killed: true, owner: null });
  for (const f of ["env.json", "graph.json"]) JSON.parse(readFileSync(join(dir, f), "utf8"));
  try {
    JSON.parse(readFileSync(join(dir, "summary.json"), "utf8"));
  } catch (e) {
    expect((e as NodeJS.ErrnoException).code, "summary.json is absent or whole").toBe("ENOENT");
  }
  const { records, badLines } = readJsonLines<{ incarnation: number; i: number }>(join(dir, "metrics.jsonl"));
  expect(badLines.length).toBeLessThanOrEqual(kills); // at most one torn line per kill
  const byInc = new Map<number, number[]>();
  for (const r of records) byInc.set(r.incarnation, [...(byInc.get(r.incarnation) ?? []), r.i]);
  for (const is of byInc.values()) expect(is.every((v, k) => k === 0 || v > is[k - 1]!)).toBe(true);
  for (const line of readFileSync(join(dir, "run.log"), "utf8").split("\n").filter(Boolean)) expect(line).toMatch(/^\d{4}-\d\d-\d\dT\S+Z node \S+ step \d+/);
  return { metrics: records.length, torn: badLines.length };
}

describe("SIGKILL", () => {
  it(`kill -9 at ${KILLS} moments never corrupts the cache or the run directory`, async () => {
    const root = tempDir("cache");
    const runsDir = tempDir("runs");
    const graphPath = join(tempDir("graph"), "graph.json");
    writeFileSync(graphPath, JSON.stringify(quickstart().graph));
    const seen = { tmpLeft: 0, entries: 0, metrics: 0, torn: 0 };
    for (let k = 0; k < KILLS; k++) {
      const child = await startChild("churn.mjs", [root, runsDir, graphPath, String(k)]);
      await child.waitFor("ready");
      await sleep(40 + ((k * 137) % 400)); // 40 … 365 ms of writing: kills land in puts, renames and appends
      child.proc.kill("SIGKILL");
      expect((await child.exited).signal).toBe("SIGKILL");
      expect(child.stdout, child.stderr).not.toContain("warning"); // the writer never met a corrupt entry either
      const c = await checkCache(root);
      const r = checkRun(runsDir, k + 1);
      seen.tmpLeft += c.tmpLeft > 0 ? 1 : 0;
      Object.assign(seen, { entries: c.entries, metrics: r.metrics, torn: r.torn });
    }
    // every kill left the run resumable by the next incarnation (it took over the lock), and work accumulated
    expect(seen.entries).toBeGreaterThan(KILLS);
    expect(seen.metrics).toBeGreaterThan(KILLS);
    console.log(`sigkill: ${KILLS} kills, ${seen.entries} cache entries, ${seen.metrics} metric lines, ${seen.torn} torn lines, kills that left a half-written temp entry: ${seen.tmpLeft}`);
    // gc clears what the killed writers left in tmp/
    const report = await new CacheStore({ root }).gc({ budgetBytes: Number.POSITIVE_INFINITY });
    expect(report.removed).toEqual([]);
    expect(readdirSync(join(root, "v1", "tmp"))).toEqual([]);
  });
});

// Crash safety of the request-cache file (runtime/eval/cache.ts JsonlFileCache): a torn last line is ignored
// with one warning, damaged lines are skipped and counted, the file is then rewritten clean, and a real
// `kill -9` of a process appending as fast as it can never leaves a file that fails to load or returns a
// wrong value. A value of the wrong shape is recomputed by the real tiny model, never returned.
import { spawn } from "node:child_process";
import { appendFileSync, mkdirSync, readFileSync, truncateSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { build } from "esbuild";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { initBackend } from "../../runtime/backend/index.js";
import { cachedLoglikelihood, cacheKey, JsonlFileCache } from "../../runtime/eval/cache.js";
import { InProcessEvalModel } from "../../runtime/exec/eval-model.js";
import { valueFor } from "./children/value.mjs";
import { cleanupTemps, tempDir, tinyModel } from "./helpers.js";

afterAll(cleanupTemps);

function open(path: string): { cache: JsonlFileCache; warnings: string[] } {
  const warnings: string[] = [];
  return { cache: new JsonlFileCache(path, { warn: (m) => void warnings.push(m) }), warnings };
}

const lines = (path: string): string[] => readFileSync(path, "utf8").split("\n").filter(Boolean);

describe("JsonlFileCache", () => {
  it("round-trips values and creates its folder on the first write", () => {
    const path = join(tempDir("jsonl"), "eval-requests", "m.jsonl");
    const w = open(path);
    expect(w.cache.load).toEqual({ entries: 0, tornTail: false, corrupted: 0 });
    w.cache.set("a", { logprob: -1.5, isGreedy: true });
    w.cache.set("b", "text");
    w.cache.set("a", { logprob: -2.5, isGreedy: false }); // a later line wins
    w.cache.close();
    const r = open(path);
    expect(r.warnings).toEqual([]);
    expect(r.cache.load).toEqual({ entries: 2, tornTail: false, corrupted: 0 });
    expect(r.cache.get("a")).toEqual({ logprob: -2.5, isGreedy: false });
    expect(r.cache.get("b")).toBe("text");
  });

  it("ignores a torn last line with one warning, then rewrites the file without it", () => {
    const path = join(tempDir("jsonl"), "m.jsonl");
    const w = open(path).cache;
    for (const k of ["a", "b", "c"]) w.set(k, { logprob: -1, isGreedy: false, k });
    w.close();
    const size = readFileSync(path).length;
    truncateSync(path, size - 9); // the last append cut short, as by kill -9 or a power loss mid-write
    const r = open(path);
    expect(r.cache.load).toEqual({ entries: 2, tornTail: true, corrupted: 0 });
    expect(r.warnings).toHaveLength(1);
    expect(r.warnings[0]).toMatch(/torn last line/);
    expect(r.cache.get("c")).toBeUndefined();
    expect(lines(path)).toHaveLength(2); // rewritten with the good records only
    r.cache.set("c", { logprob: -3, isGreedy: true });
    r.cache.close();
    const again = open(path);
    expect(again.warnings).toEqual([]);
    expect(again.cache.load).toEqual({ entries: 3, tornTail: false, corrupted: 0 });
  });

  it("a torn tail left by a crash never fuses with the next record", () => {
    const path = join(tempDir("jsonl"), "m.jsonl");
    writeFileSync(path, JSON.stringify({ k: "a", v: "x" }) + "\n" + '{"k":"b","v":"unfin');
    const w = new JsonlFileCache(path, { warn: () => undefined });
    w.set("c", "y");
    w.close();
    const r = open(path);
    expect(r.cache.load).toEqual({ entries: 2, tornTail: false, corrupted: 0 });
    expect(r.cache.get("c")).toBe("y");
  });

  it("skips and counts damaged lines anywhere in the file", () => {
    const path = join(tempDir("jsonl"), "m.jsonl");
    const good = (k: string) => JSON.stringify({ k, v: { logprob: -1, isGreedy: true } });
    writeFileSync(path, [good("a"), "not json", '{"k": 3, "v": 1}', "[1,2]", good("b"), '{"k":"c"}', good("d"), ""].join("\n"));
    const r = open(path);
    expect(r.cache.load).toEqual({ entries: 3, tornTail: false, corrupted: 4 });
    expect(r.warnings).toEqual([expect.stringMatching(/skipped 4 damaged lines/)]);
    expect(lines(path)).toEqual([good("a"), good("b"), good("d")]);
  });

  it("a cache it cannot read or write is reported once and the run goes on", () => {
    const dir = tempDir("jsonl");
    writeFileSync(join(dir, "file"), "");
    const unreadable = open(join(dir, "file", "m.jsonl")); // a folder that is a file: ENOTDIR
    unreadable.cache.set("a", "x");
    expect(unreadable.warnings).toEqual([expect.stringMatching(/cannot read \(ENOTDIR\)/)]);
    expect(unreadable.cache.get("a")).toBe("x");
    const path = join(dir, "m.jsonl");
    const unwritable = open(path);
    mkdirSync(path); // a folder appears where the file goes
    unwritable.cache.set("a", "x");
    unwritable.cache.set("b", "y");
    expect(unwritable.warnings).toEqual([expect.stringMatching(/cannot append \(EISDIR\)/)]);
    expect(unwritable.cache.get("b")).toBe("y");
  });
});

describe("a value of the wrong shape", () => {
  beforeAll(() => initBackend("wasm"));

  it("is recomputed by the model, never returned", async () => {
    const m = new InProcessEvalModel(await tinyModel(), null);
    const reqs = [{ context: "Question: What is 2 + 2?\nAnswer:", continuation: " 4" }, { context: "The sky is", continuation: " blue" }];
    const fresh = await m.loglikelihood(reqs);
    const path = join(tempDir("jsonl"), "m.jsonl");
    const scope = { task: "demo", version: 1 };
    const key = (i: number) => cacheKey(m.id, "ll", { ...scope, request: reqs[i] });
    writeFileSync(path, JSON.stringify({ k: key(0), v: { logprob: "oops", isGreedy: true } }) + "\n" + JSON.stringify({ k: key(1), v: { logprob: -1.25, isGreedy: false } }) + "\n");
    const stats = { requests: 0, cached: 0 };
    const got = await cachedLoglikelihood(m, reqs, open(path).cache, { scope, stats });
    expect(stats).toEqual({ requests: 2, cached: 1 });
    expect(got[0]).toEqual(fresh[0]);
    expect(got[1]).toEqual({ logprob: -1.25, isGreedy: false }); // the well-formed entry is used as stored
  });
});

describe("kill -9", () => {
  let bundle: string;
  beforeAll(async () => {
    bundle = join(tempDir("bundle"), "cache.mjs");
    await build({ entryPoints: [resolve("runtime/eval/cache.ts")], outfile: bundle, bundle: true, platform: "node", format: "esm", target: "node20", logLevel: "warning" });
  });

  it("a writer killed at 3 moments leaves a file that loads, with every value intact", async () => {
    const dir = tempDir("kill");
    const path = join(dir, "m.jsonl");
    let before = 0;
    for (let k = 0; k < 3; k++) {
      const child = spawn(process.execPath, [resolve("test/runtime-eval-cache/children/append.mjs"), path, String(k)], {
        env: { ...process.env, TUNE_EVAL_CACHE_BUNDLE: bundle },
        stdio: ["ignore", "pipe", "pipe"],
      });
      let stdout = "";
      let stderr = "";
      child.stdout.on("data", (d: Buffer) => void (stdout += d.toString()));
      child.stderr.on("data", (d: Buffer) => void (stderr += d.toString()));
      const exited = new Promise<NodeJS.Signals | null>((res) => child.on("exit", (_c, sig) => res(sig)));
      while (!stdout.includes("ready")) {
        if (child.exitCode !== null) throw new Error(`child exited: ${stderr}`);
        await new Promise((r) => setTimeout(r, 10));
      }
      await new Promise((r) => setTimeout(r, 60 + k * 90));
      child.kill("SIGKILL");
      expect(await exited).toBe("SIGKILL");
      if (k === 1) appendFileSync(path, '{"k":"k-torn","v":{"logp'); // and one torn line, as a kill mid-write leaves
      const r = open(path);
      expect(r.cache.load.corrupted).toBe(0);
      // The torn line appended at k = 1 is always seen; a kill can (rarely, under load) also tear a line itself.
      if (k === 1) expect(r.cache.load.tornTail).toBe(true);
      expect(r.cache.size).toBeGreaterThan(before); // each incarnation got some records down
      before = r.cache.size;
      for (const l of lines(path)) {
        const { k: key, v } = JSON.parse(l) as { k: string; v: unknown };
        expect(v).toEqual(valueFor(key));
      }
    }
  });
});

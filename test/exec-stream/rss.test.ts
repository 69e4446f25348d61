// Peak memory of the executor's data half on a generated ~48 MB JSONL file (`from = big; filter(score >= 4.5);
// sample(2k)`, bench/data-executor-stream.ts's recipe and child): each configuration runs in its own process and
// reports process.resourceUsage().maxRSS before the first row and at the end. Streaming (the default for a
// file over 16 MiB), with and without the node cache, must grow the process by far less than holding the rows
// does (TUNE_STREAM_BYTES above the file's size: the executor's behaviour before streaming), and all must pick
// the same 2,000 rows. The streaming runs get a V8 heap cap (--max-old-space-size=80, about the loaded process
// plus the rows' size) so the collector cannot defer its work and their RSS reflects what is live; a run that
// held the rows would not fit under it.
import { execFile } from "node:child_process";
import { rmSync, statSync } from "node:fs";
import { promisify } from "node:util";
import { join, resolve } from "node:path";
import { build } from "esbuild";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateJsonl } from "../../bench/data-executor-stream.js";
import { cleanupTemps, tempDir } from "./helpers.js";

const SIZE_MB = 48;
const HEAP_CAP_MB = 80;
let bench = "";
let file = "";

interface ChildResult {
  cache: boolean;
  baseRssMb: number;
  peakRssMb: number;
  rows: number;
  digest: string;
  log: string[];
}

beforeAll(async () => {
  const out = resolve("dist", `test-exec-stream-${process.pid}-${Date.now()}`);
  await build({ entryPoints: [resolve("bench/data-executor-stream.ts")], outfile: join(out, "bench.mjs"), bundle: true, platform: "node", format: "esm", target: "node20", packages: "external", logLevel: "warning" });
  bench = join(out, "bench.mjs");
  file = join(tempDir("exec-stream-rss"), "big.jsonl");
  await generateJsonl(file, SIZE_MB);
}, 60_000);
afterAll(() => {
  cleanupTemps();
  if (bench) rmSync(resolve(bench, ".."), { recursive: true, force: true });
});

async function runChild(cache: boolean, streamBytes: number | null, heapCapMb: number | null): Promise<ChildResult> {
  const env = { ...process.env };
  delete env["TUNE_STREAM_BYTES"];
  if (streamBytes !== null) env["TUNE_STREAM_BYTES"] = String(streamBytes);
  const args = [...(heapCapMb ? [`--max-old-space-size=${heapCapMb}`] : []), bench, "child", file, cache ? "cache" : "nocache"];
  const { stdout } = await promisify(execFile)(process.execPath, args, { encoding: "utf8", env, maxBuffer: 16 << 20 });
  return JSON.parse(stdout.trim().split("\n").pop()!) as ChildResult;
}

describe("executor memory on a large JSONL", () => {
  it("filter + sample stream: RSS growth far below the rows' in-memory size, same rows", async () => {
    const fileMb = statSync(file).size / (1 << 20);
    // Three processes at once (each measures only itself).
    const [inMemory, streaming, cached] = await Promise.all([runChild(false, Number.MAX_SAFE_INTEGER, null), runChild(false, null, HEAP_CAP_MB), runChild(true, null, HEAP_CAP_MB)]);
    const growth = (r: ChildResult) => r.peakRssMb - r.baseRssMb;
    console.log(`file ${fileMb.toFixed(0)} MiB; RSS growth: in memory ${growth(inMemory)} MiB, streaming ${growth(streaming)} MiB, streaming + cache ${growth(cached)} MiB`);
    expect(inMemory.log.some((l) => l.includes("streaming"))).toBe(false);
    expect(streaming.log[0]).toMatch(/load_data:big: streaming .* \(48\.0 MiB\)/);
    // Holding the rows costs more than the file itself; streaming costs a fraction of both.
    expect(growth(inMemory)).toBeGreaterThan(fileMb);
    // Three processes measured at once, so allocator timing varies. With a 24 MB file the fixed costs (~15–25 MiB
    // of buffers) came within a few MiB of the bounds (in memory 47–59, streaming 5–18, + cache 17–26); at 48 MB:
    // in memory 87–89 MiB, streaming 14–15, streaming + cache 24–26 — half of the in-memory growth is the bound.
    expect(growth(streaming)).toBeLessThan(growth(inMemory) / 2);
    expect(growth(cached)).toBeLessThan(growth(inMemory) / 2);
    for (const r of [streaming, cached]) {
      expect(r.rows).toBe(2000);
      expect(r.digest).toBe(inMemory.digest);
      expect(r.log.filter((l) => !l.includes(": streaming "))).toEqual(inMemory.log);
    }
  }, 60_000);
});

// Memory of the in-process executor's data half: a 200 MB JSONL file, a recipe whose data block is
// `from = big; filter(score >= 4.5); sample(2k)`, run through the real scheduler and op handlers
// (runtime/exec/scheduler.ts executeGraph + DATA_OPS), once without and once with the node cache.
//
// Why this exists: bench/data-stream.ts measures the row ops alone; this measures what `tune run` does with
// them, where every node's output is a value the scheduler holds, the cache writes and the lock digests.
// Each configuration runs in its own child process so its peak RSS (process.resourceUsage().maxRSS) is its own.
//
// Run on Node 20 (bundles this script into dist/, which is git-ignored and resolves node_modules):
//   npx esbuild bench/data-executor-stream.ts --bundle --platform=node --format=esm --packages=external \
//     --outfile=dist/bench-exec.mjs && node dist/bench-exec.mjs [sizeMB]
// The file is written once to /tmp/tune-bench-<size>mb.jsonl. `child <file> cache|nocache` runs one
// configuration and prints one JSON line (test/exec-stream/rss.test.ts uses it); TUNE_STREAM_BYTES set above the
// file's size gives the in-memory behaviour for comparison. Results: BENCHMARKS.md.

import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { createWriteStream, existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { once } from "node:events";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { compile } from "../compiler/compile.js";
import type { Graph } from "../compiler/graph.js";
import { fsHost, packageRoot } from "../cli/host.js";
import { Rng } from "../runtime/data/rng.js";
import type { Row } from "../runtime/data/row.js";
import { DATA_OPS } from "../runtime/exec/ops/data.js";
import { executeGraph } from "../runtime/exec/scheduler.js";
import { upstreamClosure } from "../runtime/exec/subgraph.js";
import { createNodeCache } from "../runtime/exec/cache.js";
import { memoryEnv } from "../runtime/exec/scratch-env.js";
import { CacheStore } from "../runtime/store/index.js";
import type { ExecEnv, Value } from "../runtime/exec/types.js";

const MB = 1024 * 1024;
const WORDS = "the a model data train loss token prompt answer question explain list write give three tips why how what when code python story poem summary".split(" ");

function sentence(rng: Rng, words: number): string {
  const out: string[] = [];
  for (let i = 0; i < words; i++) out.push(WORDS[rng.int(WORDS.length)]!);
  return out.join(" ");
}

/** A seeded JSONL file of at least `sizeMb` MiB (the same rows as bench/data-stream.ts). */
export async function generateJsonl(file: string, sizeMb: number): Promise<void> {
  if (existsSync(file) && statSync(file).size >= sizeMb * MB) return;
  const rng = new Rng(2024);
  const out = createWriteStream(file);
  let written = 0;
  for (let id = 0; written < sizeMb * MB; id++) {
    const row = { id, instruction: sentence(rng, 12), input: rng.int(2) === 0 ? "" : sentence(rng, 10), output: sentence(rng, 40), score: rng.int(11) / 2 };
    const line = JSON.stringify(row) + "\n";
    written += Buffer.byteLength(line);
    if (!out.write(line)) await once(out, "drain");
  }
  out.end();
  await once(out, "finish");
}

/**
 * The recipe: a dataset over `file` with a field schema, a data block that filters and samples it, and a
 * one-step stage (the compiler lowers data blocks only for the stages that use them; only the data nodes run).
 */
export function benchRecipe(file: string, n: string): string {
  return `import { alpaca } from "std/templates"
import { tiny_llama } from "std/models"

recipe stream_bench {
  seed = 42
}

model tiny {
  path = ${JSON.stringify(join(packageRoot(), "models", "tiny-llama"))}
  arch = tiny_llama
  dtype = fp32
}

dataset big {
  path = ${JSON.stringify(file)}
  fields {
    id: int
    instruction: string
    input: string = ""
    output: string
    score: float
  }
}

data picked {
  from = big
  filter(score >= 4.5)
  sample(${n})
}

stage sft {
  method = sft
  from = tiny
  data = picked
  template = alpaca
  batch = 4
  lr = 1e-3
  max_steps = 1
}
`;
}

/** The data nodes of the compiled recipe: the sample node and everything upstream of it (as `tune data` would). */
export function compileDataGraph(dir: string, text: string): Graph {
  const path = join(dir, "bench.tune");
  writeFileSync(path, text);
  const c = compile(path, text, fsHost());
  const errors = c.diagnostics.filter((d) => d.severity === "error");
  if (!c.graph || errors.length > 0) throw new Error(`recipe does not compile: ${errors.map((d) => `${d.code} ${d.message}`).join("; ")}`);
  return upstreamClosure(c.graph, (n) => n.op === "sample");
}

/** sha256 over JSON(values) + "\n" per row, as runtime/exec/lock.ts valueDigest does. */
export async function rowsDigest(v: Value | undefined): Promise<{ count: number; digest: string }> {
  if (!v || v.kind !== "rows") throw new Error("expected rows");
  const h = createHash("sha256");
  let count = 0;
  const lazy = v as unknown as { rows?: readonly Row[]; stream?: () => AsyncIterable<Row> };
  const rows: AsyncIterable<Row> | Iterable<Row> = lazy.rows ?? lazy.stream!();
  for await (const r of rows) {
    h.update(JSON.stringify(r.values) + "\n");
    count++;
  }
  return { count, digest: h.digest("hex") };
}

export function benchEnv(graph: Graph, dir: string, lines: string[]): ExecEnv {
  return memoryEnv({ graph, recipeDir: dir, runDir: join(dir, "run"), packageRoot: packageRoot(), log: lines });
}

/** One configuration, in this process: compile, execute the data nodes, report peak RSS and the sample's digest. */
async function child(file: string, withCache: boolean, n: string): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "tune-bench-exec-"));
  try {
    const graph = compileDataGraph(dir, benchRecipe(file, n));
    const lines: string[] = [];
    const env = benchEnv(graph, dir, lines);
    mkdirSync(env.runDir, { recursive: true });
    const before = process.resourceUsage().maxRSS / 1024; // KiB → MiB: the process with everything loaded, before any row
    const cache = withCache ? createNodeCache({ store: new CacheStore({ root: join(dir, "cache") }), smoke: null, env }) : undefined;
    const t0 = performance.now();
    const res = await executeGraph(graph, DATA_OPS, env, { cache });
    const failed = res.outcomes.filter((o) => o.state !== "done");
    if (failed.length > 0) throw new Error(`nodes did not run: ${JSON.stringify(failed)}`);
    const last = graph.nodes[graph.nodes.length - 1]!;
    const out = await rowsDigest(res.values.get(last.id)?.["rows"]);
    const s = (performance.now() - t0) / 1000;
    const peak = process.resourceUsage().maxRSS / 1024; // KiB → MiB
    console.log(JSON.stringify({ cache: withCache, seconds: +s.toFixed(1), baseRssMb: Math.round(before), peakRssMb: Math.round(peak), rows: out.count, digest: out.digest, log: lines }));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const [mode, ...rest] = process.argv.slice(2);
  if (mode === "child") return child(rest[0]!, rest[1] === "cache", rest[2] ?? "2k");
  const sizeMb = Number(mode ?? 200);
  const file = `/tmp/tune-bench-${sizeMb}mb.jsonl`;
  await generateJsonl(file, sizeMb);
  console.log(`file ${file}: ${(statSync(file).size / MB).toFixed(0)} MiB; Node ${process.version}`);
  const self = fileURLToPath(import.meta.url);
  for (const cache of [false, true]) {
    const r = spawnSync(process.execPath, [self, "child", file, cache ? "cache" : "nocache"], { encoding: "utf8", maxBuffer: 64 * MB });
    if (r.status !== 0) throw new Error(`child failed (${r.status}): ${r.stderr}`);
    const res = JSON.parse(r.stdout.trim().split("\n").pop()!) as { cache: boolean; seconds: number; baseRssMb: number; peakRssMb: number; rows: number; digest: string; log: string[] };
    console.log(`cache ${cache ? "on " : "off"}: peak RSS ${res.peakRssMb} MiB (${res.baseRssMb} MiB before the first row), ${res.seconds} s, sample ${res.rows} rows sha256 ${res.digest.slice(0, 16)}`);
    for (const l of res.log) console.log(`  ${l}`);
  }
}

const invokedDirectly = process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1];
if (invokedDirectly) {
  main().catch((e: unknown) => {
    console.error(e);
    process.exit(1);
  });
}

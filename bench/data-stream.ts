// Memory check for the streaming data pipeline: a 200 MB JSONL file is filtered and sampled with bounded RSS.
//
// Run on Node 20 (compiles this script and what it imports into dist/, which is git-ignored):
//   npx tsc --module nodenext --moduleResolution nodenext --target es2022 --strict --skipLibCheck \
//     --rootDir . --outDir dist bench/data-stream.ts && node dist/bench/data-stream.js [sizeMB]
//
// Why this exists: sources and ops stream (AsyncIterable rows), so peak memory should depend on the op (a
// reservoir of n rows, a dedup key set), not on the file. Target: peak RSS < 300 MB on a 200 MB file.
// The file is written once to /tmp/tune-bench-<size>mb.jsonl (seeded, so identical on every machine).

import { createWriteStream, existsSync, statSync } from "node:fs";
import { once } from "node:events";
import { filter, openSource, Rng, sample, type FieldSpec } from "../runtime/data/index.js";

const MB = 1024 * 1024;
const sizeMb = Number(process.argv[2] ?? 200);
const file = `/tmp/tune-bench-${sizeMb}mb.jsonl`;

const WORDS = "the a model data train loss token prompt answer question explain list write give three tips why how what when code python story poem summary".split(" ");

function sentence(rng: Rng, words: number): string {
  const out: string[] = [];
  for (let i = 0; i < words; i++) out.push(WORDS[rng.int(WORDS.length)]);
  return out.join(" ");
}

async function generate(): Promise<void> {
  if (existsSync(file) && statSync(file).size >= sizeMb * MB) return;
  const rng = new Rng(2024);
  const out = createWriteStream(file);
  let written = 0;
  for (let id = 0; written < sizeMb * MB; id++) {
    const row = {
      id,
      instruction: sentence(rng, 12),
      input: rng.int(2) === 0 ? "" : sentence(rng, 10),
      output: sentence(rng, 40),
      score: rng.int(11) / 2,
    };
    const line = JSON.stringify(row) + "\n";
    written += Buffer.byteLength(line);
    if (!out.write(line)) await once(out, "drain");
  }
  out.end();
  await once(out, "finish");
}

let peakSampled = 0;
const sampler = setInterval(() => (peakSampled = Math.max(peakSampled, process.memoryUsage().rss)), 25);
const rssMb = (): string => (process.memoryUsage().rss / MB).toFixed(0);
const maxRssMb = (): string => (process.resourceUsage().maxRSS / 1024).toFixed(0); // maxRSS is in KiB

const SCHEMA: FieldSpec[] = [
  { name: "id", type: "int" },
  { name: "instruction", type: "string" },
  { name: "input", type: "string", default: "" },
  { name: "output", type: "string" },
  { name: "score", type: "float" },
];

async function timed(label: string, f: () => Promise<string>): Promise<void> {
  const t0 = performance.now();
  const what = await f();
  const s = ((performance.now() - t0) / 1000).toFixed(1);
  console.log(`${label.padEnd(34)} ${what.padEnd(34)} ${s.padStart(5)} s   rss ${rssMb()} MB   peak ${maxRssMb()} MB`);
}

async function main(): Promise<void> {
  await timed("generate", async () => {
    await generate();
    return `${(statSync(file).size / MB).toFixed(0)} MB at ${file}`;
  });
  const src = await openSource(file, { schema: SCHEMA });
  const kept = () => filter(src.rows, (r) => (r.values.score as number) >= 4.5);
  await timed("typed + filter(score ≥ 4.5)", async () => {
    const s = kept();
    for await (const _ of s) void _;
    return `${s.stats.kept} of ${s.stats.seen} rows`;
  });
  await timed("… + sample(n = 10,000)  [reservoir]", async () => {
    const s = sample(kept(), { n: 10_000 }, 42);
    for await (const _ of s) void _;
    return `${s.stats.kept} rows`;
  });
  await timed("… + sample(1%)  [2 passes]", async () => {
    const s = sample(kept(), { fraction: 0.01 }, 42);
    for await (const _ of s) void _;
    return `${s.stats.kept} rows`;
  });
  clearInterval(sampler);
  const peak = Math.max(peakSampled / MB, process.resourceUsage().maxRSS / 1024);
  console.log(`peak RSS ${peak.toFixed(0)} MB (target < 300 MB) on Node ${process.version}`);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});

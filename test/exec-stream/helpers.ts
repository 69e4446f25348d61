// Set-up for the streaming-executor tests: small seeded JSONL files, a recipe whose data blocks use every row
// op, the data nodes of its graph run through the real scheduler and handlers, and the same run with rows
// in memory (TUNE_STREAM_BYTES above the files' size) or streaming (TUNE_STREAM_BYTES = 0).
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { compile } from "../../compiler/compile.js";
import type { Graph } from "../../compiler/graph.js";
import { fsHost, packageRoot } from "../../cli/host.js";
import { Rng } from "../../runtime/data/rng.js";
import { collect, type Row } from "../../runtime/data/row.js";
import { DATA_OPS } from "../../runtime/exec/ops/data.js";
import { executeGraph, type ScheduleHooks } from "../../runtime/exec/scheduler.js";
import { memoryEnv } from "../../runtime/exec/scratch-env.js";
import { upstreamClosure } from "../../runtime/exec/subgraph.js";
import type { ExecEnv, RowsValue, Value } from "../../runtime/exec/types.js";

import { cleanupTemps, tempDir } from "../temp.js";
export { cleanupTemps, tempDir };

const WORDS = "alpha beta gamma delta epsilon zeta eta theta iota kappa".split(" ");

/** `n` seeded rows; every 7th repeats an earlier instruction (so dedup has work), scores 0–5 in halves. */
export function writeRowsFile(path: string, n: number, seed: number): void {
  const rng = new Rng(seed);
  const words = (k: number) => Array.from({ length: k }, () => WORDS[rng.int(WORDS.length)]).join(" ");
  const lines: string[] = [];
  const seen: string[] = [];
  for (let i = 0; i < n; i++) {
    const instruction = i % 7 === 6 && seen.length > 0 ? seen[rng.int(seen.length)]! : `${words(5)} ${i}`;
    seen.push(instruction);
    lines.push(JSON.stringify({ instruction, input: rng.int(2) ? "" : words(3), output: words(8), score: rng.int(11) / 2 }));
  }
  writeFileSync(path, lines.join("\n") + "\n");
}

/** A recipe over a.jsonl and b.jsonl: filter, dedup (exact and near), sample (share and count), split, mix, shuffle. */
export function opsRecipe(): string {
  const fields = `fields {
    instruction: string
    input: string = ""
    output: string
    score: float
  }`;
  const stage = (name: string, data: string) => `stage ${name} {
  method = sft
  from = tiny
  data = ${data}
  template = alpaca
  batch = 4
  lr = 1e-3
  max_steps = 1
}`;
  return `import { alpaca } from "std/templates"
import { tiny_llama } from "std/models"

recipe lazy_check {
  seed = 7
}

model tiny {
  path = ${JSON.stringify(join(packageRoot(), "models", "tiny-llama"))}
  arch = tiny_llama
  dtype = fp32
}

dataset a {
  path = "a.jsonl"
  ${fields}
}

dataset b {
  path = "b.jsonl"
  ${fields}
}

data one {
  from = a
  filter(score >= 2)
  dedup(exact, on = [instruction])
  sample(40%)
  split(validation = 10%)
}

data two {
  mix {
    a = 50%
    b = 100%
    relative_to = each_source
  }
  dedup(near, threshold = 0.8, on = [instruction, output])
  sample(50)
  shuffle()
}

${stage("s1", "one")}

${stage("s2", "two")}
`;
}

/** A directory with a.jsonl, b.jsonl and the recipe; returns it and the compiled graph. */
export function opsSandbox(): { dir: string; graph: Graph } {
  const dir = tempDir("exec-stream");
  writeRowsFile(join(dir, "a.jsonl"), 400, 1);
  writeRowsFile(join(dir, "b.jsonl"), 150, 2);
  const text = opsRecipe();
  const path = join(dir, "lazy.tune");
  writeFileSync(path, text);
  const c = compile(path, text, fsHost());
  const errors = c.diagnostics.filter((d) => d.severity === "error");
  if (!c.graph || errors.length > 0) throw new Error(errors.map((d) => `${d.code} ${d.message}`).join("; "));
  return { dir, graph: c.graph };
}

export interface Captured {
  log: string[];
  metrics: Record<string, unknown>[];
}

export function captureEnv(graph: Graph, dir: string, got: Captured): ExecEnv {
  return memoryEnv({ graph, recipeDir: dir, runDir: join(dir, "run"), packageRoot: packageRoot(), log: got.log, metrics: got.metrics });
}

/** With TUNE_STREAM_BYTES set to `bytes` (undefined: unset), run `f`, then restore the variable. */
export async function withStreamBytes<T>(bytes: number | undefined, f: () => Promise<T>): Promise<T> {
  const old = process.env["TUNE_STREAM_BYTES"];
  if (bytes === undefined) delete process.env["TUNE_STREAM_BYTES"];
  else process.env["TUNE_STREAM_BYTES"] = String(bytes);
  try {
    return await f();
  } finally {
    if (old === undefined) delete process.env["TUNE_STREAM_BYTES"];
    else process.env["TUNE_STREAM_BYTES"] = old;
  }
}

/** The data nodes of `graph` (every data op and what it reads). */
export function dataGraph(graph: Graph): Graph {
  return upstreamClosure(graph, (n) => n.op in DATA_OPS);
}

export interface DataRun extends Captured {
  values: Map<string, Record<string, Value>>;
}

/** Run the data nodes with rows in memory (`bytes` huge) or streaming (`bytes` = 0). */
export async function runData(graph: Graph, dir: string, bytes: number, hooks: ScheduleHooks = {}): Promise<DataRun> {
  const got: Captured = { log: [], metrics: [] };
  const sub = dataGraph(graph);
  const env = captureEnv(graph, dir, got);
  const res = await withStreamBytes(bytes, () => executeGraph(sub, DATA_OPS, env, hooks));
  const bad = res.outcomes.filter((o) => o.state !== "done" && o.state !== "cached");
  if (bad.length > 0) throw new Error(`data nodes did not run: ${JSON.stringify(bad)}`);
  return { ...got, values: res.values };
}

export async function allRows(v: Value | undefined): Promise<Row[]> {
  const r = v as RowsValue;
  return r.rows ? [...r.rows] : collect(r.stream());
}

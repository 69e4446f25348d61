// Data-half op handlers: load_data, mix, filter, dedup, sample, shuffle,
// split. Counts of what each step kept or dropped go to the log and metrics
// so a user sees exactly what the model will be trained on.
//
// Memory is bounded by the op, not the file. A file larger than the streaming
// threshold (16 MiB; TUNE_STREAM_BYTES overrides it, 0 streams every file)
// gives a *lazy* rows value (types.ts RowsValue): nothing is read until a
// consumer iterates it, and every pass re-opens the file and re-runs the op
// chain. filter, dedup, split, mix and sample(fraction) of a lazy input are
// lazy too; sample(n) keeps its n rows (reservoir) and shuffle all of its
// rows (a permutation needs them), so those outputs are in memory. A lazy
// node's counts ("kept X of Y") are known only after a pass: they are logged
// (and their metric emitted) when its rows are first read to the end — by the
// next op, the cache writing the node's entry, or the lock digest — not when
// the handler returns. Small files, smoke runs, and the inputs of ops that
// need rows in memory (generate) stay materialised, exactly as before.
import type { GraphNode } from "../../../compiler/graph.js";
import { schemaOf } from "../node-params.js";
import { hubRequestOf, openHubFiles, resolveHubDataset } from "../../data/hub/index.js";
import { stat } from "node:fs/promises";
import { collect, countRows, fromArray, type Row, type RowStream } from "../../data/row.js";
import { filter } from "../../data/ops/filter.js";
import { dedupExact } from "../../data/ops/dedup.js";
import { dedupNear } from "../../data/ops/minhash.js";
import { sample } from "../../data/ops/sample.js";
import { shuffle } from "../../data/ops/shuffle.js";
import { split } from "../../data/ops/split.js";
import { mix } from "../../data/ops/mix.js";
import type { SampleSize } from "../../data/ops/select.js";
import { compilePredicate } from "../expr.js";
import { resolveRecipePath } from "../paths.js";
import { ExecError, NotExecutable, type ExecEnv, type LazyRows, type MaterialRows, type OpHandler, type RowsValue, type Value } from "../types.js";

// ---- rows values: in memory or lazy

/** Files (and cached row files) larger than this stream by default. */
export const DEFAULT_STREAM_BYTES = 16 * 1024 * 1024;

/** The streaming threshold in bytes: TUNE_STREAM_BYTES when set (0 streams every file), else 16 MiB. */
export function streamThresholdBytes(): number {
  const raw = process.env["TUNE_STREAM_BYTES"];
  if (raw === undefined || raw.trim() === "") return DEFAULT_STREAM_BYTES;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < 0) throw new ExecError("T7106", `TUNE_STREAM_BYTES = ${JSON.stringify(raw)} is not a byte count`, "set it to a whole number of bytes (0 streams every data file), or unset it for the default of 16 MiB");
  return n;
}

export const rowsValue = (rows: readonly Row[]): MaterialRows => ({ kind: "rows", rows });

export const isLazy = (v: RowsValue): v is LazyRows => v.rows === undefined;

/**
 * A lazy value over a replayable `stream`. `onFirstPass(count)` runs once, after the first pass that reads the
 * rows to the end, with the number of rows it saw — where a lazy node logs its counts.
 */
export function lazyRows(stream: RowStream, source: string, onFirstPass?: (count: number) => void): LazyRows {
  let pending = onFirstPass;
  const counted: RowStream = {
    async *[Symbol.asyncIterator]() {
      let n = 0;
      for await (const row of stream) {
        n++;
        yield row;
      }
      const report = pending;
      pending = undefined;
      report?.(n);
    },
  };
  return { kind: "rows", stream: () => counted, source };
}

function rowsInput(v: Value | undefined, node: GraphNode, port: string): RowsValue {
  if (!v || v.kind !== "rows") throw new Error(`internal: ${node.id} expected rows on ${port}`);
  return v;
}

/** The rows of an in-memory value. A lazy one is refused: read it with `rowStream` (streaming) or `rowsArray`. */
export function rowsOf(v: Value | undefined, node: GraphNode, port = "rows"): readonly Row[] {
  const r = rowsInput(v, node, port);
  if (r.rows) return r.rows;
  throw new ExecError(
    "T7106",
    `${node.id}: its ${port} input streams from ${r.source}, and this op reads rows only from memory`,
    "internal: the op should read its input with rowsArray(…) (runtime/exec/ops/data.ts); meanwhile set TUNE_STREAM_BYTES above the data file's size",
  );
}

/** A fresh pass over the rows of either form. */
export function rowStream(v: Value | undefined, node: GraphNode, port = "rows"): RowStream {
  const r = rowsInput(v, node, port);
  return r.rows ? fromArray(r.rows) : r.stream();
}

/** The rows in memory: as they are, or read from a lazy value (for ops that need them all, e.g. tokenize). */
export async function rowsArray(v: Value | undefined, node: GraphNode, port = "rows"): Promise<readonly Row[]> {
  const r = rowsInput(v, node, port);
  return r.rows ?? (await collect(r.stream()));
}

/** Ops that read their rows input with `rowsOf` (in memory only): what feeds them stays materialised. */
const IN_MEMORY_CONSUMERS = new Set(["generate"]);

function feedsInMemoryOp(env: ExecEnv, id: string): boolean {
  return env.graph.nodes.some((n) => IN_MEMORY_CONSUMERS.has(n.op) && Object.values(n.inputs).some((e) => e.node === id));
}

/** Whether `node` passes its lazy input on lazily (else the input is read into memory and the op runs as before). */
function streams(input: RowsValue, node: GraphNode, env: ExecEnv): input is LazyRows {
  return isLazy(input) && !env.smoke && !feedsInMemoryOp(env, node.id);
}

async function inMemory(input: RowsValue): Promise<readonly Row[]> {
  return input.rows ?? (await collect(input.stream()));
}

const mib = (bytes: number): string => `${(bytes / (1024 * 1024)).toFixed(1)} MiB`;

/**
 * Seeded subsample of at most `n` rows that keeps file order (smoke runs): one counting pass, then the
 * reservoir over a second pass, so a large file is never held (the same rows as sampling the whole array).
 */
async function capRows(input: RowStream, n: number, seed: number): Promise<{ rows: Row[]; total: number }> {
  const total = await countRows(input);
  if (total <= n) return { rows: await collect(input), total };
  return { rows: await collect(sample(input, { n }, seed)), total };
}

/** The load's log lines and metric; `capped` is the smoke substitution (logged between them, as it always was). */
function logLoaded(env: ExecEnv, node: GraphNode, from: string, rows: number, skipped: number, capped?: string): void {
  if (skipped > 0) env.log(`${node.id}: skipped ${skipped} bad row(s) (on_bad_rows = skip)`);
  if (capped) env.substitute(node.id, capped);
  env.metric({ node: node.id, rows, skipped_rows: skipped });
  env.log(`${node.id}: ${rows} rows from ${from}`);
}

const loadData: OpHandler = async (node, _inputs, env) => {
  const p = node.params;
  let path = typeof p["path"] === "string" ? p["path"] : null;
  if (env.smoke && typeof p["smoke"] === "string") {
    if (!path) env.substitute(node.id, `reads ${p["smoke"]} instead of the hub dataset ${String(p["hub"])}`);
    path = p["smoke"];
  }
  // A local file, or the shards of a hub split (downloaded into the HF cache, or found there offline).
  let files: string[];
  let from: string;
  const hub = path ? null : hubRequestOf(p);
  if (path) {
    files = [resolveRecipePath(env, path, "data file")];
    from = path;
  } else if (hub && !env.smoke) {
    const got = await resolveHubDataset({ ...hub, log: (line) => env.log(`${node.id}: ${line}`) });
    files = got.files;
    from = `${hub.id}@${got.commit.slice(0, 12)} (${got.repoPaths.join(", ")})`;
  } else {
    throw new NotExecutable(
      `dataset ${String(p["hub"])} is on the Hugging Face Hub, and a smoke run does not download it`,
      "give the dataset `smoke = \"…\"` (a small local stand-in), or run without --smoke to download it",
    );
  }
  const opened = await openHubFiles(files, { schema: schemaOf(node), onBadRows: p["on_bad_rows"] === "skip" ? "skip" : "fail" });
  const bytes = await totalBytes(files);
  if (!env.smoke && bytes > streamThresholdBytes() && !feedsInMemoryOp(env, node.id)) {
    env.log(`${node.id}: streaming ${from} (${mib(bytes)}); rows are read when needed and counted on the first pass`);
    return { rows: lazyRows(opened.rows, from, (n) => logLoaded(env, node, from, n, opened.badRows.skipped)) };
  }
  let rows: Row[];
  let total: number;
  if (env.smoke) ({ rows, total } = await capRows(opened.rows, env.smoke.rows, env.seed));
  else total = (rows = await collect(opened.rows)).length;
  const capped = env.smoke && total > env.smoke.rows ? `kept ${env.smoke.rows} of ${total} rows` : undefined;
  logLoaded(env, node, from, rows.length, opened.badRows.skipped, capped);
  return { rows: rowsValue(rows) };
};

async function totalBytes(files: readonly string[]): Promise<number> {
  let n = 0;
  for (const f of files) n += await stat(f).then((s) => s.size, () => 0);
  return n;
}

function sampleSize(v: unknown, node: GraphNode): SampleSize {
  if (typeof v === "number") return { n: v };
  if (v && typeof v === "object" && "value" in v) {
    const q = v as { value: number; unit: string | null };
    if (q.unit === "%") return { fraction: q.value / 100 };
    return { n: q.unit === "k" ? q.value * 1000 : q.unit === "M" ? q.value * 1e6 : q.value };
  }
  throw new ExecError("T7104", `${node.id}: cannot read the size ${JSON.stringify(v)}`, "write a count (2k) or a percentage (5%)");
}

const seedOf = (node: GraphNode, env: ExecEnv): number => (typeof node.params["seed"] === "number" ? node.params["seed"] : env.seed);

function logKept(env: ExecEnv, node: GraphNode, before: number, after: number): void {
  env.log(`${node.id}: kept ${after} of ${before} rows`);
  env.metric({ node: node.id, rows_in: before, rows: after });
}

const filterOp: OpHandler = async (node, inputs, env) => {
  const input = rowsInput(inputs["rows"], node, "rows");
  const tokenizer = env.defaultTokenizer();
  const pred = compilePredicate(node.params["where"], { countTokens: tokenizer ? (t) => tokenizer.encode(t).length : undefined });
  if (streams(input, node, env)) {
    const kept = filter(input.stream(), pred, node.id);
    return { rows: lazyRows(kept, `${input.source} → ${node.id}`, (n) => logKept(env, node, kept.stats.seen, n)) };
  }
  const rows = await inMemory(input);
  const kept = await collect(filter(fromArray(rows), pred, node.id));
  logKept(env, node, rows.length, kept.length);
  if (env.smoke && kept.length === 0 && rows.length > 0) {
    env.substitute(node.id, `kept none of ${rows.length} rows (smoke stand-ins score differently); continuing with the unfiltered rows so the rest of the graph runs`);
    return { rows: rowsValue(rows) };
  }
  return { rows: rowsValue(kept) };
};

const dedupOp: OpHandler = async (node, inputs, env) => {
  const input = rowsInput(inputs["rows"], node, "rows");
  const on = Array.isArray(node.params["on"]) ? (node.params["on"] as string[]) : undefined;
  const dedup = (rows: RowStream) =>
    node.params["mode"] === "near"
      ? dedupNear(rows, { threshold: Number(node.params["threshold"] ?? 0.8), seed: seedOf(node, env), fields: on })
      : dedupExact(rows, { fields: on });
  if (streams(input, node, env)) {
    const kept = dedup(input.stream());
    return { rows: lazyRows(kept, `${input.source} → ${node.id}`, (n) => logKept(env, node, kept.stats.seen, n)) };
  }
  const rows = await inMemory(input);
  const kept = await collect(dedup(fromArray(rows)));
  logKept(env, node, rows.length, kept.length);
  return { rows: rowsValue(kept) };
};

const sampleOp: OpHandler = async (node, inputs, env) => {
  const input = rowsInput(inputs["rows"], node, "rows");
  let size = sampleSize(node.params["n"] ?? node.params["size"], node);
  if (streams(input, node, env)) {
    // n rows: one pass, a reservoir of n rows, kept in memory. A fraction: two passes per read, passed on lazily.
    const picked = sample(input.stream(), size, seedOf(node, env));
    if ("fraction" in size) return { rows: lazyRows(picked, `${input.source} → ${node.id}`, (n) => logKept(env, node, picked.stats.seen, n)) };
    const kept = await collect(picked);
    logKept(env, node, picked.stats.seen, kept.length);
    return { rows: rowsValue(kept) };
  }
  const rows = await inMemory(input);
  if (env.smoke && "n" in size && size.n > rows.length) {
    env.substitute(node.id, `sample of ${size.n} rows reduced to the ${rows.length} rows the smoke subsample has`);
    size = { n: rows.length };
  }
  const kept = await collect(sample(fromArray(rows), size, seedOf(node, env)));
  logKept(env, node, rows.length, kept.length);
  return { rows: rowsValue(kept) };
};

const shuffleOp: OpHandler = async (node, inputs, env) => {
  // A permutation needs every row: the output is in memory whatever the input.
  return { rows: rowsValue(await collect(shuffle(rowStream(inputs["rows"], node), seedOf(node, env)))) };
};

const splitOp: OpHandler = async (node, inputs, env) => {
  const input = rowsInput(inputs["rows"], node, "rows");
  const size = sampleSize(node.params["validation"], node);
  if (streams(input, node, env)) {
    // One counting pass now (the held-out positions are a bitmap, one byte per row); each part re-reads its input.
    const res = await split(input.stream(), size, seedOf(node, env));
    env.log(`${node.id}: ${res.trainCount} train, ${res.validationCount} validation rows`);
    env.metric({ node: node.id, train_rows: res.trainCount, validation_rows: res.validationCount });
    return { train: lazyRows(res.train, `${input.source} → ${node.id}.train`), validation: lazyRows(res.validation, `${input.source} → ${node.id}.validation`) };
  }
  const res = await split(fromArray(await inMemory(input)), size, seedOf(node, env));
  const train = await collect(res.train);
  const validation = await collect(res.validation);
  env.log(`${node.id}: ${train.length} train, ${validation.length} validation rows`);
  env.metric({ node: node.id, train_rows: train.length, validation_rows: validation.length });
  return { train: rowsValue(train), validation: rowsValue(validation) };
};

const mixOp: OpHandler = async (node, inputs, env) => {
  const percent = node.params["percent"] as Record<string, number>;
  const sources = Object.entries(percent).map(([name, pct]) => ({ name, value: rowsInput(inputs[name], node, name), weight: pct / 100 }));
  const lazy = sources.some((s) => streams(s.value, node, env));
  const parts = await Promise.all(sources.map(async (s) => ({ name: s.name, rows: lazy ? rowStream(s.value, node, s.name) : fromArray(await inMemory(s.value)), weight: s.weight })));
  const res = await mix(parts, { mode: node.params["relative_to"] === "total" ? "share" : "of_source", seed: seedOf(node, env) });
  // Counts are planned before any row is drawn (one counting pass per source), so they are logged now either way.
  const rows = lazy ? null : await collect(res.rows);
  for (const e of res.plan) env.log(`${node.id}: ${e.name} ${e.count} of ${e.available} rows (${(e.weight * 100).toFixed(1)}%)`);
  env.metric({ node: node.id, rows: rows ? rows.length : res.total, by_source: Object.fromEntries(res.plan.map((e) => [e.name, e.count])) });
  if (!rows) return { rows: lazyRows(res.rows, `${sources.map((s) => s.name).join(" + ")} → ${node.id}`) };
  return { rows: rowsValue(rows) };
};

export const DATA_OPS: Record<string, OpHandler> = {
  load_data: loadData,
  filter: filterOp,
  dedup: dedupOp,
  sample: sampleOp,
  shuffle: shuffleOp,
  split: splitOp,
  mix: mixOp,
};

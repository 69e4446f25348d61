// Data-half op handlers: load_data, mix, filter, dedup, sample, shuffle,
// split. Each materialises its rows (the row ops themselves stream, see
// runtime/data); counts of what each step kept or dropped go to the log and
// metrics so a user sees exactly what the model will be trained on.
import type { GraphNode } from "../../../compiler/graph.js";
import type { FieldSpec, FieldType } from "../../data/index.js";
import { hubRequestOf, openHubFiles, resolveHubDataset } from "../../data/hub/index.js";
import { collect, fromArray, type Row } from "../../data/row.js";
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
import { ExecError, NotExecutable, type ExecEnv, type OpHandler, type RowsValue, type Value } from "../types.js";

const rowsValue = (rows: readonly Row[]): RowsValue => ({ kind: "rows", rows });

export function rowsOf(v: Value | undefined, node: GraphNode, port = "rows"): readonly Row[] {
  if (!v || v.kind !== "rows") throw new Error(`internal: ${node.id} expected rows on ${port}`);
  return v.rows;
}

interface FieldParam {
  name: string;
  type: string;
  optional: boolean;
  default: unknown;
  from: string | null;
}

function schemaOf(node: GraphNode): FieldSpec[] | undefined {
  const fields = node.params["fields"] as unknown as FieldParam[] | undefined;
  if (!fields || fields.length === 0) return undefined;
  return fields.map((f) => ({
    name: f.name,
    type: f.type as FieldType,
    optional: f.optional,
    ...(f.default !== null && f.default !== undefined ? { default: f.default } : {}),
    ...(f.from && f.from !== f.name ? { from: f.from } : {}),
  }));
}

/** Seeded subsample of at most `n` rows that keeps file order (smoke runs). */
async function capRows(rows: Row[], n: number, seed: number): Promise<Row[]> {
  if (rows.length <= n) return rows;
  const picked = await collect(sample(fromArray(rows), { n }, seed));
  return picked;
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
  let rows = await collect(opened.rows);
  const skipped = opened.badRows.skipped;
  if (skipped > 0) env.log(`${node.id}: skipped ${skipped} bad row(s) (on_bad_rows = skip)`);
  if (env.smoke && rows.length > env.smoke.rows) {
    env.substitute(node.id, `kept ${env.smoke.rows} of ${rows.length} rows`);
    rows = await capRows(rows, env.smoke.rows, env.seed);
  }
  env.metric({ node: node.id, rows: rows.length, skipped_rows: skipped });
  env.log(`${node.id}: ${rows.length} rows from ${from}`);
  return { rows: rowsValue(rows) };
};

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
  const rows = rowsOf(inputs["rows"], node);
  const tokenizer = env.defaultTokenizer();
  const pred = compilePredicate(node.params["where"], { countTokens: tokenizer ? (t) => tokenizer.encode(t).length : undefined });
  const kept = await collect(filter(fromArray(rows), pred, node.id));
  logKept(env, node, rows.length, kept.length);
  if (env.smoke && kept.length === 0 && rows.length > 0) {
    env.substitute(node.id, `kept none of ${rows.length} rows (smoke stand-ins score differently); continuing with the unfiltered rows so the rest of the graph runs`);
    return { rows: rowsValue(rows) };
  }
  return { rows: rowsValue(kept) };
};

const dedupOp: OpHandler = async (node, inputs, env) => {
  const rows = rowsOf(inputs["rows"], node);
  const on = Array.isArray(node.params["on"]) ? (node.params["on"] as string[]) : undefined;
  const stream =
    node.params["mode"] === "near"
      ? dedupNear(fromArray(rows), { threshold: Number(node.params["threshold"] ?? 0.8), seed: seedOf(node, env), fields: on })
      : dedupExact(fromArray(rows), { fields: on });
  const kept = await collect(stream);
  logKept(env, node, rows.length, kept.length);
  return { rows: rowsValue(kept) };
};

const sampleOp: OpHandler = async (node, inputs, env) => {
  const rows = rowsOf(inputs["rows"], node);
  let size = sampleSize(node.params["n"] ?? node.params["size"], node);
  if (env.smoke && "n" in size && size.n > rows.length) {
    env.substitute(node.id, `sample of ${size.n} rows reduced to the ${rows.length} rows the smoke subsample has`);
    size = { n: rows.length };
  }
  const kept = await collect(sample(fromArray(rows), size, seedOf(node, env)));
  logKept(env, node, rows.length, kept.length);
  return { rows: rowsValue(kept) };
};

const shuffleOp: OpHandler = async (node, inputs, env) => {
  const rows = rowsOf(inputs["rows"], node);
  return { rows: rowsValue(await collect(shuffle(fromArray(rows), seedOf(node, env)))) };
};

const splitOp: OpHandler = async (node, inputs, env) => {
  const rows = rowsOf(inputs["rows"], node);
  const res = await split(fromArray(rows), sampleSize(node.params["validation"], node), seedOf(node, env));
  const train = await collect(res.train);
  const validation = await collect(res.validation);
  env.log(`${node.id}: ${train.length} train, ${validation.length} validation rows`);
  env.metric({ node: node.id, train_rows: train.length, validation_rows: validation.length });
  return { train: rowsValue(train), validation: rowsValue(validation) };
};

const mixOp: OpHandler = async (node, inputs, env) => {
  const percent = node.params["percent"] as Record<string, number>;
  const parts = Object.entries(percent).map(([name, pct]) => ({ name, rows: fromArray(rowsOf(inputs[name], node, name)), weight: pct / 100 }));
  const res = await mix(parts, { mode: node.params["relative_to"] === "total" ? "share" : "of_source", seed: seedOf(node, env) });
  const rows = await collect(res.rows);
  for (const e of res.plan) env.log(`${node.id}: ${e.name} ${e.count} of ${e.available} rows (${(e.weight * 100).toFixed(1)}%)`);
  env.metric({ node: node.id, rows: rows.length, by_source: Object.fromEntries(res.plan.map((e) => [e.name, e.count])) });
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

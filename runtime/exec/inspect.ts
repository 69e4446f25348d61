// `tune data`: shows exactly what each stage will be trained on, before any
// training — runs the data half of the graph (and, for the tokenizer, the model
// load), then reports per stage: the row count after every data op and why rows
// were dropped, a token-length histogram with the share truncated at the
// cutoff, and the first rows as the model sees them (masked prompt part and
// trained completion part; token ids in the JSON form).
//
// Token counts are meant to be real: a hub model whose tokenizer is in the local
// HF cache, or a known public tokenizer (Llama 3, runtime/tokenizer/known.ts), is
// loaded tokenizer-only (no weights), also under --smoke, and truncation is
// counted at the stage's declared cutoff (not the smoke cap).
//
// `inspectSource` (`tune data --source FILE`) is the recipe-less half: one file,
// schema inferred, every row checked against it.
import type { Graph, GraphNode } from "../../compiler/graph.js";
import type { Tokenizer } from "../tokenizer/load.js";
import { hubTokenizer } from "../tokenizer/known.js";
import { upstreamClosure } from "./subgraph.js";
import { executeGraph, type NodeOutcome } from "./scheduler.js";
import { DATA_OPS } from "./ops/data.js";
import { loadModelOp } from "./ops/model.js";
import { scoreOp } from "./ops/judge.js";
import { tokenizeOp } from "./ops/tokenize.js";
import type { ExecEnv, ModelValue, OpHandler, TokensValue } from "./types.js";
import { BadRowLog, DataError } from "../data/errors.js";
import { inferSchema, type InferredField } from "../data/infer.js";
import { formatFromPath, readRaw, type FileFormat } from "../data/sources/index.js";
import { typed, type FieldSpec } from "../data/schema.js";
import { formatOrigin, type Origin, type Row, type RowStream } from "../data/row.js";

export interface InspectOptions {
  stage: string | null;
  /** Samples to show per stage. */
  n: number;
}

/** Rows in and out of one data op (from its metric record), and why rows were dropped. */
export interface OpCount {
  node: string;
  op: string;
  rowsIn?: number;
  rows?: number;
  dropped?: number;
  why?: string;
}

export interface Segment {
  tokens: number;
  ids: number[];
  text: string;
}

export interface SampleReport {
  index: number;
  /** Tokens after truncation. */
  length: number;
  /** Tokens before truncation. */
  fullLength: number;
  truncated: boolean;
  /** The loss-masked part (labels −100): the prompt. */
  masked: Segment;
  /** The trained part (labels = ids): the completion. */
  trained: Segment;
}

export interface StageReport {
  id: string;
  method: string;
  template: string;
  /** Which tokenizer counted, in words (exact, cached, or a stand-in). */
  tokenizer: string;
  cutoff: number;
  examples: number;
  tokens: number;
  trained: number;
  truncated: number;
  droppedNoLabel: number;
  /** Full (untruncated) lengths: HISTOGRAM_BUCKETS buckets up to the cutoff, then one for longer. */
  histogram: { from: number; to: number; count: number }[];
  samples: SampleReport[];
  /** DPO stages: the first preference rows as they are (the trainer renders pairs). */
  pairs?: { origin: Origin; values: Record<string, unknown> }[];
}

export interface InspectResult {
  stages: StageReport[];
  ops: OpCount[];
  outcomes: NodeOutcome[];
}

/** Histogram buckets up to the cutoff (plus one bucket for longer, truncated examples). */
export const HISTOGRAM_BUCKETS = 8;

// ---- tokenizer-only model loading

/** A model value that carries only a tokenizer; touching its weights is an internal error, never a silent wrong answer. */
function tokenizerOnly(node: GraphNode, tok: Tokenizer, label: string): ModelValue {
  const absent = (what: string): never => new Proxy({}, { get: () => { throw new Error(`internal: ${node.id} was loaded tokenizer-only (${label}) by tune data; its ${what} is not available`); } }) as never;
  const name = node.id.slice(node.id.indexOf(":") + 1);
  return {
    kind: "model",
    name,
    config: absent("config"),
    model: absent("weights"),
    tokenizer: { encode: (t) => tok.encode(t), decode: (ids) => tok.decode(ids), bosId: tok.bosId, eosId: tok.eosId },
    baseDir: "",
    adapter: null,
    adapterParams: null,
    standsInFor: null,
  };
}

/** load_model for inspection: tokenizer-only when every consumer only tokenizes; otherwise the ordinary load. */
function inspectLoadModel(tokenizerOnlyIds: ReadonlySet<string>, labels: Map<string, string>): OpHandler {
  return async (node, inputs, env) => {
    const hub = node.params["hub"];
    if (typeof hub === "string" && tokenizerOnlyIds.has(node.id)) {
      const found = await hubTokenizer(hub, String(node.params["revision"] ?? "main"));
      if (found) {
        env.log(`${node.id}: ${found.label}; weights not loaded`);
        labels.set(node.id, found.label);
        return { model: tokenizerOnly(node, found.tokenizer, found.label) };
      }
    }
    const out = await loadModelOp(node, inputs, env);
    const m = out["model"] as ModelValue;
    labels.set(node.id, m.standsInFor ? `the tiny stand-in's tokenizer (${m.baseDir}) for ${m.standsInFor}: counts are NOT those of the real model` : `${m.name}'s tokenizer (${m.baseDir})`);
    return out;
  };
}

/** Model nodes of `sub` whose outputs feed only the `tokenizer` port of tokenize nodes. */
function onlyTokenizing(sub: Graph): Set<string> {
  const out = new Set(sub.nodes.filter((n) => n.op === "load_model").map((n) => n.id));
  for (const n of sub.nodes) {
    for (const [port, ref] of Object.entries(n.inputs)) if (out.has(ref.node) && !(n.op === "tokenize" && port === "tokenizer")) out.delete(ref.node);
  }
  return out;
}

// ---- per-op counts from the ops' metric records

function opCount(node: GraphNode | undefined, id: string, r: Record<string, unknown>): OpCount | null {
  const num = (k: string): number | undefined => (typeof r[k] === "number" ? (r[k] as number) : undefined);
  const op = node?.op ?? id.split(":")[0]!;
  const p = node?.params ?? {};
  if (op === "load_data") {
    const skipped = num("skipped_rows") ?? 0;
    return { node: id, op, rows: num("rows"), dropped: skipped, why: skipped ? `${skipped} bad row(s) skipped (on_bad_rows = skip)` : undefined };
  }
  if (op === "split") return { node: id, op, rows: (num("train_rows") ?? 0) + (num("validation_rows") ?? 0), why: `${num("train_rows")} train, ${num("validation_rows")} validation` };
  if (op === "mix") return { node: id, op, rows: num("rows"), why: `by source: ${Object.entries((r["by_source"] as Record<string, number>) ?? {}).map(([k, v]) => `${k} ${v}`).join(", ")}` };
  if (op === "score") return { node: id, op, rows: num("scored"), why: `judge scores: ${num("unparseable") ?? 0} unparseable, ${num("out_of_range") ?? 0} out of range, mean ${num("mean")?.toFixed(2) ?? "—"}` };
  if (op === "tokenize") {
    const d = num("no_label_dropped") ?? 0;
    return { node: id, op, rows: num("examples"), dropped: d, why: d ? `${d} example(s) with no label token left after truncation` : undefined };
  }
  const rowsIn = num("rows_in");
  const rows = num("rows");
  if (rowsIn === undefined || rows === undefined) return null;
  const why: Record<string, string> = {
    filter: `not matching \`${exprText(p["where"])}\``,
    dedup: `${String(p["mode"] ?? "exact")} duplicates${p["threshold"] !== undefined ? ` (Jaccard ≥ ${String(p["threshold"])})` : ""}${Array.isArray(p["on"]) ? ` on ${(p["on"] as string[]).join(", ")}` : ""}`,
    sample: `not sampled (seed ${String(p["seed"] ?? "")})`,
  };
  return { node: id, op, rowsIn, rows, dropped: rowsIn - rows, why: rowsIn > rows ? (why[op] ?? op) : undefined };
}

// ---- stage reports

function stageReport(id: string, t: TokensValue, m: ModelValue, tokenizerLabel: string, cutoff: number, n: number): StageReport {
  const template = String(t.template?.["name"] ?? "plain text");
  if (t.method === "dpo") {
    return { id, method: "dpo", template, tokenizer: tokenizerLabel, cutoff, examples: t.pairs.length, tokens: 0, trained: 0, truncated: 0, droppedNoLabel: 0, histogram: [], samples: [], pairs: t.pairs.slice(0, n).map((r) => ({ origin: r.origin, values: r.values })) };
  }
  const width = Math.max(1, Math.ceil(cutoff / HISTOGRAM_BUCKETS));
  const histogram = Array.from({ length: HISTOGRAM_BUCKETS }, (_, i) => ({ from: i * width + 1, to: Math.min(cutoff, (i + 1) * width), count: 0 }));
  histogram.push({ from: cutoff + 1, to: Infinity, count: 0 });
  for (const e of t.examples) {
    const b = e.fullLength > cutoff ? HISTOGRAM_BUCKETS : Math.min(HISTOGRAM_BUCKETS - 1, Math.floor(Math.max(0, e.fullLength - 1) / width));
    histogram[b]!.count++;
  }
  const samples: SampleReport[] = t.examples.slice(0, n).map((e, k) => {
    const firstLabel = e.labels.findIndex((l) => l !== -100);
    const cut = firstLabel < 0 ? e.inputIds.length : firstLabel;
    const ids = [...e.inputIds];
    return {
      index: k + 1,
      length: ids.length,
      fullLength: e.fullLength,
      truncated: e.truncated,
      masked: { tokens: cut, ids: ids.slice(0, cut), text: m.tokenizer.decode(ids.slice(0, cut)) },
      trained: { tokens: ids.length - cut, ids: ids.slice(cut), text: m.tokenizer.decode(ids.slice(cut)) },
    };
  });
  return {
    id,
    method: t.method,
    template,
    tokenizer: tokenizerLabel,
    cutoff,
    examples: t.examples.length,
    tokens: t.examples.reduce((s, e) => s + e.inputIds.length, 0),
    trained: t.examples.reduce((s, e) => s + e.labels.filter((l) => l !== -100).length, 0),
    truncated: t.truncated,
    droppedNoLabel: t.dropped,
    histogram,
    samples,
  };
}

export async function inspectData(graph: Graph, env: ExecEnv, opts: InspectOptions): Promise<InspectResult> {
  const stage = opts.stage;
  const sub = upstreamClosure(graph, (n) => n.op === "tokenize" && (!stage || n.id === `tokenize:${stage}` || n.id.startsWith(`tokenize:${stage}/`)));
  const labels = new Map<string, string>();
  const handlers: Record<string, OpHandler> = { ...DATA_OPS, load_model: inspectLoadModel(onlyTokenizing(sub), labels), score: scoreOp, tokenize: tokenizeOp };
  const metrics: Record<string, unknown>[] = [];
  // Counts come from the ops' own metric records; truncation is counted at the declared cutoff, also under --smoke.
  const inner: ExecEnv = { ...env, smoke: env.smoke ? { ...env.smoke, cutoff: Number.MAX_SAFE_INTEGER } : null, metric: (r) => { metrics.push(r); env.metric(r); } };
  const result = await executeGraph(sub, handlers, inner);
  const byId = new Map(sub.nodes.map((n) => [n.id, n]));
  const ops = metrics.flatMap((r) => {
    const id = typeof r["node"] === "string" ? r["node"] : "";
    const c = opCount(byId.get(id), id, r);
    return c ? [c] : [];
  });
  const stages: StageReport[] = [];
  for (const n of sub.nodes) {
    if (n.op !== "tokenize") continue;
    const t = result.values.get(n.id)?.["tokens"];
    const modelId = n.inputs["tokenizer"]!.node;
    const m = result.values.get(modelId)?.["model"];
    if (t?.kind === "tokens" && m?.kind === "model") stages.push(stageReport(n.id, t, m, labels.get(modelId) ?? modelId, Number(n.params["cutoff"] ?? 512), opts.n));
  }
  return { stages, ops, outcomes: result.outcomes };
}

/** A filter expression of the graph (`{op, left, right}`, `{call, args}`, `{field}`, …) as recipe-like text. */
export function exprText(e: unknown): string {
  if (e === null || typeof e !== "object") return JSON.stringify(e) ?? String(e);
  const x = e as Record<string, unknown>;
  if (typeof x["field"] === "string") return x["field"];
  if ("num" in x) return String(x["num"]);
  if ("str" in x) return JSON.stringify(x["str"]);
  if ("bool" in x) return String(x["bool"]);
  if (typeof x["call"] === "string") return `${x["call"]}(${((x["args"] as unknown[]) ?? []).map(exprText).join(", ")})`;
  if (typeof x["op"] === "string" && "left" in x) return `${exprText(x["left"])} ${x["op"]} ${exprText(x["right"])}`;
  if (typeof x["op"] === "string" && "arg" in x) return `${x["op"]} ${exprText(x["arg"])}`;
  return JSON.stringify(e);
}

// ---- `tune data --source FILE`

export interface SourceField extends InferredField {
  /** Rows of the whole file in which the field is null (or, in CSV, empty). */
  nulls: number;
  /** Rows of the whole file in which the field is absent. */
  missing: number;
  /** Up to three distinct example values, as they are stored. */
  examples: unknown[];
}

export interface SourceReport {
  file: string;
  format: FileFormat;
  rows: number;
  /** Rows in which the inferred schema was checked and held. */
  goodRows: number;
  sampled: number;
  fields: SourceField[];
  /** Every bad row: `FILE:LINE` (or `FILE (row N)` for Parquet), code, what was wrong. */
  badRows: { where: string; code: string; message: string; field?: string; expected?: string }[];
  /** Bad rows beyond `badRows` (only the first `keep` are listed). */
  badRowsNotListed: number;
}

/** A skip-policy log that also keeps the first `keep` errors themselves (for located, structured reports). */
class KeepingLog extends BadRowLog {
  readonly kept: DataError[] = [];
  constructor(private readonly keepErrors: number) {
    super("skip", 0);
  }
  override handle(err: DataError): void {
    if (this.kept.length < this.keepErrors) this.kept.push(err);
    super.handle(err);
  }
}

/** Counts rows and per-field nulls/absences/examples while passing rows through. */
function tap(input: RowStream, stats: Map<string, { nulls: number; present: number; examples: unknown[] }>, counter: { rows: number }): RowStream {
  return {
    async *[Symbol.asyncIterator]() {
      for await (const row of input) {
        counter.rows++;
        for (const [k, v] of Object.entries(row.values)) {
          let s = stats.get(k);
          if (!s) stats.set(k, (s = { nulls: 0, present: 0, examples: [] }));
          s.present++;
          if (v === null || v === undefined || (row.origin.format === "csv" && v === "")) s.nulls++;
          else if (s.examples.length < 3 && !s.examples.some((x) => JSON.stringify(x) === JSON.stringify(v))) s.examples.push(v);
        }
        yield row;
      }
    },
  };
}

/**
 * Inspect one file without a recipe: format from the extension, schema inferred from the first `sample` rows,
 * then every row of the file checked against it (malformed records and rows that do not fit are bad rows).
 * Memory: the inference sample plus the first `keep` bad-row messages.
 */
export async function inspectSource(file: string, opts: { sample?: number; keep?: number } = {}): Promise<SourceReport> {
  const format = formatFromPath(file);
  const keep = opts.keep ?? 50;
  const inferLog = new BadRowLog("skip", 0);
  const inferred = await inferSchema(readRaw(file, format, inferLog), opts.sample ?? 1000);
  // Fields with no single type (or never seen with a value) are reported, not checked.
  const schema: FieldSpec[] = inferred.fields.flatMap((f) => (f.type === "unknown" ? [] : [{ name: f.name, type: f.type, ...(f.optional ? { optional: true } : {}) }]));
  const log = new KeepingLog(keep);
  const stats = new Map<string, { nulls: number; present: number; examples: unknown[] }>();
  const counter = { rows: 0 };
  let goodRows = 0;
  const raw = tap(readRaw(file, format, log), stats, counter);
  for await (const _ of typed(raw, schema, log, { keepExtra: true }) as AsyncIterable<Row>) goodRows++;
  const fields: SourceField[] = inferred.fields.map((f) => {
    const s = stats.get(f.name);
    return { ...f, nulls: s?.nulls ?? 0, missing: counter.rows - (s?.present ?? 0), examples: s?.examples ?? [] };
  });
  const badRows = log.kept.map((e) => ({ where: e.origin ? formatOrigin(e.origin) : file, code: e.code, message: e.detail, ...(e.field ? { field: e.field } : {}), ...(e.expected ? { expected: e.expected } : {}) }));
  // Every row is either good or skipped (malformed records are skipped before the tap, misfits after it).
  return { file, format, rows: goodRows + log.skipped, goodRows, sampled: inferred.sampled, fields, badRows, badRowsNotListed: log.skipped - badRows.length };
}

// The comparison report as data: every evaluated model's numbers, which model is the base, and each
// fine-tuned model's difference from it (Δ = fine-tuned − base, with the combined stderr sqrt(a² + b²)).
//
// Why this exists: a run's report is rendered three ways (Markdown, JSON, HTML, runtime/eval/report-md.ts and
// report-html.ts). Deciding what the numbers are — which metric is a task's headline, which direction is better,
// what a delta and its stderr are, what could not be scored — happens once, here, as plain typed data; the
// renderers only lay it out. Inputs are the result values the eval ops hand to the report node: lm-eval runs
// (`run.results`, one row per task or group and metric) and flat one-number results (judge means, win rates,
// response lengths), whose `value` may be null with a count of unparseable judge replies.

/** Which way a metric improves. "neutral": a difference is reported but is neither better nor worse. */
export type Direction = "higher" | "lower" | "neutral";

/** Metrics where lower is better whatever a task's config says (lm-eval: perplexity, bits per byte). */
const LOWER_IS_BETTER = new Set(["perplexity", "word_perplexity", "byte_perplexity", "bits_per_byte"]);
/** Metrics that describe a model without ranking it. */
const NEUTRAL = new Set(["response_length"]);

/** The direction of a metric: the fixed lists above first, then the task's `higher_is_better`, else higher. */
export function metricDirection(metric: string, higherIsBetter?: boolean): Direction {
  if (NEUTRAL.has(metric)) return "neutral";
  if (LOWER_IS_BETTER.has(metric)) return "lower";
  return higherIsBetter === false ? "lower" : "higher";
}

export interface Cell {
  /** null: nothing could be scored (every judge reply unparseable); `note` says why. */
  value: number | null;
  stderr: number | null;
  n: number;
  note?: string;
}

export type Verdict = "better" | "worse" | "same" | "neutral";

export interface Delta {
  /** The fine-tuned model this delta belongs to. */
  model: string;
  base: string;
  /** model − base. */
  value: number;
  /** sqrt(se_model² + se_base²); null when either stderr is unknown. */
  stderr: number | null;
  verdict: Verdict;
  /** |Δ| > its stderr (null when the stderr is unknown). */
  exceedsStderr: boolean | null;
}

export interface ReportRow {
  /** Task or group name; judged results use their description ("judge litgpt_0_100"). */
  task: string;
  metric: string;
  /** lm-eval filter ("none" for log-likelihood tasks); null for flat results. */
  filter: string | null;
  version: string | null;
  nShot: number | null;
  /** 0 for what the recipe asked for, > 0 for members of a group (indented in tables). */
  depth: number;
  kind: "task" | "group" | "score";
  direction: Direction;
  /** Model name → its number; a model that has no cell did not report this row. */
  cells: Record<string, Cell>;
  /** One per compared (fine-tuned) model that has a number here and whose base has one too. */
  deltas: Delta[];
}

export interface Report {
  recipe: string;
  /** Models in the order they first appear in the results. */
  models: string[];
  /** The recipe's base model (not a stage output); null with fewer than two models. */
  base: string | null;
  /** Models compared with the base, one Δ column each. */
  compared: string[];
  /** One row per requested task (its headline metric) or flat result, keyed "task (metric)". */
  summary: ReportRow[];
  /** Means over the summary rows every model reports with an ↑ metric, when there are at least two. */
  average: ReportRow | null;
  /** Every task, group member and metric of the lm-eval runs, plus the flat results. */
  detail: ReportRow[];
  /** Report inputs that produced no result (node ids). */
  notRun: string[];
  smoke: boolean;
  /** Eval template per model (null: prompts as the task builds them), as the eval nodes recorded it. */
  templates: Record<string, string | null>;
}

// ---- inputs

interface RunMetric {
  metric: string;
  filter: string;
  value: number;
  stderr: number | null;
  higherIsBetter?: boolean;
}
interface RunResult {
  name: string;
  kind?: "task" | "group";
  version?: number | string | null;
  numFewshot?: number | null;
  n: number;
  depth?: number;
  metrics: RunMetric[];
}

/** What a report reads from one result value's data. */
export interface ResultData {
  node?: unknown;
  task?: unknown;
  model?: unknown;
  metric?: unknown;
  value?: unknown;
  stderr?: unknown;
  n?: unknown;
  unparseable?: unknown;
  run?: unknown;
  /** The chat template the eval wrapped prompts in (the one the model was trained with), or null for none. */
  template?: unknown;
}

export interface ReportInput {
  recipe: string;
  results: readonly ResultData[];
  /** Node ids the report was wired to, in order (to list those that produced nothing). */
  expected: readonly string[];
  /** Models that are stage outputs (trained by the recipe). Others are base models. */
  trained: ReadonlySet<string>;
  smoke: boolean;
}

const num = (x: unknown): number | null => (typeof x === "number" && Number.isFinite(x) ? x : null);
const str = (x: unknown, fallback: string): string => (typeof x === "string" && x !== "" ? x : fallback);

function runResults(run: unknown): RunResult[] | null {
  if (!run || typeof run !== "object") return null;
  const results = (run as { results?: unknown }).results;
  return Array.isArray(results) ? (results as RunResult[]) : null;
}

// ---- building

/** Which model is the base and which are compared with it. */
export function chooseBase(models: readonly string[], trained: ReadonlySet<string>): { base: string | null; compared: string[] } {
  if (models.length < 2) return { base: null, compared: [] };
  const base = models.find((m) => !trained.has(m)) ?? models[0]!;
  const tuned = models.filter((m) => m !== base && trained.has(m));
  // No model is a stage output (two checkpoints loaded by path): compare every other model with the first.
  return { base, compared: tuned.length > 0 ? tuned : models.filter((m) => m !== base) };
}

/** Δ of one compared model against the base on one row, or null when either has no number. */
export function delta(row: Pick<ReportRow, "cells" | "direction">, model: string, base: string): Delta | null {
  const a = row.cells[model];
  const b = row.cells[base];
  if (!a || !b || a.value === null || b.value === null) return null;
  const value = a.value - b.value;
  const stderr = a.stderr !== null && b.stderr !== null && Number.isFinite(a.stderr) && Number.isFinite(b.stderr) ? Math.sqrt(a.stderr ** 2 + b.stderr ** 2) : null;
  const verdict: Verdict = row.direction === "neutral" ? "neutral" : value === 0 ? "same" : (value > 0) === (row.direction === "higher") ? "better" : "worse";
  return { model, base, value, stderr, verdict, exceedsStderr: stderr === null ? null : Math.abs(value) > stderr };
}

type RowKey = string;
const keyOf = (r: Pick<ReportRow, "task" | "metric" | "filter" | "depth">): RowKey => JSON.stringify([r.task, r.metric, r.filter, r.depth]);

class RowTable {
  readonly rows: ReportRow[] = [];
  private readonly index = new Map<RowKey, ReportRow>();
  cell(proto: Omit<ReportRow, "cells" | "deltas">, model: string, cell: Cell): void {
    const k = keyOf(proto);
    let row = this.index.get(k);
    if (!row) {
      row = { ...proto, cells: {}, deltas: [] };
      this.index.set(k, row);
      this.rows.push(row);
    }
    row.cells[model] = cell;
  }
}

function flatCell(d: ResultData): Cell {
  const n = num(d.n) ?? 0;
  const value = num(d.value);
  if (value !== null) return { value, stderr: num(d.stderr), n };
  const unparseable = num(d.unparseable);
  return { value: null, stderr: null, n, note: unparseable !== null ? `${unparseable} unparseable judge replies` : "no score" };
}

function addRun(d: ResultData, model: string, results: RunResult[], summary: RowTable, detail: RowTable): void {
  const wanted = typeof d.metric === "string" ? d.metric : "";
  results.forEach((r, i) => {
    for (const m of r.metrics) {
      const proto = {
        task: r.name,
        metric: m.metric,
        filter: m.filter,
        version: r.version === null || r.version === undefined ? null : String(r.version),
        nShot: r.numFewshot ?? null,
        depth: r.depth ?? 0,
        kind: r.kind ?? "task",
        direction: metricDirection(m.metric, m.higherIsBetter),
      } as const;
      detail.cell(proto, model, { value: m.value, stderr: m.stderr, n: r.n });
    }
    if (i !== 0) return;
    // The headline: the metric the recipe asked for (first filter reporting it), else the first metric.
    const m = r.metrics.find((x) => x.metric === wanted) ?? r.metrics[0];
    if (!m) return;
    summary.cell(
      { task: str(d.task, r.name), metric: m.metric, filter: m.filter, version: r.version == null ? null : String(r.version), nShot: r.numFewshot ?? null, depth: 0, kind: r.kind ?? "task", direction: metricDirection(m.metric, m.higherIsBetter) },
      model,
      { value: m.value, stderr: m.stderr, n: r.n },
    );
  });
}

function average(summary: readonly ReportRow[], models: readonly string[]): ReportRow | null {
  const rows = summary.filter((r) => r.kind !== "score" && r.direction === "higher" && models.every((m) => r.cells[m]?.value != null));
  if (rows.length < 2) return null;
  const cells: Record<string, Cell> = {};
  for (const m of models) {
    const cs = rows.map((r) => r.cells[m]!);
    const value = cs.reduce((s, c) => s + c.value!, 0) / cs.length;
    // Tasks are independent samples: the mean's variance is Σ se² / k².
    const stderr = cs.every((c) => c.stderr !== null) ? Math.sqrt(cs.reduce((s, c) => s + c.stderr! ** 2, 0)) / cs.length : null;
    cells[m] = { value, stderr, n: cs.reduce((s, c) => s + c.n, 0) };
  }
  return { task: `Average of ${rows.length} tasks`, metric: rows.map((r) => r.metric).filter((x, i, a) => a.indexOf(x) === i).join("/"), filter: null, version: null, nShot: null, depth: 0, kind: "group", direction: "higher", cells, deltas: [] };
}

/** Build the report from the result values that reached the report node. */
export function buildReport(input: ReportInput): Report {
  const models: string[] = [];
  const templates: Record<string, string | null> = {};
  const summary = new RowTable();
  const detail = new RowTable();
  const ran = new Set<string>();
  for (const d of input.results) {
    const model = str(d.model, "model");
    if (!models.includes(model)) models.push(model);
    if (typeof d.template === "string") templates[model] = d.template;
    else if (d.run && !(model in templates)) templates[model] = null;
    if (typeof d.node === "string") ran.add(d.node);
    const run = runResults(d.run);
    if (run) {
      addRun(d, model, run, summary, detail);
      continue;
    }
    if (!("value" in d)) continue;
    const metric = str(d.metric, "value");
    const proto = { task: str(d.task, metric), metric, filter: null, version: null, nShot: null, depth: 0, kind: "score", direction: metricDirection(metric) } as const;
    summary.cell(proto, model, flatCell(d));
    detail.cell(proto, model, flatCell(d));
  }
  const { base, compared } = chooseBase(models, input.trained);
  const avg = average(summary.rows, models);
  for (const row of [...summary.rows, ...detail.rows, ...(avg ? [avg] : [])]) {
    if (base === null) break;
    row.deltas = compared.map((m) => delta(row, m, base)).filter((x): x is Delta => x !== null);
  }
  return {
    recipe: input.recipe,
    models,
    base,
    compared,
    summary: summary.rows,
    average: avg,
    detail: detail.rows,
    notRun: input.expected.filter((id) => !ran.has(id)),
    smoke: input.smoke,
    templates,
  };
}

/** A graph as far as the report needs it: node ids, ops and input edges. */
export interface GraphLike {
  nodes: readonly { id: string; op: string; params?: { readonly [k: string]: unknown }; inputs: { readonly [port: string]: { node: string } } }[];
}

/**
 * The models the recipe trains, by name: a result's model is found by following its node's `model` input (or
 * `responses` → the generating node's `model`) to the node that made it; a `train` node is a stage output.
 */
export function trainedModels(graph: GraphLike | null | undefined, resultNodes: readonly string[]): Set<string> {
  const out = new Set<string>();
  const byId = new Map((graph?.nodes ?? []).map((n) => [n.id, n]));
  for (const id of resultNodes) {
    let node = byId.get(id);
    for (let hops = 0; node && hops < 8; hops++) {
      const next = node.inputs["model"] ?? node.inputs["responses"] ?? node.inputs["policy"];
      if (!next) break;
      const src = byId.get(next.node);
      if (src?.op === "train") {
        const name = byId.get(id)?.params?.["model"];
        if (typeof name === "string") out.add(name);
        break;
      }
      node = src;
    }
  }
  return out;
}

/** The summary key used since the first report format: "task (metric)". */
export function summaryKey(row: Pick<ReportRow, "task" | "metric">): string {
  return `${row.task} (${row.metric})`;
}

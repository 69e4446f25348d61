// Reports of eval runs: an lm-eval-style Markdown table (optionally base vs finetuned with a delta column)
// and the harness's results JSON layout ("acc,none", "acc_stderr,none", versions, n-shot, n-samples), so
// numbers can be diffed against an lm-eval run of the same model.

import type { EvalRun } from "./evaluate.js";
import type { MetricResult, TaskResult } from "./types.js";

const f4 = (x: number): string => (Number.isFinite(x) ? x.toFixed(4) : String(x));
const se4 = (x: number | null): string => (x === null ? "N/A" : f4(x));

function label(r: TaskResult): string {
  const d = r.depth ?? 0;
  const name = r.alias ?? r.name;
  return d === 0 ? name : `${"  ".repeat(d - 1)} - ${name}`;
}

function version(r: TaskResult): string {
  return r.version === null ? "N/A" : String(r.version);
}

function nshot(r: TaskResult): string {
  return r.numFewshot === null ? "" : String(r.numFewshot);
}

function row(cells: string[]): string {
  return `| ${cells.join(" | ")} |`;
}

function subsetNotes(results: TaskResult[]): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const r of results) {
    if (r.kind !== "task" || seen.has(r.name)) continue;
    seen.add(r.name);
    if (r.nOriginal !== undefined && r.n !== r.nOriginal) out.push(`- ${r.name}: ${r.n} of ${r.nOriginal} docs`);
    for (const note of r.notes ?? []) out.push(`- ${r.name}: ${note}`);
  }
  return out;
}

/** One run as the harness prints it: Task | Version | Filter | n-shot | Metric | Value | ± Stderr. */
export function markdownTable(run: EvalRun): string {
  const lines = [row(["Task", "Version", "Filter", "n-shot", "Metric", "Value", "± Stderr"]), "|---|---:|---|---:|---|---:|---:|"];
  for (const r of run.results) {
    if (r.metrics.length === 0) lines.push(row([label(r), version(r), "", nshot(r), "", "", ""]));
    for (const m of r.metrics) lines.push(row([label(r), version(r), m.filter, nshot(r), m.metric, f4(m.value), se4(m.stderr)]));
  }
  const notes = subsetNotes(run.results);
  return lines.join("\n") + "\n" + (notes.length ? `\nSubsets and notes:\n${notes.join("\n")}\n` : "");
}

function findMetric(run: EvalRun, r: TaskResult, m: MetricResult): MetricResult | undefined {
  const other = run.results.find((x) => x.name === r.name && x.depth === r.depth) ?? run.results.find((x) => x.name === r.name);
  return other?.metrics.find((x) => x.metric === m.metric && x.filter === m.filter);
}

/** Base vs finetuned: Task | Version | Filter | n-shot | Metric | Base | ± | Finetuned | ± | Δ. */
export function comparisonTable(base: EvalRun, tuned: EvalRun): string {
  const header = ["Task", "Version", "Filter", "n-shot", "Metric", "Base", "±", "Finetuned", "±", "Δ"];
  const lines = [row(header), "|---|---:|---|---:|---|---:|---:|---:|---:|---:|"];
  for (const r of tuned.results) {
    for (const m of r.metrics) {
      const b = findMetric(base, r, m);
      const delta = b ? m.value - b.value : NaN;
      const sign = delta > 0 ? "+" : "";
      lines.push(
        row([
          label(r),
          version(r),
          m.filter,
          nshot(r),
          m.metric + (m.higherIsBetter ? " ↑" : " ↓"),
          b ? f4(b.value) : "—",
          b ? se4(b.stderr) : "",
          f4(m.value),
          se4(m.stderr),
          b ? sign + f4(delta) : "—",
        ]),
      );
    }
  }
  const notes = subsetNotes(tuned.results);
  return lines.join("\n") + "\n" + (notes.length ? `\nSubsets and notes:\n${notes.join("\n")}\n` : "");
}

type Json = Record<string, unknown>;

/** The harness's results.json layout. */
export function resultsJson(run: EvalRun): Json {
  const results: Json = {};
  const groups: Json = {};
  const groupSubtasks: Json = {};
  const versions: Json = {};
  const nShot: Json = {};
  const higher: Json = {};
  const nSamples: Json = {};
  for (const r of run.results) {
    const entry: Json = { alias: label(r) };
    const hib: Json = {};
    for (const m of r.metrics) {
      entry[`${m.metric},${m.filter}`] = m.value;
      entry[`${m.metric}_stderr,${m.filter}`] = m.stderr === null ? "N/A" : m.stderr;
      hib[m.metric] = m.higherIsBetter;
    }
    results[r.name] = entry;
    versions[r.name] = r.version ?? "N/A";
    higher[r.name] = hib;
    if (r.kind === "group") {
      groups[r.name] = entry;
      groupSubtasks[r.name] = r.members ?? [];
    } else {
      nShot[r.name] = r.numFewshot;
      nSamples[r.name] = { original: r.nOriginal ?? r.n, effective: r.n };
    }
  }
  return {
    results,
    groups,
    group_subtasks: groupSubtasks,
    versions,
    "n-shot": nShot,
    higher_is_better: higher,
    "n-samples": nSamples,
    config: { model: run.model, limit: run.config.limit ?? null, fewshot_random_seed: run.config.fewshotSeed },
  };
}

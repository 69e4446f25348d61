// The comparison report as Markdown (report.md, also printed at the end of a run).
//
// Why this exists: report-model.ts decides the numbers; this lays them out the way people read eval results —
// a summary with one column per model and one Δ column per fine-tuned model, then the lm-eval-style table of
// every task, group and metric with the deltas, then each model's own lm-eval table
// (Task | Version | Filter | n-shot | Metric | Value | ± Stderr). The summary keeps the first report format's
// cells ("0.2500 ± 0.0306 (n=200)", "n/a: 20 unparseable judge replies (n=20)", "—") so old readers still parse it.

import { summaryKey, type Cell, type Delta, type Direction, type Report, type ReportRow } from "./report-model.js";

const f4 = (x: number): string => (Number.isFinite(x) ? x.toFixed(4) : String(x));
const signed = (x: number): string => (x > 0 ? "+" : "") + f4(x);
/** Table cells cannot hold a bare "|" or a newline. */
const cellText = (s: string): string => s.replace(/\|/g, "\\|").replace(/\r?\n/g, " ");
const row = (cells: readonly string[]): string => `| ${cells.map(cellText).join(" | ")} |`;

export const ARROW: Record<Direction, string> = { higher: "↑", lower: "↓", neutral: "·" };

/** A summary cell: value ± stderr (n), "n/a: why (n)" when nothing could be scored, "—" when not reported. */
export function formatCell(c: Cell | undefined): string {
  if (!c) return "—";
  if (c.value === null) return `n/a: ${c.note ?? "no score"} (n=${c.n})`;
  const se = c.stderr !== null && Number.isFinite(c.stderr) ? ` ± ${f4(c.stderr)}` : "";
  return `${f4(c.value)}${se} (n=${c.n})`;
}

/** A Δ cell: "+0.0450 ± 0.0212 ↑ better" (the arrow is the metric's direction), "—" when there is none. */
export function formatDelta(d: Delta | undefined, direction: Direction): string {
  if (!d) return "—";
  const se = d.stderr !== null ? ` ± ${f4(d.stderr)}` : "";
  return `${signed(d.value)}${se} ${ARROW[direction]} ${d.verdict}`;
}

const deltaOf = (r: ReportRow, model: string): Delta | undefined => r.deltas.find((d) => d.model === model);
const label = (r: ReportRow): string => (r.depth === 0 ? r.task : `${"  ".repeat(r.depth - 1)} - ${r.task}`);

function summaryTable(rep: Report): string[] {
  const head = [...rep.models, ...rep.compared.map((m) => `Δ ${m} − ${rep.base}`)];
  const lines = [row(["Task", ...head]), `|---|${head.map(() => "---:").join("|")}|`];
  const rows = rep.average ? [...rep.summary, rep.average] : rep.summary;
  for (const r of rows) lines.push(row([summaryKey(r), ...rep.models.map((m) => formatCell(r.cells[m])), ...rep.compared.map((m) => formatDelta(deltaOf(r, m), r.direction))]));
  return lines;
}

function detailTable(rep: Report): string[] {
  const head = ["Task", "Version", "Filter", "n-shot", "Metric", ...rep.models.flatMap((m) => [m, "±"]), ...rep.compared.map((m) => `Δ ${m}`)];
  const lines = [row(head), `|---|---:|---|---:|---|${head.slice(5).map(() => "---:").join("|")}|`];
  for (const r of rep.detail) {
    const values = rep.models.flatMap((m) => {
      const c = r.cells[m];
      if (!c) return ["—", ""];
      if (c.value === null) return [`n/a: ${c.note ?? "no score"}`, ""];
      return [f4(c.value), c.stderr === null ? "N/A" : f4(c.stderr)];
    });
    const deltas = rep.compared.map((m) => formatDelta(deltaOf(r, m), r.direction));
    lines.push(row([label(r), r.version ?? "", r.filter ?? "", r.nShot === null ? "" : String(r.nShot), `${r.metric} ${ARROW[r.direction]}`, ...values, ...deltas]));
  }
  return lines;
}

/** One model's results as lm-eval prints them. */
export function modelTable(rep: Report, model: string): string[] {
  const lines = [row(["Task", "Version", "Filter", "n-shot", "Metric", "Value", "± Stderr"]), "|---|---:|---|---:|---|---:|---:|"];
  for (const r of rep.detail) {
    const c = r.cells[model];
    if (!c) continue;
    const value = c.value === null ? `n/a: ${c.note ?? "no score"}` : f4(c.value);
    const se = c.value === null || c.stderr === null ? "N/A" : f4(c.stderr);
    lines.push(row([label(r), r.version ?? "N/A", r.filter ?? "", r.nShot === null ? "" : String(r.nShot), `${r.metric} ${ARROW[r.direction]}`, value, se]));
  }
  return lines;
}

function legend(rep: Report): string[] {
  if (rep.base === null) return [];
  const roles = rep.compared.length === 1 ? `\`${rep.compared[0]}\`` : rep.compared.map((m) => `\`${m}\``).join(", ");
  return [
    "",
    `Base model: \`${rep.base}\`. Δ = ${roles} − base, per task and metric; ± on Δ is sqrt(se_a² + se_b²), given when both stderrs are known.`,
    "↑ higher is better, ↓ lower is better, · neither (reported, not ranked); better/worse follow the metric's direction, not the sign.",
  ];
}

/** report.md */
export function reportMarkdown(rep: Report): string {
  const lines = [`# ${rep.recipe}: evaluation`, "", ...summaryTable(rep), ...legend(rep)];
  if (rep.detail.length > 0) lines.push("", "## Per task and metric", "", ...detailTable(rep));
  if (rep.models.length > 1) for (const m of rep.models) lines.push("", `## ${m}`, "", ...modelTable(rep, m));
  const tpl = Object.entries(rep.templates);
  if (tpl.length > 0) lines.push("", `Eval prompts: ${tpl.map(([m, t]) => `${m} ${t === null ? "as the tasks build them (no chat template)" : `wrapped in its training template \`${t}\``}`).join("; ")}.`);
  if (rep.notRun.length > 0) lines.push("", `Not run (see run.log for why): ${rep.notRun.join(", ")}.`);
  if (rep.smoke) lines.push("", "Smoke run: the tiny model stood in for the recipe's models and every task was subsampled; these numbers only show that the pipeline works.");
  return lines.join("\n") + "\n";
}

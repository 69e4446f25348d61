// The comparison report as one self-contained HTML page (report.html): the tables of report.md and an inline
// SVG bar chart of the deltas, with no scripts, fonts, images or links to fetch — it opens offline, from a
// run directory or an e-mail attachment.
//
// Why this exists: a Δ column says less than a picture of it. One horizontal bar per Δ of the summary table
// (each fine-tuned model against the base), coloured by better / worse in the metric's direction (green /
// red; grey for neutral metrics and for no change), never by sign, with a whisker of ± the combined stderr
// where both stderrs are known. Metrics on different scales do not share an axis: bounded metrics (every value
// in [0, 1]: accuracies, rates) share one panel, any other metric (perplexity, lengths, judge scores) gets its
// own. Every piece of text from results (task, metric and model names, notes) is HTML-escaped.

import { ARROW, formatCell, formatDelta } from "./report-md.js";
import { summaryKey, type Delta, type Report, type ReportRow, type Verdict } from "./report-model.js";

/** Escape text for HTML element content and attribute values. */
export function escapeHtml(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;").replace(/'/g, "&#39;");
}
const e = escapeHtml;

export const VERDICT_COLOR: Record<Verdict, string> = { better: "#2e7d32", worse: "#c62828", same: "#757575", neutral: "#757575" };

const f4 = (x: number): string => (Number.isFinite(x) ? x.toFixed(4) : String(x));

// ---- chart

interface Bar {
  row: ReportRow;
  delta: Delta;
}

/** Bars grouped by the axis they share: "bounded" (values in [0, 1]) or the metric's own name. */
function panels(rep: Report): Map<string, Bar[]> {
  const out = new Map<string, Bar[]>();
  const rows = rep.average ? [...rep.summary, rep.average] : rep.summary;
  for (const row of rows) {
    const bounded = Object.values(row.cells).every((c) => c.value === null || (c.value >= 0 && c.value <= 1));
    const axis = bounded ? "values in [0, 1]" : row.metric;
    for (const delta of row.deltas) (out.get(axis) ?? out.set(axis, []).get(axis)!).push({ row, delta });
  }
  return out;
}

const W = 820;
const LABEL = 300;
const PLOT = 340;
const ROW = 24;

function barSvg(bar: Bar, y: number, scale: number, multiModel: boolean): string {
  const zero = LABEL + PLOT / 2;
  const x = (v: number): number => zero + (v / scale) * (PLOT / 2 - 6);
  const { delta, row } = bar;
  const x0 = Math.min(zero, x(delta.value));
  const w = Math.max(1, Math.abs(x(delta.value) - zero));
  const name = summaryKey(row) + (multiModel ? ` · ${delta.model}` : "");
  const parts = [
    `<g class="bar" data-verdict="${delta.verdict}">`,
    `<title>${e(`${name}: ${formatDelta(delta, row.direction)}`)}</title>`,
    `<text x="${LABEL - 8}" y="${y + 16}" text-anchor="end">${e(name)} ${ARROW[row.direction]}</text>`,
    `<rect x="${x0.toFixed(1)}" y="${y + 5}" width="${w.toFixed(1)}" height="${ROW - 10}" fill="${VERDICT_COLOR[delta.verdict]}"/>`,
  ];
  if (delta.stderr !== null) {
    const lo = x(delta.value - delta.stderr).toFixed(1);
    const hi = x(delta.value + delta.stderr).toFixed(1);
    const mid = y + ROW / 2;
    parts.push(`<path class="whisker" d="M${lo},${mid} H${hi} M${lo},${mid - 5} V${mid + 5} M${hi},${mid - 5} V${mid + 5}" stroke="#222" stroke-width="1.2" fill="none"/>`);
  }
  parts.push(`<text x="${LABEL + PLOT + 8}" y="${y + 16}">${e(formatDelta(delta, row.direction))}</text>`, "</g>");
  return parts.join("");
}

/** The delta chart as an inline SVG element; "" when there is no delta to draw. */
export function deltaChartSvg(rep: Report): string {
  const groups = panels(rep);
  if (groups.size === 0) return "";
  const body: string[] = [];
  let y = 8;
  for (const [axis, bars] of groups) {
    const scale = Math.max(1e-12, ...bars.map((b) => Math.abs(b.delta.value) + (b.delta.stderr ?? 0)));
    const top = y;
    body.push(`<text x="${LABEL}" y="${y + 12}" class="axis">Δ, ${e(axis)}: ${e(f4(-scale))} … ${e(f4(scale))}</text>`);
    y += 18;
    for (const b of bars) {
      body.push(barSvg(b, y, scale, rep.compared.length > 1));
      y += ROW;
    }
    const zero = LABEL + PLOT / 2;
    body.push(`<line x1="${zero}" x2="${zero}" y1="${top + 16}" y2="${y}" stroke="#444"/>`);
    y += 10;
  }
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" role="img" width="${W}" height="${y}" viewBox="0 0 ${W} ${y}" font-family="sans-serif" font-size="12">`,
    `<title>${e(`Δ vs ${rep.base ?? "base"}`)}</title>`,
    ...body,
    "</svg>",
  ].join("\n");
}

// ---- tables

function table(head: readonly string[], rows: readonly (readonly string[])[], numericFrom: number): string {
  const th = head.map((h, i) => `<th${i >= numericFrom ? ' class="num"' : ""}>${e(h)}</th>`).join("");
  const trs = rows.map((r) => `<tr>${r.map((c, i) => `<td${i >= numericFrom ? ' class="num"' : ""}>${e(c)}</td>`).join("")}</tr>`);
  return `<table>\n<thead><tr>${th}</tr></thead>\n<tbody>\n${trs.join("\n")}\n</tbody>\n</table>`;
}

const deltaOf = (r: ReportRow, model: string): Delta | undefined => r.deltas.find((d) => d.model === model);
const label = (r: ReportRow): string => (r.depth === 0 ? r.task : `${"\u00a0\u00a0".repeat(r.depth - 1)} - ${r.task}`);

function summaryTable(rep: Report): string {
  const rows = (rep.average ? [...rep.summary, rep.average] : rep.summary).map((r) => [
    summaryKey(r),
    ...rep.models.map((m) => formatCell(r.cells[m])),
    ...rep.compared.map((m) => formatDelta(deltaOf(r, m), r.direction)),
  ]);
  return table(["Task", ...rep.models, ...rep.compared.map((m) => `Δ ${m} − ${rep.base}`)], rows, 1);
}

function detailTable(rep: Report, models: readonly string[], compared: readonly string[]): string {
  const rows = rep.detail
    .filter((r) => models.some((m) => r.cells[m]))
    .map((r) => [
      label(r),
      r.version ?? "",
      r.filter ?? "",
      r.nShot === null ? "" : String(r.nShot),
      `${r.metric} ${ARROW[r.direction]}`,
      ...models.flatMap((m) => {
        const c = r.cells[m];
        if (!c) return ["—", ""];
        if (c.value === null) return [`n/a: ${c.note ?? "no score"}`, ""];
        return [f4(c.value), c.stderr === null ? "N/A" : f4(c.stderr)];
      }),
      ...compared.map((m) => formatDelta(deltaOf(r, m), r.direction)),
    ]);
  const head = ["Task", "Version", "Filter", "n-shot", "Metric", ...models.flatMap((m) => (models.length === 1 ? ["Value", "± Stderr"] : [m, "±"])), ...compared.map((m) => `Δ ${m}`)];
  return table(head, rows, 5);
}

const STYLE = `body{font-family:system-ui,sans-serif;margin:2em;max-width:1100px;color:#222}
table{border-collapse:collapse;margin:1em 0}th,td{border:1px solid #ccc;padding:3px 8px;text-align:left}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}th{background:#f3f3f3}
.axis{fill:#555}.legend span{display:inline-block;width:12px;height:12px;margin:0 4px 0 12px;vertical-align:middle}`;

/** report.html */
export function reportHtml(rep: Report): string {
  const parts = [
    "<!DOCTYPE html>",
    '<html lang="en">',
    `<head><meta charset="utf-8"><title>${e(`${rep.recipe}: evaluation`)}</title><style>${STYLE}</style></head>`,
    "<body>",
    `<h1>${e(`${rep.recipe}: evaluation`)}</h1>`,
    summaryTable(rep),
  ];
  if (rep.base !== null) {
    parts.push(
      `<p>Base model: <code>${e(rep.base)}</code>. Δ = ${rep.compared.map((m) => `<code>${e(m)}</code>`).join(", ")} − base, per task and metric; ± on Δ is sqrt(se_a² + se_b²), given when both stderrs are known. ↑ higher is better, ↓ lower is better, · neither.</p>`,
    );
  }
  const chart = deltaChartSvg(rep);
  if (chart) {
    parts.push(
      "<h2>Δ against the base</h2>",
      `<p class="legend"><span style="background:${VERDICT_COLOR.better}"></span>better<span style="background:${VERDICT_COLOR.worse}"></span>worse<span style="background:${VERDICT_COLOR.neutral}"></span>no change or not ranked; whiskers: ± combined stderr</p>`,
      chart,
    );
  }
  if (rep.detail.length > 0) parts.push("<h2>Per task and metric</h2>", detailTable(rep, rep.models, rep.compared));
  if (rep.models.length > 1) for (const m of rep.models) parts.push(`<h2>${e(m)}</h2>`, detailTable(rep, [m], []));
  const tpl = Object.entries(rep.templates);
  if (tpl.length > 0) parts.push(`<p>Eval prompts: ${tpl.map(([m, t]) => `${e(m)} ${t === null ? "as the tasks build them (no chat template)" : `wrapped in its training template <code>${e(t)}</code>`}`).join("; ")}.</p>`);
  if (rep.notRun.length > 0) parts.push(`<p>Not run (see run.log for why): ${e(rep.notRun.join(", "))}.</p>`);
  if (rep.smoke) parts.push("<p>Smoke run: the tiny model stood in for the recipe's models and every task was subsampled; these numbers only show that the pipeline works.</p>");
  parts.push("</body>", "</html>", "");
  return parts.join("\n");
}

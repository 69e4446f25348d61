// report: the model-card style comparison of every evaluated model, written
// as report.md and report.json in the run directory and printed at the end.
import { join } from "node:path";
import { writeRunFile as writeFileAtomic } from "../files.js";
import type { OpHandler, ResultValue } from "../types.js";

interface Cell {
  /** null: nothing could be scored (e.g. every judge reply unparseable); `note` says why. */
  value: number | null;
  note?: string;
  stderr: number | null;
  n: number;
}

export const reportOp: OpHandler = async (node, inputs, env) => {
  const results = Object.values(inputs).filter((v): v is ResultValue => v.kind === "result");
  const models: string[] = [];
  const rows = new Map<string, Map<string, Cell>>();
  for (const r of results) {
    const d = r.data as { task: string; model: string; metric: string; run?: { results: { name: string; n: number; metrics: { metric: string; value: number; stderr: number | null; filter: string }[] }[] } };
    if (!models.includes(d.model)) models.push(d.model);
    const flat = r.data as { value?: unknown; stderr?: unknown; n?: unknown };
    let cell: Cell | null = null;
    let metric = d.metric;
    if (d.run) {
      const top = d.run.results[0];
      const m = top?.metrics.find((x) => x.metric === d.metric) ?? top?.metrics[0];
      if (m) {
        cell = { value: m.value, stderr: m.stderr, n: top!.n };
        metric = m.metric;
      }
    } else if (typeof flat.value === "number") {
      // Judged evals and response lengths report one number (with a stderr when it has one).
      cell = { value: flat.value, stderr: typeof flat.stderr === "number" ? flat.stderr : null, n: Number(flat.n ?? 0) };
    } else if ("value" in flat) {
      const unparseable = (r.data as { unparseable?: unknown }).unparseable;
      cell = { value: null, stderr: null, n: Number(flat.n ?? 0), note: typeof unparseable === "number" ? `${unparseable} unparseable judge replies` : "no score" };
    }
    if (!cell) continue;
    const key = `${d.task} (${metric})`;
    if (!rows.has(key)) rows.set(key, new Map());
    rows.get(key)!.set(d.model, cell);
  }
  const fmt = (c: Cell | undefined) => (c && c.value === null ? `n/a: ${c.note} (n=${c.n})` : c ? `${c.value!.toFixed(4)}${c.stderr !== null && Number.isFinite(c.stderr) ? ` ± ${c.stderr.toFixed(4)}` : ""} (n=${c.n})` : "—");
  const lines = [`# ${env.graph.recipe}: evaluation`, "", `| Task | ${models.join(" | ")} |`, `|---|${models.map(() => "---:").join("|")}|`];
  for (const [key, cells] of rows) lines.push(`| ${key} | ${models.map((m) => fmt(cells.get(m))).join(" | ")} |`);
  const ran = new Set(results.map((r) => String((r.data as { node?: string }).node ?? "")));
  const notRun = Object.values(node.inputs).map((e) => e.node).filter((id) => !ran.has(id));
  if (notRun.length > 0) lines.push("", `Not run (see run.log for why): ${notRun.join(", ")}.`);
  if (env.smoke) lines.push("", "Smoke run: the tiny model stood in for the recipe's models and every task was subsampled; these numbers only show that the pipeline works.");
  const md = lines.join("\n") + "\n";
  const json = { recipe: env.graph.recipe, models, rows: Object.fromEntries([...rows].map(([k, v]) => [k, Object.fromEntries(v)])) };
  const mdFile = join(env.runDir, "report.md");
  const jsonFile = join(env.runDir, "report.json");
  await writeFileAtomic(mdFile, md);
  await writeFileAtomic(jsonFile, JSON.stringify(json, null, 2) + "\n");
  env.log("\n" + md);
  return { report: { kind: "result", data: { markdown: md, ...json }, files: [mdFile, jsonFile] } };
};

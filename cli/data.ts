// `tune data <recipe>` and `tune data --source FILE`: what the model will be
// trained on, before training (runtime/exec/inspect.ts computes, this file
// renders). The recipe form runs in a scratch run directory and loads the
// runtime lazily like `tune run`; the source form needs no recipe.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { compileRecipe, type Io } from "./commands.js";
import { packageRoot } from "./host.js";
import type { OpCount, SourceReport, StageReport } from "../runtime/exec/inspect.js";

export interface DataOptions {
  stage: string | null;
  /** Samples per stage (`--n`). Default 3. */
  n?: number;
  /** Alias of `n` (the option's earlier name, `--rows`). */
  rows?: number;
  smoke: boolean;
  json?: boolean;
  /** `--source FILE`: inspect one file, no recipe. */
  source?: string | null;
}

const clip = (s: string, n = 600): string => (s.length > n ? s.slice(0, n) + `… (${s.length - n} more characters)` : s);
const pct = (a: number, b: number): string => (b === 0 ? "0%" : `${((100 * a) / b).toFixed(1)}%`);

export async function dataCommand(path: string | null, opts: DataOptions, io: Io): Promise<number> {
  if (opts.source) return sourceCommand(opts.source, !!opts.json, io);
  if (path === null) {
    io.err("error: give a recipe (`tune data recipe.tune`) or a file (`tune data --source data.jsonl`)\n");
    return 2;
  }
  const c = compileRecipe(path, false, io);
  if (!c?.graph || c.diagnostics.some((d) => d.severity === "error")) return 1;
  const { initBackend } = await import("../runtime/backend/index.js");
  const { inspectData } = await import("../runtime/exec/inspect.js");
  const { scratchEnv } = await import("../runtime/exec/scratch-env.js");
  await initBackend("auto");
  const runDir = mkdtempSync(join(tmpdir(), "tune-data-"));
  const env = scratchEnv({ graph: c.graph, recipePath: resolve(path), packageRoot: packageRoot(), runDir, smoke: opts.smoke, sink: { isTTY: false, write: (t) => io.err(t) } });
  const r = await inspectData(c.graph, env, { stage: opts.stage, n: opts.n ?? opts.rows ?? 3 });
  const bad = r.outcomes.filter((o) => o.state !== "done" && o.state !== "cached");
  for (const o of bad) io.err(`${o.state}: ${o.id}: ${o.reason ?? ""}${o.hint ? `\n  = help: ${o.hint}` : ""}\n`);
  if (r.stages.length === 0) {
    io.err(opts.stage ? `error: no stage \`${opts.stage}\` with training data in ${path}\n` : `error: ${path} trains nothing\n`);
    return 1;
  }
  if (opts.json) io.out(JSON.stringify({ recipe: path, smoke: opts.smoke, ops: r.ops, stages: r.stages.map(jsonStage) }, null, 2) + "\n");
  else io.out(r.stages.map(renderStage).join("\n\n") + "\n\n" + renderOps(r.ops) + "\n");
  return bad.some((o) => o.state === "failed") ? 1 : 0;
}

// ---- recipe report rendering

function renderOps(ops: readonly OpCount[]): string {
  const out = ["== rows after each op"];
  for (const o of ops) {
    const counts = o.rowsIn !== undefined ? `${o.rows} of ${o.rowsIn} rows` : `${o.rows ?? "?"} rows`;
    const dropped = o.dropped ? `, dropped ${o.dropped}` : "";
    out.push(`  ${o.node.padEnd(28)} ${counts}${dropped}${o.why ? ` — ${o.why}` : ""}`);
  }
  return out.join("\n");
}

function histogram(s: StageReport): string[] {
  const max = Math.max(1, ...s.histogram.map((b) => b.count));
  return s.histogram.map((b) => {
    const label = b.to === Infinity ? `> ${s.cutoff} (truncated)` : `${b.from}–${b.to}`;
    return `  ${label.padStart(20)} │${"█".repeat(Math.round((30 * b.count) / max)).padEnd(30)} ${b.count}`;
  });
}

function renderStage(s: StageReport): string {
  const out = [`== ${s.id}`];
  if (s.method === "dpo") {
    out.push(`${s.examples} preference pairs (template ${s.template}; rendered and truncated by the DPO trainer)`);
    for (const p of s.pairs ?? []) out.push(`-- row ${p.origin.row}${p.origin.line ? ` (${p.origin.file}:${p.origin.line})` : ""}`, clip(JSON.stringify(p.values, null, 1)));
    return out.join("\n");
  }
  const rows = s.examples + s.droppedNoLabel;
  out.push(
    `${s.examples} examples, ${s.tokens} tokens, ${s.trained} trained (label) tokens, ${s.truncated} truncated, ${s.droppedNoLabel} dropped with no label token (template ${s.template})`,
    `tokenizer: ${s.tokenizer}`,
    `truncated at cutoff ${s.cutoff}: ${s.truncated} of ${rows} (${pct(s.truncated, rows)})`,
    `token lengths before truncation (kept examples):`,
    ...histogram(s),
  );
  for (const e of s.samples) {
    out.push(
      `-- example ${e.index}: ${e.length} tokens${e.truncated ? ` (truncated from ${e.fullLength})` : ""}`,
      `[masked: ${e.masked.tokens} tokens — prompt, no loss]`,
      clip(e.masked.text),
      `[trained: ${e.trained.tokens} tokens]`,
      clip(e.trained.text),
    );
  }
  return out.join("\n");
}

/** JSON form of a stage: Infinity is not JSON, so the open bucket's `to` is null. */
function jsonStage(s: StageReport): unknown {
  return { ...s, histogram: s.histogram.map((b) => ({ ...b, to: b.to === Infinity ? null : b.to })) };
}

// ---- `tune data --source FILE`

async function sourceCommand(file: string, json: boolean, io: Io): Promise<number> {
  const { inspectSource } = await import("../runtime/exec/inspect.js");
  const { DataError } = await import("../runtime/data/errors.js");
  let r: SourceReport;
  try {
    r = await inspectSource(file);
  } catch (e) {
    if (!(e instanceof DataError)) throw e;
    if (json) io.out(JSON.stringify({ file, error: { code: e.code, message: e.message, hint: e.hint } }, null, 2) + "\n");
    else io.err(e.render() + "\n");
    return 1;
  }
  io.out(json ? JSON.stringify(r, null, 2) + "\n" : renderSource(r));
  return r.badRows.length + r.badRowsNotListed > 0 ? 1 : 0;
}

export function renderSource(r: SourceReport): string {
  const bad = r.badRows.length + r.badRowsNotListed;
  const out = [`${r.file}: ${r.format}, ${r.rows} rows (${bad} bad); schema inferred from the first ${r.sampled} and checked on every row`, "fields:"];
  for (const f of r.fields) {
    const nullable = f.optional || f.nulls > 0 || f.missing > 0 ? `nullable (${f.nulls} null, ${f.missing} missing)` : "required";
    const ex = f.examples.map((v) => clip(JSON.stringify(v), 60)).join(", ");
    out.push(`  ${f.name}: ${f.type}  ${nullable}${f.note ? `  # ${f.note}` : ""}`, `      e.g. ${ex || "—"}`);
  }
  if (bad > 0) {
    out.push("bad rows:");
    for (const b of r.badRows) out.push(`  ${b.where}: error[${b.code}]: ${b.message}`);
    if (r.badRowsNotListed > 0) out.push(`  … and ${r.badRowsNotListed} more`);
  }
  return out.join("\n") + "\n";
}

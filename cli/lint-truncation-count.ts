// The counting half of T5540 (cli/lint-truncation.ts), loaded only when a stage
// has a cutoff and local data: renders the first rows of each dataset with the
// stage's template and counts tokens with the model's real tokenizer, exactly as
// runtime/exec/ops/tokenize.ts would (same renderer, same tokenizeExample, same
// BOS rule), but without loading weights or running the data ops.
import { existsSync } from "node:fs";
import { dirname, isAbsolute, join, resolve } from "node:path";
import type { GraphNode } from "../compiler/graph.js";
import { bosIdFor, schemaOf, templateOf } from "../runtime/exec/node-params.js";

export interface DatasetCount {
  name: string;
  rows: number;
  truncated: number;
  longest: number;
  /** 95th percentile of the full (untruncated) lengths. */
  p95: number;
}

export interface TruncationCount {
  /** The tokenizer in words ("the Llama 3 tokenizer"). */
  tokenizer: string;
  datasets: DatasetCount[];
}

async function tokenizerOf(model: GraphNode, recipePath: string, packageRoot: string) {
  const { loadTokenizer } = await import("../runtime/tokenizer/load.js");
  const { hubTokenizer } = await import("../runtime/tokenizer/known.js");
  const p = model.params;
  if (typeof p["path"] === "string") {
    const dir = isAbsolute(p["path"]) ? p["path"] : [join(dirname(recipePath), p["path"]), resolve(p["path"]), join(packageRoot, p["path"])].find((d) => existsSync(join(d, "tokenizer.json")));
    if (!dir || !existsSync(join(dir, "tokenizer.json"))) return null;
    return { tokenizer: await loadTokenizer(dir), label: `${model.id.replace(/^load_model:/, "")}'s tokenizer` };
  }
  if (typeof p["hub"] === "string") {
    const found = await hubTokenizer(p["hub"], String(p["revision"] ?? "main"));
    return found ? { tokenizer: found.tokenizer, label: found.short } : null;
  }
  return null;
}

/** Count rows longer than the stage's cutoff in the first `cap` rows of each dataset; null without an exact tokenizer. */
export async function countTruncated(
  t: { tokenize: GraphNode; model: GraphNode; datasets: { node: GraphNode; file: string }[] },
  recipePath: string,
  packageRoot: string,
  cap: number,
): Promise<TruncationCount | null> {
  const tok = await tokenizerOf(t.model, recipePath, packageRoot);
  if (!tok) return null;
  const { openSource } = await import("../runtime/data/sources/index.js");
  const { compileTemplate, renderRow } = await import("../runtime/data/template.js");
  const { tokenizeExample } = await import("../runtime/data/tokenize.js");
  const tp = templateOf(t.tokenize);
  const ct = compileTemplate(tp);
  const cutoff = Number(t.tokenize.params["cutoff"]);
  const bos = bosIdFor(tok.tokenizer, tp.prompt);
  const eos = tok.tokenizer.eosId ?? undefined;
  const datasets: DatasetCount[] = [];
  for (const d of t.datasets) {
    const opened = await openSource(d.file, { schema: schemaOf(d.node), onBadRows: "skip" });
    const lengths: number[] = [];
    for await (const row of opened.rows) {
      if (lengths.length >= cap) break;
      let full: number;
      try {
        const r = renderRow(ct, row, tp.system ? { system: tp.system } : {});
        full = tokenizeExample(r, tok.tokenizer, { cutoff, bosId: bos, eosId: eos, maskPrompt: tp.maskPrompt }).fullLength;
      } catch {
        continue; // a row the template cannot render is the compiler's or `tune data`'s to report
      }
      lengths.push(full);
    }
    lengths.sort((a, b) => a - b);
    const name = d.node.id.replace(/^load_data:/, "");
    datasets.push({ name, rows: lengths.length, truncated: lengths.filter((n) => n > cutoff).length, longest: lengths.at(-1) ?? 0, p95: lengths[Math.floor(0.95 * (lengths.length - 1))] ?? 0 });
  }
  return { tokenizer: tok.label, datasets };
}

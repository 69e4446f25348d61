// `tune data`: shows exactly what each stage will be trained on, before any
// training — runs the data half of the graph (and the model load, for the
// tokenizer), then for every tokenize node prints the counts and the first
// rows as the model sees them: the masked prompt part and the trained
// completion part, with token counts and truncation.
import type { Graph } from "../../compiler/graph.js";
import { upstreamClosure } from "./subgraph.js";
import { executeGraph, type NodeOutcome } from "./scheduler.js";
import { DATA_OPS } from "./ops/data.js";
import { loadModelOp } from "./ops/model.js";
import { scoreOp } from "./ops/judge.js";
import { tokenizeOp } from "./ops/tokenize.js";
import type { ExecEnv, ModelValue, OpHandler, TokensValue } from "./types.js";

export interface InspectResult {
  text: string;
  outcomes: NodeOutcome[];
}

const clip = (s: string, n = 600): string => (s.length > n ? s.slice(0, n) + `… (${s.length - n} more characters)` : s);

function describe(id: string, t: TokensValue, m: ModelValue, rows: number): string {
  const out: string[] = [`== ${id}`];
  if (t.method === "dpo") {
    out.push(`${t.pairs.length} preference pairs (template ${String(t.template["name"])})`);
    for (const r of t.pairs.slice(0, rows)) out.push(`-- row ${r.origin.row}${r.origin.line ? ` (${r.origin.file}:${r.origin.line})` : ""}`, clip(JSON.stringify(r.values, null, 1)));
    return out.join("\n");
  }
  const tokens = t.examples.reduce((s, e) => s + e.inputIds.length, 0);
  const trained = t.examples.reduce((s, e) => s + e.labels.filter((l) => l !== -100).length, 0);
  out.push(`${t.examples.length} examples, ${tokens} tokens, ${trained} trained (label) tokens, ${t.truncated} truncated, ${t.dropped} dropped with no label token (template ${String(t.template["name"])})`);
  for (const [k, e] of t.examples.slice(0, rows).entries()) {
    const firstLabel = e.labels.findIndex((l) => l !== -100);
    const cut = firstLabel < 0 ? e.inputIds.length : firstLabel;
    out.push(
      `-- example ${k + 1}: ${e.inputIds.length} tokens${e.truncated ? ` (truncated from ${e.fullLength})` : ""}`,
      `[masked: ${cut} tokens]`,
      clip(m.tokenizer.decode(e.inputIds.slice(0, cut))),
      `[trained: ${e.inputIds.length - cut} tokens]`,
      clip(m.tokenizer.decode(e.inputIds.slice(cut))),
    );
  }
  return out.join("\n");
}

export async function inspectData(graph: Graph, env: ExecEnv, opts: { stage: string | null; rows: number }): Promise<InspectResult> {
  const stage = opts.stage;
  const sub = upstreamClosure(graph, (n) => n.op === "tokenize" && (!stage || n.id === `tokenize:${stage}` || n.id.startsWith(`tokenize:${stage}/`)));
  const handlers: Record<string, OpHandler> = { ...DATA_OPS, load_model: loadModelOp, score: scoreOp, tokenize: tokenizeOp };
  const result = await executeGraph(sub, handlers, env);
  const parts: string[] = [];
  for (const n of sub.nodes) {
    if (n.op !== "tokenize") continue;
    const t = result.values.get(n.id)?.["tokens"];
    const m = result.values.get(n.inputs["tokenizer"]!.node)?.["model"];
    if (t?.kind === "tokens" && m?.kind === "model") parts.push(describe(n.id, t, m, opts.rows));
  }
  return { text: parts.join("\n\n") + "\n", outcomes: result.outcomes };
}

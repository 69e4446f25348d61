// The data half of a recipe, for the PyTorch executor: runs loading,
// filtering, scoring, dedup, mixing and splitting in process, renders every
// training example with the stage's template, and writes JSONL the exported
// programs read — `{"prompt", "completion"}` for SFT, `{"prompt", "chosen",
// "rejected"}` for preference stages. Tokenization happens on the GPU side
// with the model's own tokenizer; the prompt/completion boundary is ours.
import { mkdir } from "node:fs/promises";
import { dirname, join } from "node:path";
import type { Graph } from "../../compiler/graph.js";
import { upstreamClosure } from "./subgraph.js";
import { compileTemplate, renderRow } from "../data/template.js";
import { renderPair } from "../pref/data.js";
import type { Row } from "../data/row.js";
import { writeFileAtomic } from "../io/atomic.js";
import { DATA_OPS, rowStream } from "./ops/data.js";
import { scoreOp } from "./ops/judge.js";
import { templateOf } from "./ops/tokenize.js";
import { executeGraph, type NodeOutcome } from "./scheduler.js";
import type { ExecEnv, OpHandler } from "./types.js";

export interface PreparedData {
  /** train node id → rendered JSONL files. */
  data: Map<string, { train: string; validation?: string }>;
  outcomes: NodeOutcome[];
}

const fileName = (id: string) => id.replace(/[^A-Za-z0-9_.-]+/g, "_") + ".jsonl";

function renderHandler(outDir: string): OpHandler {
  return async (node, inputs, env) => {
    const t = templateOf(node);
    const ct = compileTemplate({ ...t, completion: node.params["method"] === "dpo" ? t.completion || "{{response}}" : t.completion });
    const render = (row: Row): string => {
      if (node.params["method"] === "dpo") {
        const pair = renderPair(ct, row, t.system ? { system: t.system } : {});
        return JSON.stringify({ prompt: pair.prompt, chosen: pair.chosen, rejected: pair.rejected, row: row.origin.row });
      }
      const r = renderRow(ct, row, t.system ? { system: t.system } : {});
      return JSON.stringify({ prompt: r.prompt, completion: r.completion, append_eos: r.appendEos, row: row.origin.row });
    };
    // Rows stream into the file (a lazy input is never held), written atomically in ~1 MiB chunks.
    const rows = rowStream(inputs["rows"], node);
    let count = 0;
    async function* chunks(): AsyncGenerator<Uint8Array> {
      let buf = "";
      for await (const row of rows) {
        buf += render(row) + "\n";
        count++;
        if (buf.length >= 1 << 20) {
          yield Buffer.from(buf, "utf8");
          buf = "";
        }
      }
      if (buf) yield Buffer.from(buf, "utf8");
    }
    const file = join(outDir, fileName(node.id));
    await mkdir(dirname(file), { recursive: true });
    await writeFileAtomic(file, chunks());
    env.log(`${node.id}: ${count} rendered examples → ${file}`);
    return { tokens: { kind: "result", data: { file }, files: [file] } };
  };
}

export async function prepareRenderedData(graph: Graph, outDir: string, env: ExecEnv): Promise<PreparedData> {
  // Only the data half: everything upstream of the tokenize nodes, minus model loading.
  const sub = upstreamClosure(graph, (n) => n.op === "tokenize", (n) => n.op === "load_model");
  // Tokenize nodes read a tokenizer from load_model; rendering does not need one.
  const nodes = sub.nodes.map((n) => (n.op === "tokenize" ? { ...n, inputs: { rows: n.inputs["rows"]! } } : n));
  const handlers: Record<string, OpHandler> = { ...DATA_OPS, score: scoreOp, tokenize: renderHandler(outDir) };
  const result = await executeGraph({ ...sub, nodes }, handlers, env);
  const files = new Map<string, string>();
  for (const [id, v] of result.values) {
    const f = v["tokens"];
    if (f?.kind === "result") files.set(id, String(f.data["file"]));
  }
  const data = new Map<string, { train: string; validation?: string }>();
  for (const n of graph.nodes) {
    if (n.op !== "train") continue;
    const train = files.get(n.inputs["tokens"]?.node ?? "");
    if (!train) continue;
    const validation = files.get(n.inputs["validation"]?.node ?? "");
    data.set(n.id, validation ? { train, validation } : { train });
  }
  return { data, outcomes: result.outcomes };
}

// Shared fixtures of the torch-executor tests: compiled recipes, rendered JSONL data, exporting into a temp dir.
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execFileSync } from "node:child_process";
import { fsHost } from "../../cli/host.js";
import { compile } from "../../compiler/compile.js";
import type { Graph } from "../../compiler/graph.js";
import { exportTorchProject, type TorchDataFiles, type TorchExportResult } from "../../runtime/torch/index.js";

export const RECIPES = readdirSync("recipes").filter((f) => f.endsWith(".tune")).sort();

export function compileRecipe(name: string): { graph: Graph; text: string } {
  const path = `recipes/${name}`;
  const text = readFileSync(path, "utf8");
  const c = compile(path, text, fsHost());
  if (!c.graph) throw new Error(`${path} does not compile: ${c.diagnostics.map((d) => d.code + " " + d.message).join("; ")}`);
  return { graph: c.graph, text };
}

/** Graphs produced by `tune plan --format json` (only on machines where /tmp/graphs was generated). */
export function planGraphs(): [string, Graph][] {
  const dir = "/tmp/graphs";
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith(".json"))
    .sort()
    .map((f) => [f, (JSON.parse(readFileSync(join(dir, f), "utf8")) as { graph: Graph }).graph]);
}

export function tempDir(tag: string): string {
  return mkdtempSync(join(tmpdir(), `tune-torch-${tag}-`));
}

const SFT_ROWS = [
  { prompt: "Below is an instruction that describes a task. Write a response that appropriately completes the request.\n\n### Instruction:\nName a primary color.\n\n### Response:", completion: "Red.</s>" },
  { prompt: "Below is an instruction that describes a task. Write a response that appropriately completes the request.\n\n### Instruction:\nAdd 2 and 3.\n\n### Response:", completion: "5</s>" },
];
const DPO_ROWS = [
  { prompt: "### Instruction:\nSay hello politely.\n\n### Response:\n", chosen: "Hello, it is a pleasure to meet you.", rejected: "What do you want?" },
  { prompt: "### Instruction:\nAsk for the salt.\n\n### Response:\n", chosen: "Could you pass the salt, please?", rejected: "Salt. Now." },
];

/** Writes `n` rendered rows (SFT or DPO shape) to a JSONL file and returns its path. */
export function writeRows(dir: string, name: string, kind: "sft" | "dpo", n: number): string {
  const base = kind === "sft" ? SFT_ROWS : DPO_ROWS;
  const rows = Array.from({ length: n }, (_, i) => base[i % base.length]);
  const path = join(dir, name);
  writeFileSync(path, rows.map((r) => JSON.stringify(r)).join("\n") + "\n");
  return path;
}

/** Rendered data for every training node of `graph` (validation where the graph has a validation input). */
export function dataFor(graph: Graph, dir: string, rows = 40): Map<string, TorchDataFiles> {
  const data = new Map<string, TorchDataFiles>();
  for (const n of graph.nodes.filter((x) => x.op === "train")) {
    const kind = n.params["method"] === "dpo" ? "dpo" : "sft";
    const slug = n.id.replace(/[^A-Za-z0-9]+/g, "_");
    data.set(n.id, {
      train: writeRows(dir, `${slug}-train.jsonl`, kind, rows),
      ...(n.inputs["validation"] ? { validation: writeRows(dir, `${slug}-valid.jsonl`, kind, 4) } : {}),
    });
  }
  return data;
}

export async function exportGraph(graph: Graph, tag: string, recipeText?: string, rows = 40): Promise<TorchExportResult> {
  const work = tempDir(tag);
  const src = join(work, "src");
  execFileSync("mkdir", ["-p", src]);
  return exportTorchProject(graph, join(work, "out"), { data: dataFor(graph, src, rows), recipeText, pythonVersion: "3.11" });
}

/** A python3 that has torch, if this machine has one (Debian's python3-torch lives under /usr/bin/python3). */
export function pythonWithTorch(): string | null {
  for (const py of ["python3", "/usr/bin/python3"]) {
    try {
      execFileSync(py, ["-c", "import torch"], { stdio: "ignore" });
      return py;
    } catch {
      // try the next
    }
  }
  return null;
}

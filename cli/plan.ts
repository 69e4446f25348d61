// `tune plan` output: the graph plus per-stage cost estimates (parameters,
// rows, steps, memory per device) in the format asked for. Also yields the
// memory-fit warnings (T4010) that lint and run report before any compute.
import type { Graph } from "../compiler/graph.js";
import type { Diagnostic } from "../grammar/diagnostic.js";
import { estimateGraph } from "../compiler/plan/estimate.js";
import { memoryDiagnostics } from "../compiler/plan/memory-check.js";
import { renderPlan, type PlanFormat } from "../compiler/plan/render.js";

export type { PlanFormat };

export function planText(graph: Graph, format: PlanFormat | "diagnostics", color: boolean): { text: string; diagnostics: Diagnostic[] } {
  const estimates = estimateGraph(graph);
  const diagnostics = memoryDiagnostics(graph, estimates);
  if (format === "diagnostics") return { text: "", diagnostics };
  return { text: renderPlan(graph, estimates, format, { color }), diagnostics };
}

// `tune eval`: the part of a graph the evaluation needs — eval, judge, win-rate,
// response-length and report nodes and everything upstream of them (models,
// data, training), without exports. With the node cache, training nodes that
// already ran are reused, so only the evaluation itself runs.
import type { Graph } from "../../compiler/graph.js";

const EVAL_OPS = new Set(["eval_task", "generate", "judge", "win_rate", "response_length", "report"]);

export function evalSubgraph(graph: Graph): Graph {
  const byId = new Map(graph.nodes.map((n) => [n.id, n]));
  const keep = new Set<string>();
  const visit = (id: string): void => {
    if (keep.has(id)) return;
    keep.add(id);
    for (const e of Object.values(byId.get(id)?.inputs ?? {})) visit(e.node);
  };
  for (const n of graph.nodes) if (EVAL_OPS.has(n.op)) visit(n.id);
  return { ...graph, nodes: graph.nodes.filter((n) => keep.has(n.id)) };
}

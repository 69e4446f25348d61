// Parts of a graph a command needs: a set of root nodes and everything
// upstream of them, in the graph's (topological) order. `tune eval` takes the
// evaluation nodes (stages they need come from the cache when unchanged),
// `tune data` and `tune export --executor torch` the data half up to the
// tokenize nodes.
import type { Graph, GraphNode } from "../../compiler/graph.js";

/** Roots and their upstream nodes; `skip` prunes a node and what only it needs. */
export function upstreamClosure(graph: Graph, isRoot: (n: GraphNode) => boolean, skip: (n: GraphNode) => boolean = () => false): Graph {
  const byId = new Map(graph.nodes.map((n) => [n.id, n]));
  const keep = new Set<string>();
  const visit = (n: GraphNode | undefined): void => {
    if (!n || keep.has(n.id) || skip(n)) return;
    keep.add(n.id);
    for (const e of Object.values(n.inputs)) visit(byId.get(e.node));
  };
  for (const n of graph.nodes) if (isRoot(n)) visit(n);
  return { ...graph, nodes: graph.nodes.filter((n) => keep.has(n.id)) };
}

const EVAL_OPS = new Set(["eval_task", "generate", "judge", "win_rate", "response_length", "report"]);

/** `tune eval`: eval, judge, win-rate, response-length and report nodes and what they need, without exports. */
export function evalSubgraph(graph: Graph): Graph {
  return upstreamClosure(graph, (n) => EVAL_OPS.has(n.op));
}

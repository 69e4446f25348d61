// Graph diagrams for `tune plan --format dot|mermaid`: the execution graph as a
// Graphviz digraph or a Mermaid flowchart, one box per node (its name and op),
// edges labelled with the output port when it is not the op's default, and the
// memory estimate on each train node (outlined red when it exceeds the device).
import { OPS, type Graph, type GraphNode } from "../graph.js";
import type { StageEstimate } from "./estimate.js";
import { formatBytes } from "./units.js";

/** The node's name without its `op:` prefix (the op is shown on its own line). */
function shortName(n: GraphNode): string {
  return n.id.startsWith(n.op + ":") ? n.id.slice(n.op.length + 1) : n.id;
}

function labelLines(n: GraphNode, est: StageEstimate | undefined): string[] {
  const lines = [shortName(n), n.op];
  if (est?.memory) lines.push(`≈ ${formatBytes(est.memory.total)}/device`);
  return lines;
}

/** The port an edge reads, or null when it is the source op's first (default) output. */
function nonDefaultPort(graph: Graph, node: string, port: string): string | null {
  const src = graph.nodes.find((x) => x.id === node);
  return src && OPS[src.op].outputs[0] === port ? null : port;
}

function edges(graph: Graph): { from: string; to: string; port: string | null }[] {
  return graph.nodes.flatMap((n) => Object.values(n.inputs).map((e) => ({ from: e.node, to: n.id, port: nonDefaultPort(graph, e.node, e.port) })));
}

// ---- Graphviz

function dotString(s: string): string {
  return '"' + s.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n") + '"';
}

const DOT_SHAPES: Partial<Record<string, string>> = { load_model: "box3d", load_data: "cylinder", train: "box", report: "note", export: "folder" };

function dotNode(n: GraphNode, est: StageEstimate | undefined): string {
  const attrs = [`label=${dotString(labelLines(n, est).join("\n"))}`, `shape=${DOT_SHAPES[n.op] ?? "ellipse"}`];
  if (n.op === "train") attrs.push("penwidth=2");
  if (est?.exceeds) attrs.push('color="red"');
  return `  ${dotString(n.id)} [${attrs.join(", ")}];`;
}

export function renderDot(graph: Graph, estimates: readonly StageEstimate[]): string {
  const byNode = new Map(estimates.map((e) => [e.node, e]));
  const lines = [`digraph ${dotString(graph.recipe)} {`, "  rankdir=TB;", '  node [fontname="Helvetica", fontsize=10];', '  edge [fontname="Helvetica", fontsize=9];'];
  for (const n of graph.nodes) lines.push(dotNode(n, byNode.get(n.id)));
  for (const e of edges(graph)) lines.push(`  ${dotString(e.from)} -> ${dotString(e.to)}${e.port ? ` [label=${dotString(e.port)}]` : ""};`);
  lines.push("}");
  return lines.join("\n") + "\n";
}

// ---- Mermaid

/** Mermaid ids: letters, digits and underscores only, unique. */
export function mermaidIds(graph: Graph): Map<string, string> {
  const ids = new Map<string, string>();
  const used = new Set<string>();
  for (const n of graph.nodes) {
    const base = n.id.replace(/[^A-Za-z0-9_]+/g, "_").replace(/_+$/, "") || "node";
    let id = /^[A-Za-z]/.test(base) ? base : "n_" + base;
    for (let i = 2; used.has(id); i++) id = `${base}_${i}`;
    used.add(id);
    ids.set(n.id, id);
  }
  return ids;
}

/** Label text with Mermaid's entity codes for the characters its parser treats specially. */
function mermaidText(s: string): string {
  return s.replace(/#/g, "#35;").replace(/"/g, "#quot;").replace(/</g, "#lt;").replace(/>/g, "#gt;");
}

function mermaidNode(id: string, n: GraphNode, est: StageEstimate | undefined): string {
  const label = '"' + labelLines(n, est).map(mermaidText).join("<br/>") + '"';
  if (n.op === "load_model" || n.op === "load_data") return `  ${id}[(${label})]`;
  if (n.op === "train") return `  ${id}[[${label}]]`;
  return `  ${id}[${label}]`;
}

export function renderMermaid(graph: Graph, estimates: readonly StageEstimate[]): string {
  const byNode = new Map(estimates.map((e) => [e.node, e]));
  const ids = mermaidIds(graph);
  const lines = ["flowchart TD"];
  for (const n of graph.nodes) lines.push(mermaidNode(ids.get(n.id)!, n, byNode.get(n.id)));
  for (const e of edges(graph)) lines.push(`  ${ids.get(e.from)} -->${e.port ? `|${mermaidText(e.port)}|` : ""} ${ids.get(e.to)}`);
  const over = estimates.filter((e) => e.exceeds).map((e) => ids.get(e.node)).filter((x): x is string => !!x);
  if (over.length) lines.push("  classDef exceeds stroke:#d00,stroke-width:2px", `  class ${over.join(",")} exceeds`);
  return lines.join("\n") + "\n";
}

// Row counts for `tune plan`, propagated through the data nodes of a graph
// without reading any data: a source knows its rows only when the recipe says
// (`rows = 52002`); sample/split/mix/shuffle keep a count determinable with the
// runtime's rounding (round half up, mix by largest total without repetition);
// filter/score/dedup can only drop rows, so an exact count becomes "at most".
import type { Edge, Graph, GraphNode, Json } from "../graph.js";
import { grouped } from "./units.js";

export type Bound = "exact" | "at_most" | "unknown";

/** A count that may be exact, an upper bound, or unknown (n = null). */
export interface Count {
  readonly bound: Bound;
  readonly n: number | null;
}

export const UNKNOWN: Count = { bound: "unknown", n: null };

const exact = (n: number): Count => ({ bound: "exact", n });

/** The runtime's `roundCount` (select.ts): round half up. */
function roundCount(x: number): number {
  return Math.floor(x + 0.5);
}

/** `sample(n)` / `split(validation = n)` sizes: a share (10% or 0 < x < 1) or a row count. */
type Size = { fraction: number } | { count: number };

export function sizeOf(v: Json | undefined): Size | null {
  if (typeof v === "number") return v > 0 && v < 1 ? { fraction: v } : { count: Math.round(v) };
  if (v && typeof v === "object" && !Array.isArray(v) && v["unit"] === "%" && typeof v["value"] === "number") return { fraction: v["value"] / 100 };
  return null;
}

/** Apply a monotone function to a count, keeping its bound. */
function map(c: Count, f: (n: number) => number): Count {
  return c.n === null ? UNKNOWN : { bound: c.bound, n: f(c.n) };
}

/** The weaker of several bounds: any unknown → unknown, any at-most → at-most. */
function combine(counts: readonly Count[], f: (ns: number[]) => number): Count {
  if (counts.some((c) => c.n === null)) return UNKNOWN;
  const bound: Bound = counts.some((c) => c.bound === "at_most") ? "at_most" : "exact";
  return { bound, n: f(counts.map((c) => c.n!)) };
}

function atMost(c: Count): Count {
  return c.n === null ? UNKNOWN : { bound: "at_most", n: c.n };
}

export class RowCounter {
  private readonly byId: Map<string, GraphNode>;
  private readonly memo = new Map<string, Count>();

  constructor(graph: Graph) {
    this.byId = new Map(graph.nodes.map((n) => [n.id, n]));
  }

  /** Rows flowing along an edge (the `train`/`validation` port of a split differ). */
  edge(e: Edge): Count {
    const key = e.node + "." + e.port;
    const hit = this.memo.get(key);
    if (hit) return hit;
    const node = this.byId.get(e.node);
    const c = node ? this.compute(node, e.port) : UNKNOWN;
    this.memo.set(key, c);
    return c;
  }

  private input(node: GraphNode, name: string): Count {
    const e = node.inputs[name];
    return e ? this.edge(e) : UNKNOWN;
  }

  private compute(node: GraphNode, port: string): Count {
    const p = node.params;
    switch (node.op) {
      case "load_data":
        return typeof p["rows"] === "number" ? exact(p["rows"]) : UNKNOWN;
      case "shuffle":
      case "tokenize":
        return this.input(node, "rows");
      case "filter":
      case "score":
      case "dedup":
        return atMost(this.input(node, "rows"));
      case "sample":
        return this.sample(node);
      case "split":
        return this.split(node, port);
      case "mix":
        return this.mix(node);
      default:
        return UNKNOWN;
    }
  }

  private sample(node: GraphNode): Count {
    const size = sizeOf(node.params["n"]);
    if (!size) return UNKNOWN;
    // A count is exact whatever comes in: the run fails when fewer rows exist.
    if ("count" in size) return exact(size.count);
    return map(this.input(node, "rows"), (n) => roundCount(size.fraction * n));
  }

  private split(node: GraphNode, port: string): Count {
    const size = sizeOf(node.params["validation"]);
    const rows = this.input(node, "rows");
    if (!size) return UNKNOWN;
    const held = (n: number): number => ("count" in size ? size.count : roundCount(size.fraction * n));
    if (port === "validation") return "count" in size ? exact(size.count) : map(rows, held);
    return map(rows, (n) => Math.max(0, n - held(n)));
  }

  private mix(node: GraphNode): Count {
    const percent = node.params["percent"];
    if (!percent || typeof percent !== "object" || Array.isArray(percent)) return UNKNOWN;
    const keys = Object.keys(node.inputs);
    const weights = keys.map((k) => (typeof percent[k] === "number" ? (percent[k] as number) / 100 : 0));
    const counts = keys.map((k) => this.input(node, k));
    if (node.params["relative_to"] === "total") return combine(counts, (ns) => largestTotal(ns, weights));
    return combine(counts, (ns) => ns.reduce((s, n, i) => s + roundCount(weights[i]! * n), 0));
  }
}

/** relative_to = total without a declared total: the largest mix needing no repetition. */
function largestTotal(available: number[], weights: number[]): number {
  const sum = weights.reduce((a, w) => a + w, 0);
  if (sum <= 0) return 0;
  let t = Infinity;
  weights.forEach((w, i) => {
    if (w > 0) t = Math.min(t, Math.floor(available[i]! / (w / sum) + 1e-9));
  });
  return Number.isFinite(t) ? t : 0;
}

export function describeCount(c: Count, unit = "rows"): string {
  if (c.n === null) return "unknown";
  const n = grouped(c.n);
  return c.bound === "at_most" ? `≤ ${n} ${unit}` : `${n} ${unit}`;
}

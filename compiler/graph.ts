// The execution graph: the backend-neutral IR both executors read. Nodes are
// typed ops with explicit inputs, JSON parameters and a content hash over
// (op, implementation version, params, input hashes), so a runtime can cache
// and resume by hash. Also: the verifier run after lowering and a stable dump.
import { createHash } from "node:crypto";
import { z } from "zod";
import type { Span } from "../grammar/ast.js";

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Ops and their implementation versions; bump a version when an op's semantics change. */
export const OPS = {
  load_model: { version: 1, outputs: ["model"] },
  load_data: { version: 1, outputs: ["rows"] },
  mix: { version: 1, outputs: ["rows"] },
  filter: { version: 1, outputs: ["rows"] },
  score: { version: 1, outputs: ["rows"] },
  dedup: { version: 1, outputs: ["rows"] },
  sample: { version: 1, outputs: ["rows"] },
  shuffle: { version: 1, outputs: ["rows"] },
  split: { version: 1, outputs: ["train", "validation"] },
  tokenize: { version: 1, outputs: ["tokens"] },
  train: { version: 1, outputs: ["model"] },
  export: { version: 1, outputs: ["artifact"] },
  eval_task: { version: 1, outputs: ["result"] },
  generate: { version: 1, outputs: ["responses"] },
  judge: { version: 1, outputs: ["result"] },
  win_rate: { version: 1, outputs: ["result"] },
  response_length: { version: 1, outputs: ["result"] },
  report: { version: 1, outputs: ["report"] },
} as const;

export type OpName = keyof typeof OPS;

/** An input edge: `node` id and the output `port` read from it. */
export interface Edge {
  readonly node: string;
  readonly port: string;
}

export interface GraphNode {
  readonly id: string;
  readonly op: OpName;
  readonly version: number;
  readonly params: { readonly [key: string]: Json };
  readonly inputs: { readonly [name: string]: Edge };
  readonly hash: string;
  /** Where in the recipe this node comes from (for runtime errors). */
  readonly origin: Span | null;
}

export interface Graph {
  readonly format: "tune-graph";
  readonly version: 1;
  readonly recipe: string;
  readonly seed: number;
  /** Topologically ordered: every input refers to an earlier node. */
  readonly nodes: readonly GraphNode[];
}

export function canonicalJson(value: Json): string {
  if (value === null || typeof value !== "object") return JSON.stringify(value);
  if (Array.isArray(value)) return "[" + value.map(canonicalJson).join(",") + "]";
  const keys = Object.keys(value).sort();
  return "{" + keys.map((k) => JSON.stringify(k) + ":" + canonicalJson((value as Record<string, Json>)[k]!)).join(",") + "}";
}

export function nodeHash(op: OpName, params: { readonly [key: string]: Json }, inputHashes: Record<string, string>): string {
  const body = canonicalJson({ op, version: OPS[op].version, params: params as Json, inputs: inputHashes });
  return createHash("sha256").update(body).digest("hex");
}

// ---- verifier

const edgeSchema = z.object({ node: z.string().min(1), port: z.string().min(1) });
const nodeSchema = z.object({
  id: z.string().regex(/^[a-z_]+:[A-Za-z0-9_.:/#@-]+$/),
  op: z.enum(Object.keys(OPS) as [OpName, ...OpName[]]),
  version: z.number().int().positive(),
  params: z.record(z.string(), z.unknown()),
  inputs: z.record(z.string(), edgeSchema),
  hash: z.string().regex(/^[0-9a-f]{64}$/),
});

/** Structural invariants every lowered graph must satisfy; returns the violations (empty = valid). */
export function verifyGraph(graph: Graph): string[] {
  const problems: string[] = [];
  const seen = new Map<string, GraphNode>();
  for (const node of graph.nodes) {
    const parsed = nodeSchema.safeParse(node);
    if (!parsed.success) problems.push(`${node.id}: ${parsed.error.issues.map((i) => i.path.join(".") + " " + i.message).join("; ")}`);
    if (seen.has(node.id)) problems.push(`${node.id}: duplicate node id`);
    if (OPS[node.op] && node.version !== OPS[node.op].version) problems.push(`${node.id}: version ${node.version} ≠ op version ${OPS[node.op].version}`);
    const inputHashes: Record<string, string> = {};
    for (const [name, edge] of Object.entries(node.inputs)) {
      const src = seen.get(edge.node);
      if (!src) {
        problems.push(`${node.id}: input ${name} refers to ${edge.node}, which is not an earlier node`);
        continue;
      }
      if (!(OPS[src.op].outputs as readonly string[]).includes(edge.port)) problems.push(`${node.id}: ${edge.node} has no output port ${edge.port}`);
      inputHashes[name] = src.hash + ":" + edge.port;
    }
    if (OPS[node.op] && node.hash !== nodeHash(node.op, node.params, inputHashes)) problems.push(`${node.id}: hash does not match its content`);
    seen.set(node.id, node);
  }
  const used = new Set(graph.nodes.flatMap((n) => Object.values(n.inputs).map((e) => e.node)));
  for (const node of graph.nodes) {
    if (!used.has(node.id) && !["report", "export", "train"].includes(node.op) && graph.nodes.length > 1) {
      problems.push(`${node.id}: output is never used`);
    }
  }
  return problems;
}

// ---- stable text dump (golden tests, `tune plan --format text`)

export function dumpGraph(graph: Graph): string {
  const lines = [`graph ${graph.recipe} (seed ${graph.seed}, ${graph.nodes.length} nodes)`];
  for (const n of graph.nodes) {
    const inputs = Object.entries(n.inputs).map(([k, e]) => `${k}=${e.node}${e.port === OPS[graph.nodes.find((x) => x.id === e.node)!.op].outputs[0] ? "" : "." + e.port}`);
    lines.push(`${n.hash.slice(0, 8)} ${n.id}${inputs.length ? " ← " + inputs.join(", ") : ""}`);
    const params = Object.keys(n.params).sort().map((k) => `${k}=${shortJson(n.params[k]!)}`);
    if (params.length) lines.push("         " + params.join(" "));
  }
  return lines.join("\n") + "\n";
}

function shortJson(v: Json): string {
  const s = canonicalJson(v);
  return s.length > 60 ? s.slice(0, 57) + "…" : s;
}

// The data kept in a run directory's status.json and env.json, the graph hash that names a run, and the
// comparison of two graphs that `--resume` prints when a recipe changed.
//
// Why this exists: the writer (RunDir) and the readers (`tune runs`, findResumable) must agree on one shape, and
// readers must accept files written by a run that was killed halfway (every field they need is present from the
// first write on, because status.json is only ever replaced whole).

import { z } from "zod";
import type { Graph } from "../../compiler/graph.js";
import { sha256Hex } from "./fsx.js";

export type RunState = "running" | "completed" | "failed" | "interrupted";
export type NodeState = "pending" | "cached" | "running" | "done" | "failed";

export interface NodeStatus {
  readonly state: NodeState;
  readonly hash: string;
  readonly op: string;
  readonly startedAt: string | null;
  readonly endedAt: string | null;
  readonly durationMs: number | null;
  readonly error: string | null;
}

export interface RunStatus {
  readonly format: "tune-run-status";
  readonly version: 1;
  readonly id: string;
  readonly recipe: string;
  readonly recipePath: string;
  readonly graphHash: string;
  readonly state: RunState;
  readonly startedAt: string;
  readonly endedAt: string | null;
  readonly durationMs: number | null;
  /** How many times the run was resumed. */
  readonly resumes: number;
  readonly error: string | null;
  /** In graph order. */
  readonly nodes: Readonly<Record<string, NodeStatus>>;
}

export interface RunEnv {
  readonly tune: string;
  readonly node: string;
  readonly platform: string;
  readonly arch: string;
  readonly cpus: number;
  readonly seed: number;
  /** Filled by the executor once the backend is chosen (`setEnv`). */
  readonly backend: string | null;
  readonly device: string | null;
  readonly [key: string]: unknown;
}

const nodeStatusSchema = z.object({
  state: z.enum(["pending", "cached", "running", "done", "failed"]),
  hash: z.string(),
  op: z.string(),
  startedAt: z.string().nullable(),
  endedAt: z.string().nullable(),
  durationMs: z.number().nullable(),
  error: z.string().nullable(),
});

const runStatusSchema = z.object({
  format: z.literal("tune-run-status"),
  version: z.literal(1),
  id: z.string(),
  recipe: z.string(),
  recipePath: z.string(),
  graphHash: z.string(),
  state: z.enum(["running", "completed", "failed", "interrupted"]),
  startedAt: z.string(),
  endedAt: z.string().nullable(),
  durationMs: z.number().nullable(),
  resumes: z.number().int(),
  error: z.string().nullable(),
  nodes: z.record(z.string(), nodeStatusSchema),
});

/** Parse status.json text; a string is the reason it is unusable. */
export function parseRunStatus(text: string): RunStatus | string {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return "status.json is not valid JSON";
  }
  const r = runStatusSchema.safeParse(raw);
  if (!r.success) return `status.json is malformed (${r.error.issues[0]?.path.join(".")}: ${r.error.issues[0]?.message})`;
  return r.data as RunStatus;
}

/** The identity of a graph for runs and resume: its seed and every node's id and content hash, in order. */
export function graphHash(graph: Pick<Graph, "seed" | "nodes">): string {
  const lines = [`tune-graph-hash/1`, `seed ${graph.seed}`, ...graph.nodes.map((n) => `${n.id} ${n.hash}`)];
  return sha256Hex(lines.join("\n"));
}

export interface GraphChanges {
  readonly added: string[];
  readonly removed: string[];
  /** Node ids present in both whose hash differs. */
  readonly changed: string[];
  readonly unchanged: string[];
  readonly seedChanged: boolean;
}

/** What differs between the graph a run started with and the graph of the recipe now. */
export function graphChanges(before: Pick<Graph, "seed" | "nodes">, after: Pick<Graph, "seed" | "nodes">): GraphChanges {
  const a = new Map(before.nodes.map((n) => [n.id, n.hash]));
  const b = new Map(after.nodes.map((n) => [n.id, n.hash]));
  return {
    added: [...b.keys()].filter((id) => !a.has(id)),
    removed: [...a.keys()].filter((id) => !b.has(id)),
    changed: [...b.keys()].filter((id) => a.has(id) && a.get(id) !== b.get(id)),
    unchanged: [...b.keys()].filter((id) => a.get(id) === b.get(id)),
    seedChanged: before.seed !== after.seed,
  };
}

/** `20240501T123005Z` (UTC, file-name safe, sorts by time). */
export function utcStamp(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, "Z").replace(/[-:]/g, "");
}

// Runs a compiled graph in topological order (the compiler guarantees every
// input precedes its node). A node whose handler is missing or says it cannot
// run here is reported as "not executed" and everything downstream of it is
// "blocked"; the rest of the graph still runs, so one unavailable judge does
// not hide what the other nodes would have shown.
import type { Graph, GraphNode } from "../../compiler/graph.js";
import { ExecError, Interrupted, NotExecutable, type ExecEnv, type OpHandler, type Value } from "./types.js";

const PARTIAL_INPUT_OPS = new Set(["report"]);

export type NodeState = "done" | "cached" | "not_executed" | "blocked" | "failed";

export interface NodeOutcome {
  readonly id: string;
  readonly op: string;
  readonly state: NodeState;
  readonly ms: number;
  /** Why it did not run, or the error (code + message + hint). */
  readonly reason?: string;
  readonly hint?: string;
  readonly code?: string;
}

/** Optional reuse of outputs by node hash (the content-addressed cache plugs in here). */
export interface NodeCache {
  get(node: GraphNode): Promise<Record<string, Value> | null>;
  put(node: GraphNode, outputs: Record<string, Value>): Promise<void>;
}

export interface ScheduleHooks {
  onStart?(node: GraphNode, index: number, total: number): void;
  onEnd?(outcome: NodeOutcome): void;
  cache?: NodeCache;
  /** Checked between nodes: true stops the run (SIGINT); remaining nodes are left pending. */
  stopRequested?(): boolean;
}

export interface ScheduleResult {
  readonly outcomes: NodeOutcome[];
  readonly values: Map<string, Record<string, Value>>;
  readonly stopped: boolean;
}

export async function executeGraph(graph: Graph, handlers: Readonly<Record<string, OpHandler>>, env: ExecEnv, hooks: ScheduleHooks = {}): Promise<ScheduleResult> {
  const values = new Map<string, Record<string, Value>>();
  const outcomes: NodeOutcome[] = [];
  const unavailable = new Map<string, string>();
  let stopped = false;
  for (const [index, node] of graph.nodes.entries()) {
    if (hooks.stopRequested?.()) {
      stopped = true;
      break;
    }
    // A report runs with whatever results exist and lists the rest; every other op needs all its inputs.
    const partial = PARTIAL_INPUT_OPS.has(node.op);
    const blockedBy = partial ? undefined : Object.values(node.inputs).map((e) => e.node).find((id) => unavailable.has(id));
    if (blockedBy) {
      unavailable.set(node.id, blockedBy);
      record({ id: node.id, op: node.op, state: "blocked", ms: 0, reason: `needs ${blockedBy}, which did not run` });
      continue;
    }
    hooks.onStart?.(node, index, graph.nodes.length);
    const t0 = performance.now();
    try {
      const cached = await hooks.cache?.get(node);
      if (cached) {
        values.set(node.id, cached);
        record({ id: node.id, op: node.op, state: "cached", ms: performance.now() - t0 });
        continue;
      }
      const handler = handlers[node.op];
      if (!handler) throw new NotExecutable(`the in-process executor has no \`${node.op}\` op yet`, "run this recipe with `--executor torch`, or leave this part out");
      const inputs: Record<string, Value> = {};
      for (const [name, edge] of Object.entries(node.inputs)) {
        if (partial && unavailable.has(edge.node)) continue;
        const v = values.get(edge.node)?.[edge.port];
        if (!v) throw new Error(`internal: ${node.id} input ${name} (${edge.node}.${edge.port}) has no value`);
        inputs[name] = v;
      }
      const outputs = await handler(node, inputs, env);
      values.set(node.id, outputs);
      await hooks.cache?.put(node, outputs);
      record({ id: node.id, op: node.op, state: "done", ms: performance.now() - t0 });
    } catch (e) {
      if (e instanceof Interrupted) {
        // The node saved a checkpoint and stays pending; nothing after it runs.
        stopped = true;
        break;
      }
      unavailable.set(node.id, node.id);
      const ms = performance.now() - t0;
      if (e instanceof NotExecutable) record({ id: node.id, op: node.op, state: "not_executed", ms, reason: e.message, hint: e.hint });
      else if (e instanceof ExecError) record({ id: node.id, op: node.op, state: "failed", ms, code: e.code, reason: e.message, hint: e.hint });
      else {
        const err = e as { code?: unknown; hint?: unknown; message?: unknown };
        record({
          id: node.id,
          op: node.op,
          state: "failed",
          ms,
          code: typeof err.code === "string" ? err.code : undefined,
          reason: typeof err.message === "string" ? err.message : String(e),
          hint: typeof err.hint === "string" ? err.hint : undefined,
        });
      }
    }
  }
  return { outcomes, values, stopped };

  function record(o: NodeOutcome): void {
    outcomes.push(o);
    hooks.onEnd?.(o);
  }
}

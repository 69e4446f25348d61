// `tune lock <recipe>`: resolve what the recipe reads and, unless told not to,
// run its data half (load, filter, score, mix, split, tokenize — through the
// node cache, so it is cheap once done) to record the digest of every derived
// data artifact next to the input identities.
import type { Graph } from "../../compiler/graph.js";
import type { TuneLock } from "../store/index.js";
import { createNodeCache } from "./cache.js";
import { graphLock } from "./lock.js";
import { DATA_OPS } from "./ops/data.js";
import { loadModelOp } from "./ops/model.js";
import { scoreOp } from "./ops/judge.js";
import { tokenizeOp } from "./ops/tokenize.js";
import { executeGraph, type NodeOutcome } from "./scheduler.js";
import { upstreamClosure } from "./subgraph.js";
import type { ExecEnv, OpHandler } from "./types.js";

export interface LockRecipeOptions {
  graph: Graph;
  recipeText: string;
  env: ExecEnv;
  /** Run the data half to record derived-artifact digests (default true). */
  data: boolean;
  /** Use $TUNE_CACHE for the data half. */
  cache: boolean;
}

export async function lockRecipe(o: LockRecipeOptions): Promise<{ lock: TuneLock; outcomes: NodeOutcome[] }> {
  const ctx = { recipeDir: o.env.recipeDir, packageRoot: o.env.packageRoot, smoke: o.env.smoke };
  if (!o.data) return { lock: await graphLock({ graph: o.graph, recipeText: o.recipeText, ctx }), outcomes: [] };
  const sub = upstreamClosure(o.graph, (n) => n.op === "tokenize");
  const handlers: Record<string, OpHandler> = { ...DATA_OPS, load_model: loadModelOp, score: scoreOp, tokenize: tokenizeOp };
  const cache = o.cache ? createNodeCache({ smoke: o.env.smoke, env: o.env }) : undefined;
  const result = await executeGraph(sub, handlers, o.env, { cache });
  const lock = await graphLock({ graph: o.graph, recipeText: o.recipeText, ctx, values: result.values });
  return { lock, outcomes: result.outcomes };
}

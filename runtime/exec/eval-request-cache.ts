// Where an eval node's request cache lives and whether it is on.
//
// One append-only JSONL file per model identity (eval-identity.ts) under $TUNE_CACHE/eval-requests/, so two
// models never share a file, and keys (runtime/eval/cache.ts) hash that identity as well, so they would not
// share entries even if they did. The cache follows the node cache: on for `tune run`/`tune eval`, off under
// `--no-cache` (ExecEnv.cache false or absent). A cache that cannot be opened is reported and skipped:
// it may cost recomputation, never a run.
import { join } from "node:path";
import type { GraphNode } from "../../compiler/graph.js";
import { JsonlFileCache } from "../eval/cache.js";
import { defaultCacheRoot } from "../store/index.js";
import { IdentityMemo } from "./cache-identity.js";
import { evalModelIdentity, type ModelIdentity } from "./eval-identity.js";
import type { ExecEnv, ModelValue } from "./types.js";

/** File identities are memoised for the whole process: a model directory is hashed once, not per eval node. */
const memo = new IdentityMemo();

export interface EvalRequestCache {
  readonly identity: ModelIdentity;
  readonly cache: JsonlFileCache;
}

/** `ExecEnv.cache` mirrors RunOptions.cache (runtime/exec/run.ts); absent means off, as for the node cache. */
export function requestCacheEnabled(env: ExecEnv): boolean {
  return (env as ExecEnv & { readonly cache?: boolean }).cache === true;
}

/** The request-cache file of a model identity under a cache root. */
export function evalRequestFile(cacheRoot: string, identity: string): string {
  return join(cacheRoot, "eval-requests", `${identity}.jsonl`);
}

/**
 * Open the request cache for the model an eval node reads. The model is "as loaded" when the node's model input
 * comes straight from load_model (its files are its weights); any other model is identified by its tensors.
 */
export async function openEvalRequestCache(node: GraphNode, m: ModelValue, env: ExecEnv, cacheRoot = defaultCacheRoot()): Promise<EvalRequestCache | null> {
  const producer = node.inputs["model"] ? env.graph.nodes.find((n) => n.id === node.inputs["model"]!.node) : undefined;
  try {
    const identity = await evalModelIdentity(m, { asLoaded: producer?.op === "load_model", memo });
    const cache = new JsonlFileCache(evalRequestFile(cacheRoot, identity.id), { warn: (msg) => env.log(`warning: eval request cache: ${msg}`) });
    return { identity, cache };
  } catch (e) {
    env.log(`warning: ${node.id}: eval request cache unavailable (${(e as Error).message}); every request is computed`);
    return null;
  }
}

// The executor's node-output cache: the scheduler's NodeCache hook on top of
// the content-addressed CacheStore (runtime/store). A re-run of a recipe
// reuses every node whose content hash and input identities are unchanged.
//
// Key of a node = cacheKey(node.hash, salt), where the salt holds
//   - the identities of what the node reads from disk (cache-identity.ts),
//   - the keys of its inputs (so a changed data file or model reaches every
//     node downstream, although the graph's hashes only see the paths),
//   - the tokenizer's model for filters that count tokens,
//   - under --smoke, the smoke limits and seed: smoke outputs are never
//     reused by a full run, nor a full run's by a smoke run,
//   - the version of the entry layout below.
// Entry layout (the store's out/ directory):
//   outputs.json   ports → value kinds, and the run-directory files restored
//   ports/<i>/     one value per output port (cache-codec.ts, cache-model.ts)
//   run/<path>     files the node wrote into the run directory
// load_model is never cached (loading is the cheap part, and a trained stage
// is rebuilt on top of the model it started from); report is cheap and
// rewrites run-level files. A hit logs the metric records the node logged when
// it ran (metrics.json), so metrics.jsonl does not depend on what was cached.
// Any failure to read an entry is logged and the
// node is recomputed: the cache may cost a recomputation, never a run.
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { GraphNode } from "../../compiler/graph.js";
import { CacheStore, cacheKey, identitySalt, type StoreWarning } from "../store/index.js";
import { CodecError, readResult, readRows, readTokens, resultFiles, writeResult, writeRows, writeTokens } from "./cache-codec.js";
import { changedSince, copyIntoEntry, expandPaths, restoreFromEntry, snapshotRunDir, type RunDirSnapshot } from "./cache-files.js";
import { IdentityMemo, nodeIdentities, STAND_IN_OPS, usesTokenizer, type IdentityContext } from "./cache-identity.js";
import { readModel, writeModel, type ModelContext } from "./cache-model.js";
import { resolveRecipePath } from "./paths.js";
import { TINY_MODEL_DIR } from "./ops/model.js";
import type { NodeCache } from "./scheduler.js";
import type { ExecEnv, SmokeLimits, Value } from "./types.js";

/** Bump when the entry layout or a codec changes: older entries then miss instead of failing to decode. */
export const ENTRY_LAYOUT_VERSION = "1";
/** Ops whose outputs are never stored. */
export const UNCACHED_OPS: ReadonlySet<string> = new Set(["load_model", "report"]);

export interface NodeCacheOptions {
  /** Defaults to a CacheStore at $TUNE_CACHE (default ~/.cache/tune) whose warnings go to env.log. */
  store?: CacheStore;
  smoke: SmokeLimits | null;
  /**
   * `graph` names the recipe in entries (`tune cache ls`); `seed` salts smoke keys (smoke subsampling uses it);
   * `stopRequested` keeps a node cut short by SIGINT out of the cache. Passing the run's whole ExecEnv gives all three.
   */
  env: Pick<ExecEnv, "recipeDir" | "packageRoot" | "runDir" | "log"> & Partial<Pick<ExecEnv, "graph" | "seed" | "stopRequested" | "metric">>;
  /** The metric records a node logged while it ran: stored with its outputs and logged again on a hit. */
  metricsOf?: (nodeId: string) => readonly Record<string, unknown>[];
}

export interface CacheStats {
  hits: number;
  misses: number;
  stored: number;
  /** Entries that could not be read or written (logged; the node was recomputed or left unstored). */
  errors: number;
}

export interface ExecNodeCache extends NodeCache {
  readonly stats: CacheStats;
  readonly store: CacheStore;
  /** The node's cache key, or null when it cannot have one (an input without a key, a path that does not resolve). */
  keyOf(node: GraphNode): Promise<string | null>;
}

interface OutputsFile {
  format: "tune-node-outputs";
  version: 1;
  ports: { port: string; kind: Value["kind"] }[];
  files: string[];
}

const message = (e: unknown): string => (e instanceof Error ? e.message : String(e));

export function createNodeCache(opts: NodeCacheOptions): ExecNodeCache {
  const { env, smoke } = opts;
  const store = opts.store ?? new CacheStore({ warn: (w: StoreWarning) => env.log(`warning[${w.code}]: ${w.message}\n  = help: ${w.hint}`) });
  const idCtx: IdentityContext = { recipeDir: env.recipeDir, packageRoot: env.packageRoot, smoke };
  const memo = new IdentityMemo();
  const keys = new Map<string, string | null>();
  const salts = new Map<string, Record<string, string>>();
  /** Values of this run's nodes, computed or restored: a trained stage is rebuilt on its starting model. */
  const values = new Map<string, Record<string, Value>>();
  const pending = new Map<string, RunDirSnapshot>();
  const stats: CacheStats = { hits: 0, misses: 0, stored: 0, errors: 0 };
  let tokenizerKey: string | null = null;
  const pathCtx = { runDir: env.runDir };
  const modelCtx: ModelContext = { runDir: env.runDir, input: (node, port) => inputValue(node, port) };

  function inputValue(node: GraphNode, port: string): Value | undefined {
    const edge = node.inputs[port];
    return edge ? values.get(edge.node)?.[edge.port] : undefined;
  }

  async function computeSalt(node: GraphNode): Promise<Record<string, string>> {
    const salt: Record<string, string> = { ...identitySalt(await nodeIdentities(node, idCtx, memo)), layout: ENTRY_LAYOUT_VERSION };
    for (const [name, edge] of Object.entries(node.inputs)) {
      const k = keys.get(edge.node);
      if (!k) throw new Quiet(`input ${edge.node} has no cache key`);
      salt[`input:${name}`] = `${k}:${edge.port}`;
    }
    if (usesTokenizer(node)) {
      if (!tokenizerKey) throw new Quiet("it counts tokens and no model has a cache key");
      salt["tokenizer"] = tokenizerKey;
    }
    if (smoke) {
      salt["smoke"] = JSON.stringify({ ...smoke, seed: env.seed ?? env.graph?.seed ?? null });
      if (STAND_IN_OPS.has(node.op)) {
        const tiny = await memo.modelDir(resolveRecipePath(idCtx, TINY_MODEL_DIR, "tiny model"));
        for (const [k, v] of Object.entries(identitySalt(tiny))) salt[`stand-in:${k}`] = v;
      }
    }
    return salt;
  }

  async function keyOf(node: GraphNode): Promise<string | null> {
    if (keys.has(node.id)) return keys.get(node.id) ?? null;
    let key: string | null = null;
    try {
      const salt = await computeSalt(node);
      key = cacheKey(node.hash, salt);
      salts.set(node.id, salt);
    } catch (e) {
      // Downstream of a node without a key is quiet: the cause was logged once.
      if (!(e instanceof Quiet)) env.log(`cache: ${node.id}: not cached (${message(e)})`);
    }
    keys.set(node.id, key);
    if (key && node.op === "load_model" && tokenizerKey === null) tokenizerKey = key;
    return key;
  }

  async function readEntry(dir: string, node: GraphNode): Promise<Record<string, Value>> {
    const layout = JSON.parse(await readFile(join(dir, "outputs.json"), "utf8")) as Partial<OutputsFile>;
    if (layout.format !== "tune-node-outputs" || !Array.isArray(layout.ports) || !Array.isArray(layout.files)) throw new CodecError("outputs.json is not a node-outputs file");
    const outputs: Record<string, Value> = {};
    for (const [i, { port, kind }] of layout.ports.entries()) {
      const d = join(dir, "ports", String(i));
      if (kind === "rows") outputs[port] = await readRows(d, pathCtx);
      else if (kind === "tokens") outputs[port] = await readTokens(d, pathCtx);
      else if (kind === "result") outputs[port] = await readResult(d, pathCtx);
      else if (kind === "model") outputs[port] = await readModel(d, node, modelCtx);
      else throw new CodecError(`unknown value kind ${JSON.stringify(kind)}`);
    }
    await restoreFromEntry(join(dir, "run"), layout.files, env.runDir);
    // A cached node's metrics appear in metrics.jsonl as if it had run (entries older than this have none).
    const metrics = await readFile(join(dir, "metrics.json"), "utf8").then((t) => JSON.parse(t) as unknown, () => []);
    if (Array.isArray(metrics)) for (const r of metrics) if (r && typeof r === "object") env.metric?.(r as Record<string, unknown>);
    return outputs;
  }

  async function writeEntry(dir: string, node: GraphNode, outputs: Record<string, Value>, files: string[]): Promise<void> {
    const ports = Object.entries(outputs);
    for (const [i, [, v]] of ports.entries()) {
      const d = join(dir, "ports", String(i));
      await mkdir(d, { recursive: true });
      if (v.kind === "rows") await writeRows(d, v, pathCtx);
      else if (v.kind === "tokens") await writeTokens(d, v, pathCtx);
      else if (v.kind === "result") await writeResult(d, v, pathCtx);
      else await writeModel(d, node, v, pathCtx);
    }
    await copyIntoEntry(env.runDir, files, join(dir, "run"));
    await writeFile(join(dir, "metrics.json"), JSON.stringify(opts.metricsOf?.(node.id) ?? []) + "\n");
    const layout: OutputsFile = { format: "tune-node-outputs", version: 1, ports: ports.map(([port, v]) => ({ port, kind: v.kind })), files };
    await writeFile(join(dir, "outputs.json"), JSON.stringify(layout, null, 2) + "\n");
  }

  return {
    stats,
    store,
    keyOf,

    async get(node) {
      const key = await keyOf(node);
      if (!key || UNCACHED_OPS.has(node.op)) return null;
      let found: Record<string, Value> | null = null;
      try {
        const entry = await store.get(key);
        if (entry) found = await readEntry(entry.dir, node);
      } catch (e) {
        stats.errors++;
        env.log(`cache: ${node.id}: entry ${key.slice(0, 12)} cannot be used (${message(e)}); recomputing`);
        // A sealed entry that does not decode would be returned by every later get: drop it so the recomputed value replaces it.
        await store.rm({ keys: [key] }).catch(() => undefined);
      }
      if (found) {
        stats.hits++;
        values.set(node.id, found);
        env.log(`${node.id}: cached (${key.slice(0, 12)})`);
        return found;
      }
      stats.misses++;
      pending.set(node.id, await snapshotRunDir(env.runDir));
      return null;
    },

    async put(node, outputs) {
      values.set(node.id, outputs);
      const before = pending.get(node.id);
      pending.delete(node.id);
      const key = keys.get(node.id);
      if (!key || !before || UNCACHED_OPS.has(node.op)) return;
      // A node cut short by a stop request (training returns what it has) or run without some inputs is not
      // what its key promises: it must not be reused.
      if (env.stopRequested?.()) return void env.log(`cache: ${node.id}: not stored (the run is stopping; the node may be incomplete)`);
      if (Object.keys(node.inputs).some((port) => inputValue(node, port) === undefined)) return void env.log(`cache: ${node.id}: not stored (it ran without all of its inputs)`);
      try {
        const named = Object.values(outputs).flatMap((v) => (v.kind === "result" ? resultFiles(v, pathCtx) : []));
        const files = [...new Set([...(await changedSince(env.runDir, before)), ...(await expandPaths(env.runDir, named))])].sort();
        const meta = { op: node.op, nodeId: node.id, recipe: env.graph?.recipe ?? "", nodeHash: node.hash, identities: salts.get(node.id) ?? {}, extra: { ports: Object.keys(outputs), files: files.length } };
        await store.put(key, (dir) => writeEntry(dir, node, outputs, files), meta);
        stats.stored++;
      } catch (e) {
        stats.errors++;
        env.log(`cache: ${node.id}: output not stored (${message(e)})`);
      }
    },
  };
}

/** A reason not to cache that was already reported upstream. */
class Quiet extends Error {}

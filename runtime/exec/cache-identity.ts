// What a node reads from outside the graph, as identities for its cache key.
// A node's content hash covers its op, parameters and inputs' hashes, but not
// the bytes behind a path: editing data/alpaca.json or replacing a model's
// weights must miss. load_data is keyed by its data file (the `smoke` file
// under --smoke, resolved as the op resolves it) or by the commit its hub
// dataset's revision resolves to (the same answer the op gets: the resolver
// remembers it for the process), load_model by its model
// directory's files (a hub snapshot by its commit). Both ops resolve paths the
// same way their handlers do, so the key names exactly what the node reads.
import { readdir, stat } from "node:fs/promises";
import { basename, join } from "node:path";
import type { GraphNode } from "../../compiler/graph.js";
import { hubRequestOf, resolveHubCommit } from "../data/hub/index.js";
import { fileIdentity, type Identity } from "../store/index.js";
import { TINY_MODEL_DIR } from "./ops/model.js";
import { hubModelSnapshot } from "../data/hub/settings.js";
import { resolveRecipePath } from "./paths.js";
import type { ExecEnv, SmokeLimits } from "./types.js";

export interface IdentityContext extends Pick<ExecEnv, "recipeDir" | "packageRoot"> {
  readonly smoke: SmokeLimits | null;
}

/** Files of a model directory that decide what loading it gives. */
const MODEL_FILE = /^(config\.json|generation_config\.json|tokenizer\.json|tokenizer_config\.json|special_tokens_map\.json|.*\.safetensors|.*\.safetensors\.index\.json)$/;

/**
 * Memoised file identities: hashing a multi-GB safetensors file on every run would cost more than the cache
 * saves, so a file whose size, mtime and inode are unchanged keeps the sha256 computed earlier in this process.
 */
export class IdentityMemo {
  private readonly seen = new Map<string, { stamp: string; id: Identity }>();

  async file(path: string): Promise<Identity> {
    const s = await stat(path);
    const stamp = `${s.size}:${s.mtimeMs}:${s.ino}`;
    const hit = this.seen.get(path);
    if (hit && hit.stamp === stamp) return hit.id;
    const id = await fileIdentity(path);
    this.seen.set(path, { stamp, id });
    return id;
  }

  /** The identities of a model directory's files, named `model:<file>`. */
  async modelDir(dir: string): Promise<Record<string, Identity>> {
    const out: Record<string, Identity> = {};
    const names = (await readdir(dir)).filter((n) => MODEL_FILE.test(n)).sort();
    if (!names.includes("config.json")) throw new Error(`${dir} has no config.json`);
    for (const n of names) out[`model:${n}`] = await this.file(join(dir, n));
    return out;
  }
}

/** The data file a load_data node reads in this run, or null when it reads none (a hub dataset). */
export function dataPath(node: GraphNode, ctx: IdentityContext): string | null {
  const p = node.params;
  let path = typeof p["path"] === "string" ? p["path"] : null;
  if (ctx.smoke && typeof p["smoke"] === "string") path = p["smoke"];
  return path === null ? null : resolveRecipePath(ctx, path, "data file");
}

/** Where a load_model node loads from in this run (the tiny stand-in under --smoke), or a hub model's snapshot. */
export function modelSource(node: GraphNode, ctx: IdentityContext): { dir: string; hub: { repo: string; revision: string } | null } | null {
  const p = node.params;
  const arch = p["arch"] as { name?: unknown } | null | undefined;
  if (ctx.smoke && arch?.name !== "tiny_llama") return { dir: resolveRecipePath(ctx, TINY_MODEL_DIR, "tiny model"), hub: null };
  if (typeof p["path"] === "string") return { dir: resolveRecipePath(ctx, p["path"], "model directory"), hub: null };
  if (typeof p["hub"] !== "string") return null;
  const revision = String(p["revision"] ?? "main");
  const snap = hubModelSnapshot(p["hub"], revision);
  return snap ? { dir: snap, hub: { repo: p["hub"], revision } } : null;
}

/**
 * Identities of what `node` itself reads from disk. Throws when a path does not resolve (the node will fail
 * the same way when it runs, and nothing downstream is cached).
 */
export async function nodeIdentities(node: GraphNode, ctx: IdentityContext, memo: IdentityMemo): Promise<Record<string, Identity>> {
  if (node.op === "load_data") {
    const file = dataPath(node, ctx);
    if (file !== null) return { data: await memo.file(file) };
    const hub = hubRequestOf(node.params);
    if (!hub || ctx.smoke) throw new Error(`${node.id} reads the hub dataset ${String(node.params["hub"])}, which a smoke run does not download`);
    // config and split are node params (in node.hash); the identity pins what the revision meant.
    const { commit } = await resolveHubCommit(hub);
    return { data: { kind: "hub", type: "dataset", repo: hub.id, config: hub.config ?? null, split: hub.split, revision: hub.revision, commit } };
  }
  if (node.op === "load_model") {
    const src = modelSource(node, ctx);
    if (!src) throw new Error(`${node.id}: model ${String(node.params["hub"] ?? node.params["path"])} is not available locally`);
    // A hub snapshot directory is named by its commit, and the HF cache stores files by content.
    if (src.hub) return { model: { kind: "hub", type: "model", repo: src.hub.repo, revision: src.hub.revision, commit: basename(src.dir) } };
    return memo.modelDir(src.dir);
  }
  return {};
}

/** Whether a filter counts tokens (`tokens(…)`), which reads the tokenizer of the graph's first model. */
export function usesTokenizer(node: GraphNode): boolean {
  return node.op === "filter" && JSON.stringify(node.params["where"] ?? null).includes('"call":"tokens"');
}

/** Ops that, under --smoke, may call the shipped tiny model as a stand-in (an endpoint judge). */
export const STAND_IN_OPS: ReadonlySet<string> = new Set(["judge", "score", "win_rate"]);

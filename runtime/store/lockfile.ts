// tune.lock: what a run resolved everything to, so it can be reproduced and `tune run --frozen` can refuse drift.
//
// Why this exists: a recipe names `meta-llama/Llama-2-7b-hf` at `main` and `data/alpaca.json`; a run reads one
// exact commit and one exact file. The lockfile records those (hub commit, local file sha256 + size, tokenizer and
// template hashes) per graph node, with the recipe hash, graph hash, seed and tune version. It is JSON with sorted
// keys so it diffs cleanly, has a version field and a JSON Schema (`lockJsonSchema`), and keeps top-level keys it
// does not know when rewritten: the file is shared with the recipe registry (cli/registry/lockfile.ts), which
// owns "packages" and the same top-level "version" field.

import { readFile } from "node:fs/promises";
import { z } from "zod";
import type { Graph } from "../../compiler/graph.js";
import { errnoCode, StoreError } from "./errors.js";
import { hashFile, sha256Hex, sortKeys, stableJson, writeJsonAtomic, type JsonValue } from "./fsx.js";
import { graphHash } from "./run-status.js";

export const LOCKFILE_VERSION = 1;

/** How one input a node reads was resolved. Known kinds are checked; other kinds pass through. */
export type Identity =
  | { readonly kind: "file"; readonly path: string; readonly sha256: string; readonly size: number }
  | {
      readonly kind: "hub";
      readonly type: "model" | "dataset";
      readonly repo: string;
      /** Datasets: the configuration (null for the default one) and split read. */
      readonly config?: string | null;
      readonly split?: string;
      readonly revision: string;
      readonly commit: string;
    }
  | { readonly kind: "hash"; readonly what: string; readonly sha256: string };

export interface LockNode {
  readonly hash: string;
  readonly identities: Readonly<Record<string, Identity>>;
  /** Digests of derived data artifacts by output port (`rows:<sha256>`, `tokens:<sha256>`), when the node ran. */
  readonly outputs?: Readonly<Record<string, string>>;
}

export interface TuneLock {
  readonly version: 1;
  readonly recipe: { readonly name: string; readonly sha256: string };
  readonly tune: string;
  readonly graph: string;
  readonly seed: number;
  readonly nodes: Readonly<Record<string, LockNode>>;
  /** Reserved for the recipe registry; never written here, kept as found. */
  readonly packages?: unknown;
  readonly [other: string]: unknown;
}

const identitySchema = z.union([
  z.object({ kind: z.literal("file"), path: z.string(), sha256: z.string().regex(/^[0-9a-f]{64}$/), size: z.number().int().nonnegative() }),
  z.object({ kind: z.literal("hub"), type: z.enum(["model", "dataset"]), repo: z.string(), config: z.string().nullable().optional(), split: z.string().optional(), revision: z.string(), commit: z.string() }),
  z.object({ kind: z.literal("hash"), what: z.string(), sha256: z.string() }),
]);

const lockSchema = z.looseObject({
  version: z.literal(1),
  recipe: z.object({ name: z.string(), sha256: z.string() }),
  tune: z.string(),
  graph: z.string(),
  seed: z.number(),
  nodes: z.record(z.string(), z.object({ hash: z.string(), identities: z.record(z.string(), identitySchema), outputs: z.record(z.string(), z.string()).optional() })),
  packages: z.unknown().optional(),
});

/** The JSON Schema of tune.lock (draft 2020-12), generated from the same definition the reader checks. */
export function lockJsonSchema(): Record<string, unknown> {
  return { $id: "https://tune.dev/schema/tune.lock.json", title: "tune.lock", ...z.toJSONSchema(lockSchema) } as Record<string, unknown>;
}

export interface BuildLockInput {
  readonly recipeName: string;
  readonly recipeText: string;
  readonly tuneVersion: string;
  readonly graph: Graph;
  /** Per node id, the identities it read (nodes with none may be omitted). */
  readonly identities?: Readonly<Record<string, Readonly<Record<string, Identity>>>>;
}

export function buildLock(input: BuildLockInput): TuneLock {
  const nodes: Record<string, LockNode> = {};
  for (const n of input.graph.nodes) nodes[n.id] = { hash: n.hash, identities: { ...(input.identities?.[n.id] ?? {}) } };
  return {
    version: 1,
    recipe: { name: input.recipeName, sha256: sha256Hex(input.recipeText) },
    tune: input.tuneVersion,
    graph: graphHash(input.graph),
    seed: input.graph.seed,
    nodes,
  };
}

/** Deterministic text: keys sorted at every level, 2-space indent, trailing newline. */
export function serializeLock(lock: TuneLock): string {
  return stableJson(lock);
}

/** Parse lockfile text; T9202 for another version, T9201 for anything malformed. */
export function parseLock(text: string, where = "tune.lock"): TuneLock {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new StoreError("T9201", `${where} is not valid JSON (${(e as Error).message})`, "regenerate it with `tune lock <recipe>`");
  }
  const version = (raw as { version?: unknown } | null)?.version;
  if (typeof version === "number" && version !== LOCKFILE_VERSION) {
    throw new StoreError("T9202", `${where} has version ${version}; this tune reads version ${LOCKFILE_VERSION}`, "use the tune version that wrote it, or regenerate it with `tune lock <recipe>`");
  }
  const r = lockSchema.safeParse(raw);
  if (!r.success) {
    const i = r.error.issues[0];
    throw new StoreError("T9201", `${where} is malformed at ${i?.path.join(".") || "top level"}: ${i?.message}`, "regenerate it with `tune lock <recipe>`");
  }
  return r.data as TuneLock;
}

/** Engine keys: a tune.lock with none of them holds only other sections (the registry's packages). */
const ENGINE_KEYS = ["recipe", "graph", "nodes", "seed"];

/** The engine part of the lockfile at `path`, or null when there is no file or it holds only other sections. */
export async function readLock(path: string): Promise<TuneLock | null> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (e) {
    if (errnoCode(e) === "ENOENT") return null;
    throw e;
  }
  const raw = jsonObject(text);
  if (raw && !ENGINE_KEYS.some((k) => k in raw)) return null;
  return parseLock(text, path);
}

function jsonObject(text: string): Record<string, unknown> | null {
  try {
    const v = JSON.parse(text) as unknown;
    return v && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/** `next` plus every top-level key of `previous` that `next` does not set (the registry's "packages", …). */
export function mergeLock(previous: Readonly<Record<string, unknown>> | null, next: TuneLock): TuneLock {
  if (!previous) return next;
  const kept = Object.fromEntries(Object.entries(previous).filter(([k]) => !(k in next)));
  return { ...kept, ...next } as TuneLock;
}

/**
 * Write `lock` atomically, keeping every top-level key of the file it replaces that `lock` does not set — even
 * when that file holds no engine section yet or an outdated one. Returns what was written.
 */
export async function writeLock(path: string, lock: TuneLock): Promise<TuneLock> {
  const previous = await readFile(path, "utf8").then(jsonObject, () => null);
  const merged = mergeLock(previous, lock);
  await writeJsonAtomic(path, merged);
  return merged;
}

// ---- identities

export async function fileIdentity(path: string): Promise<Identity> {
  const { sha256, size } = await hashFile(path);
  return { kind: "file", path, sha256, size };
}

/**
 * Identities as cache-key salt (`cacheKey(node.hash, identitySalt(ids))`): content only, so moving a file keeps
 * its cache entries while editing it invalidates them.
 */
export function identitySalt(identities: Readonly<Record<string, Identity>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, id] of Object.entries(identities)) {
    if (id.kind === "file") out[name] = `file:${id.sha256}:${id.size}`;
    else if (id.kind === "hub") out[name] = `hub:${id.type}:${id.repo}@${id.commit}${id.split !== undefined ? `:${id.config ?? ""}/${id.split}` : ""}`;
    else out[name] = `hash:${id.what}:${id.sha256}`;
  }
  return out;
}

// ---- diff

export interface LockChange {
  readonly kind: "added" | "removed" | "changed";
  /** Keys from the root, e.g. ["nodes", "load_data:alpaca", "identities", "data", "sha256"]. */
  readonly path: readonly string[];
  readonly before?: JsonValue;
  readonly after?: JsonValue;
}

/** Every leaf-level difference between two lockfiles (or any JSON values), in sorted key order. */
export function diffLocks(a: unknown, b: unknown): LockChange[] {
  const out: LockChange[] = [];
  walk(sortKeys(a) as JsonValue, sortKeys(b) as JsonValue, [], out);
  return out;
}

const isObject = (v: unknown): v is Record<string, JsonValue> => v !== null && typeof v === "object" && !Array.isArray(v);

function walk(a: JsonValue, b: JsonValue, path: string[], out: LockChange[]): void {
  if (isObject(a) && isObject(b)) {
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
    for (const k of keys) {
      if (!(k in b)) out.push({ kind: "removed", path: [...path, k], before: a[k] });
      else if (!(k in a)) out.push({ kind: "added", path: [...path, k], after: b[k] });
      else walk(a[k]!, b[k]!, [...path, k], out);
    }
  } else if (JSON.stringify(a) !== JSON.stringify(b)) out.push({ kind: "changed", path, before: a, after: b });
}

/** One line per change: `~ nodes.load_data:x.identities.data.sha256: 3f2a… → 9c1b…`. */
export function renderLockDiff(changes: readonly LockChange[]): string {
  const short = (v: JsonValue | undefined): string => {
    const s = JSON.stringify(v);
    return s.length > 72 ? s.slice(0, 69) + "…" : s;
  };
  return changes
    .map((c) => {
      const p = c.path.join(".");
      if (c.kind === "added") return `+ ${p}: ${short(c.after)}\n`;
      if (c.kind === "removed") return `- ${p}: ${short(c.before)}\n`;
      return `~ ${p}: ${short(c.before)} → ${short(c.after)}\n`;
    })
    .join("");
}

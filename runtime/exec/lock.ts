// The lockfile as the executor makes and checks it: what every node read
// (file sha256, hub commit), the node hashes, and the digest of every derived
// data artifact (the rows a filter/sample/mix kept, the tokens a stage trains
// on). `tune lock` writes it, every run leaves one in its directory, and
// `tune run --frozen` refuses to run when anything resolves differently —
// before any compute for inputs, and as soon as a data node produces other
// rows than the lock recorded.
import { createHash } from "node:crypto";
import type { Graph } from "../../compiler/graph.js";
import { TUNE_VERSION } from "../../compiler/version.js";
import { buildLock, identitySalt, type Identity, type TuneLock } from "../store/index.js";
import { IdentityMemo, nodeIdentities, type IdentityContext } from "./cache-identity.js";
import type { Value } from "./types.js";

/**
 * sha256 of a rows or tokens value (content only: field values, token ids and labels, in order); null for
 * others. Rows hash as JSON.stringify(row.values) + "\n" each. In-memory values only: a lazy rows value (one
 * that streams from its file) is read by `valueDigestAsync`, which gives the same digest for the same rows.
 */
export function valueDigest(v: Value): string | null {
  if (v.kind !== "rows" && v.kind !== "tokens") return null;
  const h = createHash("sha256");
  if (v.kind === "rows") {
    if (!v.rows) throw new Error(`internal: the rows from ${v.source} stream; digest them with valueDigestAsync`);
    for (const r of v.rows) h.update(JSON.stringify(r.values) + "\n");
  } else {
    for (const e of v.examples) h.update(JSON.stringify([e.inputIds, e.labels]) + "\n");
    for (const p of v.pairs) h.update(JSON.stringify(p.values) + "\n");
  }
  return `${v.kind}:${h.digest("hex")}`;
}

/** `valueDigest` for either form of rows: a lazy value is read in one pass, in constant memory. */
export async function valueDigestAsync(v: Value): Promise<string | null> {
  if (v.kind !== "rows" || v.rows) return valueDigest(v);
  const h = createHash("sha256");
  for await (const r of v.stream()) h.update(JSON.stringify(r.values) + "\n");
  return `rows:${h.digest("hex")}`;
}

/** Digests of a node's outputs by port (only ports with rows or tokens); in-memory values only. */
export function outputDigests(outputs: Readonly<Record<string, Value>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [port, v] of Object.entries(outputs)) {
    const d = valueDigest(v);
    if (d) out[port] = d;
  }
  return out;
}

/** `outputDigests` for outputs that may stream (each lazy port is read once). */
export async function outputDigestsAsync(outputs: Readonly<Record<string, Value>>): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const [port, v] of Object.entries(outputs)) {
    const d = await valueDigestAsync(v);
    if (d) out[port] = d;
  }
  return out;
}

export interface LockInput {
  graph: Graph;
  recipeText: string;
  ctx: IdentityContext;
  /** Node outputs of a run (their digests are recorded); none for `tune lock` without data. */
  values?: ReadonlyMap<string, Readonly<Record<string, Value>>>;
}

/** The lock of a graph: identities of what each node reads (nodes whose inputs do not resolve get none). */
export async function graphLock(i: LockInput): Promise<TuneLock> {
  const memo = new IdentityMemo();
  const identities: Record<string, Record<string, Identity>> = {};
  for (const node of i.graph.nodes) {
    try {
      identities[node.id] = await nodeIdentities(node, i.ctx, memo);
    } catch {
      identities[node.id] = {};
    }
  }
  const lock = buildLock({ recipeName: i.graph.recipe, recipeText: i.recipeText, tuneVersion: TUNE_VERSION, graph: i.graph, identities });
  if (!i.values) return lock;
  const nodes = { ...lock.nodes };
  for (const [id, n] of Object.entries(nodes)) {
    const outputs = i.values.get(id);
    const digests = outputs ? await outputDigestsAsync(outputs) : {};
    if (Object.keys(digests).length > 0) nodes[id] = { ...n, outputs: digests };
  }
  return { ...lock, nodes };
}

/**
 * What resolves differently now than in `locked`: recipe text, graph, seed, tune version, node hashes and the
 * content of every identity (file sha256 and size, hub commit; paths may differ between machines). One line each.
 */
export function inputDifferences(locked: TuneLock, now: TuneLock): string[] {
  const out: string[] = [];
  if (locked.recipe.name !== now.recipe.name) out.push(`the lock is for recipe \`${locked.recipe.name}\`, not \`${now.recipe.name}\``);
  if (locked.recipe.sha256 !== now.recipe.sha256) out.push(`recipe text changed (sha256 ${short(locked.recipe.sha256)} → ${short(now.recipe.sha256)})`);
  if (locked.tune !== now.tune) out.push(`tune version ${locked.tune} → ${now.tune}`);
  if (locked.seed !== now.seed) out.push(`seed ${locked.seed} → ${now.seed}`);
  for (const [id, n] of Object.entries(now.nodes)) {
    const l = locked.nodes[id];
    if (!l) {
      out.push(`${id}: not in the lock`);
      continue;
    }
    if (l.hash !== n.hash) out.push(`${id}: node hash ${short(l.hash)} → ${short(n.hash)}`);
    const a = identitySalt(l.identities);
    const b = identitySalt(n.identities);
    for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) {
      if (a[k] !== b[k]) out.push(`${id}: ${k} ${describe(l.identities[k])} → ${describe(n.identities[k])}`);
    }
  }
  for (const id of Object.keys(locked.nodes)) if (!now.nodes[id]) out.push(`${id}: in the lock, not in the recipe`);
  return out;
}

/** A node's outputs against the lock: null when they match (or the lock has no digests for it). In-memory values only. */
export function outputDifference(locked: TuneLock, nodeId: string, outputs: Readonly<Record<string, Value>>): string | null {
  return differenceFrom(locked, nodeId, () => outputDigests(outputs));
}

/** `outputDifference` for outputs that may stream (a lazy port is read once to digest it). */
export async function outputDifferenceAsync(locked: TuneLock, nodeId: string, outputs: Readonly<Record<string, Value>>): Promise<string | null> {
  if (!locked.nodes[nodeId]?.outputs) return null;
  const now = await outputDigestsAsync(outputs);
  return differenceFrom(locked, nodeId, () => now);
}

function differenceFrom(locked: TuneLock, nodeId: string, digests: () => Record<string, string>): string | null {
  const expected = locked.nodes[nodeId]?.outputs;
  if (!expected) return null;
  const now = digests();
  for (const [port, d] of Object.entries(expected)) {
    if (now[port] !== d) return `${nodeId}.${port}: produced ${now[port] ? short(now[port]!.split(":")[1]!) : "nothing"}, the lock recorded ${short(d.split(":")[1] ?? d)}`;
  }
  return null;
}

function short(h: string): string {
  return h.length > 12 ? h.slice(0, 12) + "…" : h;
}

function describe(id: Identity | undefined): string {
  if (!id) return "(none)";
  if (id.kind === "file") return `${id.path} sha256 ${short(id.sha256)} (${id.size} B)`;
  if (id.kind === "hub") return `${id.repo}@${id.revision} = ${short(id.commit)}`;
  return `${id.what} ${short(id.sha256)}`;
}

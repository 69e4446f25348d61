// The `meta.json` of a cache entry: what produced it (op, node id, recipe, identities) and the size and sha256
// of every file, sealed with a checksum over the metadata itself.
//
// Why this exists: the cache must never hand back a half-written or bit-rotted entry. The entry directory is
// renamed into place only when complete, so a torn write cannot appear under a key; the per-file checksums catch
// what happens afterwards (disk errors, a user editing files, a copy interrupted by rsync), and the seal catches a
// damaged meta.json. Verification lives here, apart from the store's bookkeeping.

import { lstat } from "node:fs/promises";
import { join } from "node:path";
import { z } from "zod";
import { hashFile, listTree, sha256Hex, sortKeys, type JsonValue } from "./fsx.js";

export const KEY_RE = /^[0-9a-f]{64}$/;

export interface FileDigest {
  readonly size: number;
  readonly sha256: string;
}

export interface CacheEntryMeta {
  readonly format: "tune-cache-entry";
  readonly version: 1;
  readonly key: string;
  readonly nodeHash: string | null;
  readonly op: string;
  readonly nodeId: string;
  readonly recipe: string;
  /** Model/data/tokenizer identities salted into the key (file sha256, hub commit, …). */
  readonly identities: Readonly<Record<string, string>>;
  /** ISO 8601 UTC. */
  readonly created: string;
  /** Relative `/`-separated path → digest, for every file of the entry's output directory. */
  readonly files: Readonly<Record<string, FileDigest>>;
  readonly bytes: number;
  /** Caller data kept with the entry (row counts, the node's headline numbers, …). */
  readonly extra: JsonValue;
  /** sha256 over the canonical JSON of every other field. */
  readonly seal: string;
}

/** What a caller says about an entry it puts. */
export interface PutMeta {
  readonly op: string;
  readonly nodeId: string;
  readonly recipe: string;
  readonly nodeHash?: string;
  readonly identities?: Readonly<Record<string, string>>;
  readonly extra?: JsonValue;
}

const metaSchema = z.object({
  format: z.literal("tune-cache-entry"),
  version: z.literal(1),
  key: z.string().regex(KEY_RE),
  nodeHash: z.string().nullable(),
  op: z.string(),
  nodeId: z.string(),
  recipe: z.string(),
  identities: z.record(z.string(), z.string()),
  created: z.string(),
  files: z.record(z.string(), z.object({ size: z.number().int().nonnegative(), sha256: z.string().regex(KEY_RE) })),
  bytes: z.number().int().nonnegative(),
  extra: z.unknown(),
  seal: z.string(),
});

/**
 * The cache key of a node: its content hash alone when it reads no external identity, otherwise a hash of the
 * node hash and the identities (so a re-downloaded model with a new commit is a miss, never a stale hit).
 */
export function cacheKey(nodeHash: string, identities: Readonly<Record<string, string>> = {}): string {
  if (!KEY_RE.test(nodeHash)) throw new Error(`cacheKey: node hash must be 64 hex digits, got ${JSON.stringify(nodeHash)}`);
  if (Object.keys(identities).length === 0) return nodeHash;
  return sha256Hex(`tune-cache-key/1\n${nodeHash}\n${JSON.stringify(sortKeys(identities))}`);
}

function sealOf(meta: Omit<CacheEntryMeta, "seal">): string {
  const { seal: _ignored, ...rest } = meta as CacheEntryMeta;
  return sha256Hex(JSON.stringify(sortKeys(rest)));
}

export function buildMeta(key: string, put: PutMeta, files: Record<string, FileDigest>, created: Date): CacheEntryMeta {
  const bytes = Object.values(files).reduce((s, f) => s + f.size, 0);
  const body = {
    format: "tune-cache-entry" as const,
    version: 1 as const,
    key,
    nodeHash: put.nodeHash ?? null,
    op: put.op,
    nodeId: put.nodeId,
    recipe: put.recipe,
    identities: { ...(put.identities ?? {}) },
    created: created.toISOString(),
    files,
    bytes,
    extra: put.extra ?? null,
  };
  return { ...body, seal: sealOf(body) };
}

/** Parse and check a meta.json text; returns the meta or the reason it is unusable. */
export function parseMeta(text: string, key: string): CacheEntryMeta | string {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return "meta.json is not valid JSON";
  }
  const parsed = metaSchema.safeParse(raw);
  if (!parsed.success) return `meta.json is malformed (${parsed.error.issues[0]?.path.join(".")}: ${parsed.error.issues[0]?.message})`;
  const meta = parsed.data as CacheEntryMeta;
  if (sealOf(meta) !== meta.seal) return "meta.json does not match its seal (edited or damaged)";
  if (meta.key !== key) return `meta.json belongs to key ${meta.key.slice(0, 12)}…, not this one`;
  return meta;
}

export type VerifyLevel = "full" | "size";

/**
 * Check an entry's output directory against its meta: exactly the listed files, nothing else, each of the
 * recorded size and (level "full") sha256. Returns null when it matches, else the first problem.
 */
export async function verifyFiles(outDir: string, meta: CacheEntryMeta, level: VerifyLevel): Promise<string | null> {
  let listing;
  try {
    listing = await listTree(outDir);
  } catch {
    return "output directory is missing";
  }
  if (listing.other.length > 0) return `unexpected non-file ${listing.other[0]}`;
  const expected = Object.keys(meta.files).sort();
  const extra = listing.files.filter((f) => !(f in meta.files));
  if (extra.length > 0) return `unexpected file ${extra[0]}`;
  const missing = expected.filter((f) => !listing.files.includes(f));
  if (missing.length > 0) return `missing file ${missing[0]}`;
  for (const f of expected) {
    const want = meta.files[f]!;
    const path = join(outDir, f);
    const size = (await lstat(path)).size;
    if (size !== want.size) return `${f}: size ${size} ≠ recorded ${want.size}`;
    if (level === "full" && (await hashFile(path)).sha256 !== want.sha256) return `${f}: sha256 differs from the recorded checksum`;
  }
  return null;
}

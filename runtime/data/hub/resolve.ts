// A recipe's `dataset { hub = "org/name"  config = …  split = …  revision = … }` → local files in the HF cache.
//
// Why this exists: it is the one place that decides when to go to the Hub and when the cache is enough.
//   - a revision that is a full commit, already in the cache: no request at all;
//   - otherwise, online: revision → commit (1 request, remembered for the process so the cache key and the
//     rows name the same commit), the file tree at that commit (1 request), and a download of each selected
//     file whose blob is missing, verified before it enters the cache; then snapshot links and refs/<revision>;
//   - offline (HF_HUB_OFFLINE=1) or when the Hub cannot be reached: refs/<revision> → snapshot, or T7201.
// The files returned are read in order by openHubFiles (./open.ts) through the ordinary data sources.

import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { HubClient, HubUnreachable, type TreeFile } from "./client.js";
import { checkRepoPath, COMMIT_RE, RepoCache, verifyCachedFile, type Expected } from "./cache-layout.js";
import { HubDatasetError, provideLocally } from "./errors.js";
import { incompleteShards, selectFiles, type HubFormat } from "./select.js";
import { hubCacheDir, hubEndpoint, hubOffline, hubToken, type Env } from "./settings.js";

export interface HubDatasetRequest {
  /** `org/name` on the Hub. */
  readonly id: string;
  readonly config?: string;
  /** Default "train". */
  readonly split?: string;
  /** Branch, tag or full commit sha; default "main". */
  readonly revision?: string;
  /** Default `$HF_HUB_CACHE`, `$HF_HOME/hub` or `~/.cache/huggingface/hub`. */
  readonly cacheDir?: string;
  /** Default `$HF_ENDPOINT` or https://huggingface.co. */
  readonly endpoint?: string;
  /** Default `$HF_TOKEN` or the `huggingface-cli login` token. Never logged. */
  readonly token?: string;
  /** Default `$HF_HUB_OFFLINE`. */
  readonly offline?: boolean;
  readonly fetch?: typeof fetch;
  /** Progress lines (downloads, cache fallbacks). */
  readonly log?: (line: string) => void;
  /** Remember revision → commit for this process (default true). */
  readonly memo?: boolean;
  /** Environment the defaults are read from (default process.env). */
  readonly env?: Env;
}

export interface ResolvedHubDataset {
  readonly commit: string;
  /** Absolute paths of the selected files in `snapshots/<commit>/`, in reading order. */
  readonly files: string[];
  readonly format: HubFormat;
  /** The same files as repo paths (e.g. `data/train-00000-of-00001.parquet`). */
  readonly repoPaths: string[];
  /** Where the commit and files came from: the Hub, or the cache alone. */
  readonly source: "hub" | "cache";
}

interface Resolved {
  readonly id: string;
  readonly config?: string;
  readonly split: string;
  readonly revision: string;
  readonly endpoint: string;
  readonly offline: boolean;
  readonly memo: boolean;
  readonly log: (line: string) => void;
  readonly cache: RepoCache;
  readonly client: () => HubClient;
}

const ID_RE = /^(?:[A-Za-z0-9][\w.-]*\/)?[A-Za-z0-9][\w.-]*$/;

function settle(req: HubDatasetRequest): Resolved {
  const env = req.env ?? process.env;
  if (!ID_RE.test(req.id) || req.id.includes("..") || req.id.includes("--")) {
    throw new HubDatasetError("T7208", `\`${req.id}\` is not a hub dataset id`, "write it as `org/name`, as on the dataset's Hub page");
  }
  const endpoint = (req.endpoint ?? hubEndpoint(env)).replace(/\/+$/, "");
  if (!/^https?:\/\/[^/]+/.test(endpoint) || !URL.canParse(endpoint)) {
    throw new HubDatasetError("T7207", `the Hub endpoint \`${endpoint}\` is not an http(s) URL`, "set HF_ENDPOINT to the Hub's address, e.g. https://huggingface.co, or unset it");
  }
  let client: HubClient | null = null;
  return {
    id: req.id,
    config: req.config,
    split: req.split ?? "train",
    revision: req.revision ?? "main",
    endpoint,
    offline: req.offline ?? hubOffline(env),
    memo: req.memo ?? true,
    log: req.log ?? (() => undefined),
    cache: new RepoCache(req.cacheDir ?? hubCacheDir(env), req.id),
    client: () => (client ??= new HubClient({ endpoint, token: req.token ?? hubToken(env), fetch: req.fetch })),
  };
}

/** revision → commit answers of this process, so every node of a run sees one commit per revision. */
const commits = new Map<string, string>();
const memoKey = (r: Resolved) => `${r.endpoint}\n${r.cache.cacheDir}\n${r.id}\n${r.revision}`;

async function onlineCommit(r: Resolved): Promise<string> {
  if (COMMIT_RE.test(r.revision)) return r.revision;
  const hit = r.memo ? commits.get(memoKey(r)) : undefined;
  if (hit) return hit;
  const commit = await r.client().commitOf(r.id, r.revision);
  if (r.memo) commits.set(memoKey(r), commit);
  return commit;
}

/** Download (when missing), verify and resolve one dataset split to files in the local HF cache. */
export async function resolveHubDataset(req: HubDatasetRequest): Promise<ResolvedHubDataset> {
  const r = settle(req);
  if (COMMIT_RE.test(r.revision)) {
    const pinned = await fromSnapshot(r, r.revision).catch(() => null);
    if (pinned) return pinned;
  }
  if (r.offline) return fromCache(r, "HF_HUB_OFFLINE is set");
  let commit: string | null = null;
  try {
    commit = await onlineCommit(r);
    return await fromHub(r, commit);
  } catch (e) {
    if (!(e instanceof HubUnreachable)) throw e;
    r.log(`${e.message}; looking in the local cache`);
    return fromCache(r, e.message, commit);
  }
}

/**
 * The commit a hub dataset's revision stands for, without downloading data: for cache keys and tune.lock.
 * Offline or unreachable, the commit recorded in refs/<revision>; T7201 when there is none.
 */
export async function resolveHubCommit(req: HubDatasetRequest): Promise<{ commit: string; source: "hub" | "cache" | "pinned" }> {
  const r = settle(req);
  if (COMMIT_RE.test(r.revision)) return { commit: r.revision, source: "pinned" };
  if (!r.offline) {
    try {
      return { commit: await onlineCommit(r), source: "hub" };
    } catch (e) {
      if (!(e instanceof HubUnreachable)) throw e;
    }
  }
  const commit = await r.cache.readRef(r.revision);
  if (!commit) throw notCached(r, r.offline ? "HF_HUB_OFFLINE is set" : "the Hub cannot be reached", `no refs/${r.revision} in ${r.cache.dir}`);
  return { commit, source: "cache" };
}

// ---- the cache alone

async function fromCache(r: Resolved, why: string, known: string | null = null): Promise<ResolvedHubDataset> {
  const commit = known ?? (COMMIT_RE.test(r.revision) ? r.revision : await r.cache.readRef(r.revision));
  if (!commit) throw notCached(r, why, `no refs/${r.revision} in ${r.cache.dir}`);
  try {
    const got = await fromSnapshot(r, commit);
    if (got) return got;
  } catch (e) {
    if (e instanceof HubDatasetError && e.code === "T7204") throw notCached(r, why, `the cached snapshot ${commit} holds no files for it (${e.message})`);
    throw e;
  }
  throw notCached(r, why, `snapshots/${commit} is missing or incomplete in ${r.cache.dir}`);
}

/** The selected files of a cached snapshot, verified; null when the snapshot is absent or visibly incomplete. */
async function fromSnapshot(r: Resolved, commit: string): Promise<ResolvedHubDataset | null> {
  const paths = await r.cache.snapshotFiles(commit);
  if (paths.length === 0) return null;
  const readme = paths.includes("README.md") ? await readFile(join(r.cache.snapshot(commit), "README.md"), "utf8") : null;
  const sel = selectFiles(paths, readme, { id: r.id, config: r.config, split: r.split, partial: true });
  const gap = incompleteShards(sel.files);
  if (gap) {
    r.log(`cached snapshot ${commit.slice(0, 12)} is incomplete (${gap})`);
    return null;
  }
  const files: string[] = [];
  for (const p of sel.files) files.push(await verifyCachedFile(join(r.cache.snapshot(commit), ...p.split("/")), `${r.id}/${p}@${commit.slice(0, 12)}`));
  return { commit, files, format: sel.format, repoPaths: sel.files, source: "cache" };
}

function notCached(r: Resolved, why: string, detail: string): HubDatasetError {
  const what = `hub dataset ${r.id}${r.config !== undefined ? ` (config ${r.config})` : ""} split ${r.split} at ${r.revision}`;
  return new HubDatasetError("T7201", `${what} is not available: ${why}, and the local Hugging Face cache has no copy (${detail})`, provideLocally(r.id, r.revision));
}

// ---- the Hub

async function fromHub(r: Resolved, commit: string): Promise<ResolvedHubDataset> {
  const tree = await r.client().tree(r.id, commit, r.revision);
  for (const f of tree) checkRepoPath(f.path, r.id);
  const card = tree.find((f) => f.path === "README.md");
  const readme = card ? await readFile(await fetchFile(r, commit, card), "utf8") : null;
  const sel = selectFiles(
    tree.map((f) => f.path),
    readme,
    r,
  );
  const byPath = new Map(tree.map((f) => [f.path, f]));
  const files: string[] = [];
  for (const p of sel.files) files.push(await fetchFile(r, commit, byPath.get(p)!));
  await r.cache.writeRef(r.revision, commit);
  for (let i = 0; i < files.length; i++) files[i] = await verifyCachedFile(files[i], `${r.id}/${sel.files[i]}@${commit.slice(0, 12)}`);
  return { commit, files, format: sel.format, repoPaths: sel.files, source: "hub" };
}

/** Make sure `f`'s blob is in the cache (downloading and verifying it when not) and linked into the snapshot. */
async function fetchFile(r: Resolved, commit: string, f: TreeFile): Promise<string> {
  const etag = f.lfs?.oid ?? f.oid;
  if (!/^[0-9a-f]{40}([0-9a-f]{24})?$/.test(etag)) {
    throw new HubDatasetError("T7207", `the Hub lists ${r.id}/${f.path} without a usable hash (${JSON.stringify(etag)})`, `check HF_ENDPOINT (${r.endpoint}) points at a Hugging Face Hub`);
  }
  if (!(await r.cache.hasBlob(etag))) {
    const expect: Expected = f.lfs ? { size: f.lfs.size, sha256: f.lfs.oid } : { size: f.size, gitSha1: f.oid };
    r.log(`downloading ${r.id}/${f.path} (${sizeText(expect.size)})`);
    const chunks = await r.client().download(r.id, commit, f.path, r.revision);
    await r.cache.writeBlob(etag, chunks, expect, `${r.id}/${f.path}@${commit.slice(0, 12)}`);
  }
  return r.cache.link(commit, f.path, etag);
}

function sizeText(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ["KiB", "MiB", "GiB", "TiB"];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(1)} ${units[i]}`;
}

/**
 * The request a `load_data` node's params describe (`hub`, `config`, `split`, `revision`), or null when the
 * node names no hub dataset. The executor and the cache identity both build their request here, so they ask
 * for the same thing.
 */
export function hubRequestOf(params: Readonly<Record<string, unknown>>): { id: string; config?: string; split: string; revision: string } | null {
  if (typeof params["hub"] !== "string") return null;
  return {
    id: params["hub"],
    ...(typeof params["config"] === "string" ? { config: params["config"] } : {}),
    split: typeof params["split"] === "string" ? params["split"] : "train",
    revision: typeof params["revision"] === "string" ? params["revision"] : "main",
  };
}

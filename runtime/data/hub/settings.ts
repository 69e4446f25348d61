// Where the Hub is, where its cache lives, which token to send and whether to go online: read from the same
// environment variables huggingface_hub (Python) reads, so one `export HF_HOME=…` serves both tools.
//
// Why this exists: a user who already works with `huggingface-cli` has set these up once (a mirror in
// HF_ENDPOINT, a cache on a big disk in HF_HUB_CACHE, a token from `huggingface-cli login`); tune must honour
// them rather than invent its own. The token is read here and never printed anywhere.

import { existsSync, readdirSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";

export type Env = Readonly<Record<string, string | undefined>>;

const DEFAULT_ENDPOINT = "https://huggingface.co";

/** `$HF_HOME`, else `$XDG_CACHE_HOME/huggingface`, else `~/.cache/huggingface` (huggingface_hub's rule). */
export function hfHome(env: Env = process.env): string {
  if (env["HF_HOME"]) return env["HF_HOME"];
  if (env["XDG_CACHE_HOME"]) return join(env["XDG_CACHE_HOME"], "huggingface");
  return join(homedir(), ".cache", "huggingface");
}

/** The hub cache: `$HF_HUB_CACHE` (or the legacy `$HUGGINGFACE_HUB_CACHE`), else `<HF_HOME>/hub`. */
export function hubCacheDir(env: Env = process.env): string {
  return env["HF_HUB_CACHE"] || env["HUGGINGFACE_HUB_CACHE"] || join(hfHome(env), "hub");
}

/**
 * The snapshot directory of model `repo` at `revision` (branch/tag via refs/, a commit, or a commit prefix) in
 * the hub cache, or null. Models are read from there as `huggingface-cli download` leaves them.
 */
export function hubModelSnapshot(repo: string, revision: string, cache = hubCacheDir()): string | null {
  const base = join(cache, `models--${repo.replace(/\//g, "--")}`);
  if (!existsSync(base)) return null;
  const ref = join(base, "refs", revision);
  const commit = existsSync(ref) ? readFileSync(ref, "utf8").trim() : revision;
  if (existsSync(join(base, "snapshots", commit))) return join(base, "snapshots", commit);
  const snaps = existsSync(join(base, "snapshots")) ? readdirSync(join(base, "snapshots")) : [];
  const prefix = snaps.find((s) => s.startsWith(revision));
  return prefix ? join(base, "snapshots", prefix) : null;
}

/** `$HF_ENDPOINT` without a trailing slash, else https://huggingface.co. */
export function hubEndpoint(env: Env = process.env): string {
  const e = (env["HF_ENDPOINT"] || DEFAULT_ENDPOINT).trim();
  return e.replace(/\/+$/, "");
}

const TRUE_WORDS = new Set(["1", "on", "yes", "true", "y", "t"]);

/** `HF_HUB_OFFLINE` (or `HF_DATASETS_OFFLINE`) set to a true word, as huggingface_hub parses it. */
export function hubOffline(env: Env = process.env): boolean {
  return [env["HF_HUB_OFFLINE"], env["HF_DATASETS_OFFLINE"]].some((v) => v !== undefined && TRUE_WORDS.has(v.trim().toLowerCase()));
}

/**
 * The token to send: `$HF_TOKEN`, the legacy `$HUGGING_FACE_HUB_TOKEN`, else the file `huggingface-cli login`
 * writes (`$HF_TOKEN_PATH` or `<HF_HOME>/token`). Undefined when there is none. Never log the result.
 */
export function hubToken(env: Env = process.env): string | undefined {
  const direct = env["HF_TOKEN"] || env["HUGGING_FACE_HUB_TOKEN"];
  if (direct && direct.trim()) return direct.trim();
  try {
    const t = readFileSync(env["HF_TOKEN_PATH"] || join(hfHome(env), "token"), "utf8").trim();
    return t === "" ? undefined : t;
  } catch {
    return undefined;
  }
}

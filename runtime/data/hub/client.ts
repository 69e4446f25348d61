// The three Hub calls a dataset needs, through @huggingface/hub: revision → commit (dataset info with
// `expand=sha`), the recursive file tree at that commit, and one file's bytes (resolve/<commit>/<path>).
//
// Why this exists: the library speaks HTTP; this module turns its outcomes into what the resolver can act on.
// Its own fetch wrapper (1) adds the token as a header, only for the endpoint's origin (a redirect to a CDN
// never carries it; the library would also refuse tokens not starting with `hf_`, which mirrors may issue),
// (2) turns a connection failure into HubUnreachable so the resolver can fall back to the cache, and (3) keeps
// the Hub's `X-Error-Code` so a 401 for a gated dataset reads differently from a 401 for a missing one.

import type { ListFileEntry } from "@huggingface/hub";
import { TUNE_VERSION } from "../../../compiler/version.js";
import { HubDatasetError, provideLocally } from "./errors.js";

/** The Hub could not be reached at all (DNS, refused connection, TLS, timeout): the cache may still serve. */
export class HubUnreachable extends Error {
  constructor(readonly url: string, reason: string) {
    super(`cannot reach ${new URL(url).origin} (${reason})`);
    this.name = "HubUnreachable";
  }
}

export interface ClientOptions {
  readonly endpoint: string;
  readonly token?: string;
  readonly fetch?: typeof fetch;
}

export interface TreeFile {
  readonly path: string;
  readonly size: number;
  /** Git blob sha1 of the file (or of its LFS pointer). */
  readonly oid: string;
  readonly lfs?: { readonly oid: string; readonly size: number };
}

type HubModule = typeof import("@huggingface/hub");
let hubModule: Promise<HubModule> | null = null;
/** Loaded on first use: a run that finds everything in the cache never loads the library. */
const hub = (): Promise<HubModule> => (hubModule ??= import("@huggingface/hub"));

function reasonOf(e: unknown): string {
  const cause = (e as { cause?: { code?: unknown; message?: unknown } }).cause;
  const code = typeof cause?.code === "string" ? cause.code : "";
  const msg = typeof cause?.message === "string" ? cause.message : e instanceof Error ? e.message : String(e);
  return code && !msg.includes(code) ? `${code}: ${msg}` : msg || code;
}

export class HubClient {
  private readonly endpoint: string;
  private readonly origin: string;
  private readonly errorCodes = new Map<string, string>();
  readonly fetch: typeof fetch;

  constructor(private readonly opts: ClientOptions) {
    this.endpoint = opts.endpoint;
    this.origin = new URL(opts.endpoint).origin;
    const base = opts.fetch ?? globalThis.fetch;
    this.fetch = async (input, init) => {
      const url = typeof input === "string" ? input : input instanceof URL ? input.href : input.url;
      const headers = new Headers(init?.headers);
      if (opts.token && new URL(url).origin === this.origin && !headers.has("authorization")) headers.set("authorization", `Bearer ${opts.token}`);
      headers.set("user-agent", `tune/${TUNE_VERSION}; hf_hub_js`);
      let res: Response;
      try {
        res = await base(url, { ...init, headers });
      } catch (e) {
        throw new HubUnreachable(url, reasonOf(e));
      }
      const code = res.headers.get("x-error-code");
      if (!res.ok && code) this.errorCodes.set(res.url || url, code);
      return res;
    };
  }

  /** The commit `revision` (branch, tag or commit) of dataset `id` points to. */
  async commitOf(id: string, revision: string): Promise<string> {
    const { datasetInfo } = await hub();
    try {
      const info = await datasetInfo({ name: id, revision, additionalFields: ["sha"], hubUrl: this.endpoint, fetch: this.fetch });
      const sha = (info as { sha?: unknown }).sha;
      if (typeof sha !== "string" || !/^[0-9a-f]{40}$/.test(sha)) {
        throw new HubDatasetError("T7207", `the Hub's info for dataset ${id}@${revision} carries no commit sha`, `check HF_ENDPOINT (${this.endpoint}) points at a Hugging Face Hub`);
      }
      return sha;
    } catch (e) {
      throw this.explain(e, id, revision, `dataset info of ${id}@${revision}`);
    }
  }

  /** Every file of the repo at `commit` (the library follows the `Link` pagination). */
  async tree(id: string, commit: string, revision: string): Promise<TreeFile[]> {
    const { listFiles } = await hub();
    const out: TreeFile[] = [];
    try {
      for await (const e of listFiles({ repo: { type: "dataset", name: id }, revision: commit, recursive: true, hubUrl: this.endpoint, fetch: this.fetch }) as AsyncIterable<ListFileEntry>) {
        if (e.type !== "file") continue;
        out.push({ path: e.path, size: e.size, oid: e.oid ?? "", ...(e.lfs ? { lfs: { oid: e.lfs.oid, size: e.lfs.size } } : {}) });
      }
    } catch (e) {
      throw this.explain(e, id, revision, `file list of ${id}@${commit}`);
    }
    return out;
  }

  /** The bytes of `path` at `commit`, as a stream (plain HTTP, not the xet protocol: the file is verified here). */
  async download(id: string, commit: string, path: string, revision: string): Promise<AsyncIterable<Uint8Array>> {
    const { downloadFile } = await hub();
    const encoded = path.split("/").map(encodeURIComponent).join("/");
    try {
      const blob = await downloadFile({ repo: { type: "dataset", name: id }, path: encoded, revision: commit, hubUrl: this.endpoint, fetch: this.fetch, xet: false });
      if (!blob) throw new HubDatasetError("T7203", `hub dataset ${id}@${commit} has no file ${path}`, "the file list and the file disagree; run again");
      return chunksOf(blob.stream(), (e) => this.explain(e, id, revision, `download of ${path}`));
    } catch (e) {
      throw this.explain(e, id, revision, `download of ${path}`);
    }
  }

  /** A library or network error as a coded error (HubUnreachable and coded errors pass through). */
  explain(e: unknown, id: string, revision: string, what: string): Error {
    if (e instanceof HubDatasetError || e instanceof HubUnreachable) return e;
    const err = e as { statusCode?: unknown; url?: unknown; message?: unknown; data?: { message?: unknown } };
    const status = typeof err.statusCode === "number" ? err.statusCode : null;
    const code = typeof err.url === "string" ? this.errorCodes.get(err.url) : undefined;
    let detail = typeof err.message === "string" ? err.message.replace(/\. URL: .*$/, "") : String(e);
    // For a non-JSON error body the library keeps the text in `data.message` and a generic message.
    const body = err.data?.message;
    if (/^Api error with status \d+/.test(detail) && typeof body === "string" && body.trim()) detail = body.trim().slice(0, 200);
    const page = `${this.endpoint}/datasets/${id}`;
    if (status === 401 || status === 403) {
      if (code === "RepoNotFound") return notFound(id, revision, what, status);
      const gated = code === "GatedRepo" || /gated|restricted/i.test(detail);
      const tokenNote = this.opts.token ? "the token tune sent (HF_TOKEN or the `huggingface-cli login` token) was refused" : "no token was sent (HF_TOKEN is unset and there is no `huggingface-cli login` token)";
      return new HubDatasetError(
        "T7202",
        `the Hub refused the ${what} (HTTP ${status}${gated ? ", gated dataset" : ""}): ${tokenNote}`,
        gated ? `accept the dataset's conditions at ${page}, then set HF_TOKEN to a token of that account` : `set HF_TOKEN to a token with read access to ${id}, or ${provideLocally(id, revision)}`,
      );
    }
    if (status === 404) return notFound(id, revision, what, status, code);
    if (status !== null) return new HubDatasetError("T7207", `the Hub answered HTTP ${status} to the ${what}: ${detail}`, `retry later; ${provideLocally(id, revision)}`);
    return new HubDatasetError("T7207", `the ${what} failed: ${detail}`, `check HF_ENDPOINT (${this.endpoint}); ${provideLocally(id, revision)}`);
  }
}

function notFound(id: string, revision: string, what: string, status: number, code?: string): HubDatasetError {
  const rev = code === "RevisionNotFound";
  const msg = rev ? `hub dataset ${id} has no revision \`${revision}\`` : code === "EntryNotFound" ? `the ${what} failed: no such file at that commit` : `hub dataset ${id} does not exist or is private`;
  const hint = rev ? "check `revision` (a branch, tag or full commit sha)" : `check the id in \`hub = "…"\`; if it is private, set HF_TOKEN to a token that may read it`;
  return new HubDatasetError("T7203", `${msg} (HTTP ${status})`, hint);
}

/** A web stream as byte chunks; the library reports stream failures as bare strings, turned into errors here. */
async function* chunksOf(stream: ReadableStream<Uint8Array>, wrap: (e: unknown) => Error): AsyncGenerator<Uint8Array> {
  const reader = stream.getReader();
  let done = false;
  try {
    for (;;) {
      let r: ReadableStreamReadResult<Uint8Array>;
      try {
        r = await reader.read();
      } catch (e) {
        throw wrap(e instanceof Error ? e : new Error(String(e)));
      }
      if (r.done) {
        done = true;
        return;
      }
      yield r.value;
    }
  } finally {
    if (!done) await reader.cancel().catch(() => undefined);
    reader.releaseLock();
  }
}

// A small Hugging Face Hub on loopback (node:http) for the hub dataset tests: the endpoints @huggingface/hub
// calls for a dataset, with the headers it and huggingface_hub read, serving real bytes.
//
//   GET /api/datasets/<id>/revision/<rev>?expand=…   dataset info (datasetInfo; `sha` is the commit)
//   GET /api/datasets/<id>/tree/<rev>?recursive=…    file tree, paginated with a `Link: <…>; rel="next"` header
//   GET /datasets/<id>/resolve/<rev>/<path>          a file: regular files answer here (ETag = git blob sha1),
//                                                    LFS files redirect (302) to /cdn/<sha256> with
//                                                    X-Linked-Etag / X-Linked-Size, like the Hub does
//   GET /cdn/<sha256>                                LFS content; Range requests answer 206 + Content-Range
// Errors carry the Hub's `X-Error-Code` (RepoNotFound, RevisionNotFound, EntryNotFound, GatedRepo).
// Every request is recorded so tests can count what a call cost.

import { createHash } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface HubFile {
  readonly bytes: Buffer;
  readonly lfs: boolean;
}

export interface HubRepo {
  /** commit sha → repo path → file */
  readonly commits: Map<string, Map<string, HubFile>>;
  /** branch or tag → commit */
  readonly refs: Map<string, string>;
  /** A token the repo requires (a gated dataset), or null. */
  gatedToken: string | null;
}

export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  readonly authorization: string | null;
}

export const sha256 = (b: Buffer) => createHash("sha256").update(b).digest("hex");
export const gitSha1 = (b: Buffer) => createHash("sha1").update(`blob ${b.length}\0`).update(b).digest("hex");

/** A made-up commit sha, stable per label. */
export const commitSha = (label: string) => createHash("sha1").update(`commit ${label}`).digest("hex");

export class FakeHub {
  readonly repos = new Map<string, HubRepo>();
  readonly requests: RecordedRequest[] = [];
  /** Paths (repo path) whose served bytes are altered: a corrupting proxy or CDN. */
  readonly corrupt = new Set<string>();
  /** Answer every request with 503 (an outage behind a load balancer). */
  outage = false;
  /** Tree entries per page (the Hub pages at 1000; small here to exercise `Link`). */
  treePage = 1000;
  private server: Server | null = null;
  url = "";

  /** Add (or replace) a commit of repo `id` and point `ref` at it. */
  commit(id: string, label: string, files: Record<string, HubFile>, ref = "main"): string {
    const repo = this.repos.get(id) ?? { commits: new Map(), refs: new Map(), gatedToken: null };
    const sha = commitSha(`${id}:${label}`);
    repo.commits.set(sha, new Map(Object.entries(files)));
    repo.refs.set(ref, sha);
    this.repos.set(id, repo);
    return sha;
  }

  async start(): Promise<string> {
    this.server = createServer((req, res) => this.handle(req, res));
    await new Promise<void>((ok) => this.server!.listen(0, "127.0.0.1", ok));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this.url;
  }

  async stop(): Promise<void> {
    const s = this.server;
    this.server = null;
    if (s) await new Promise<void>((ok) => s.close(() => ok()));
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const u = new URL(req.url ?? "/", this.url);
    this.requests.push({ method: req.method ?? "GET", path: u.pathname + u.search, authorization: req.headers.authorization ?? null });
    if (this.outage) {
      res.writeHead(503, { "content-type": "text/plain" });
      res.end("upstream unavailable");
      return;
    }
    const p = u.pathname;
    let m: RegExpExecArray | null;
    if ((m = /^\/api\/datasets\/(.+)\/revision\/([^/]+)$/.exec(p))) return this.info(res, m[1], decodeURIComponent(m[2]));
    if ((m = /^\/api\/datasets\/([^/]+\/[^/]+)\/tree\/([^/]+)(\/.*)?$/.exec(p))) return this.tree(res, m[1], decodeURIComponent(m[2]), u, req);
    if ((m = /^\/datasets\/([^/]+\/[^/]+)\/resolve\/([^/]+)\/(.+)$/.exec(p))) return this.resolve(res, m[1], decodeURIComponent(m[2]), decodeURIComponent(m[3]), req);
    if ((m = /^\/cdn\/([0-9a-f]{64})$/.exec(p))) return this.cdn(res, m[1], req);
    this.fail(res, 404, "NotFound", "no such route");
  }

  private fail(res: ServerResponse, status: number, code: string, error: string): void {
    res.writeHead(status, { "content-type": "application/json", "x-error-code": code });
    res.end(JSON.stringify({ error }));
  }

  /** The repo and commit a request names, or null after answering with the Hub's error. */
  private locate(res: ServerResponse, id: string, rev: string): { repo: HubRepo; sha: string } | null {
    const repo = this.repos.get(id);
    if (!repo) {
      this.fail(res, 401, "RepoNotFound", "Repository not found");
      return null;
    }
    const sha = repo.refs.get(rev) ?? (repo.commits.has(rev) ? rev : null);
    if (!sha) {
      this.fail(res, 404, "RevisionNotFound", `Invalid rev id: ${rev}`);
      return null;
    }
    return { repo, sha };
  }

  private gated(res: ServerResponse, repo: HubRepo, id: string, req: IncomingMessage): boolean {
    if (repo.gatedToken === null || req.headers.authorization === `Bearer ${repo.gatedToken}`) return false;
    this.fail(res, 401, "GatedRepo", `Access to dataset ${id} is restricted. You must have access to it and be authenticated to access it.`);
    return true;
  }

  private info(res: ServerResponse, id: string, rev: string): void {
    const at = this.locate(res, id, rev);
    if (!at) return;
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify({ _id: `id-${id}`, id, sha: at.sha, private: false, gated: at.repo.gatedToken ? "auto" : false, downloads: 0, likes: 0, lastModified: "2024-01-01T00:00:00.000Z" }));
  }

  private tree(res: ServerResponse, id: string, rev: string, u: URL, req: IncomingMessage): void {
    const at = this.locate(res, id, rev);
    if (!at || this.gated(res, at.repo, id, req)) return;
    const files = [...at.repo.commits.get(at.sha)!.entries()].sort(([a], [b]) => (a < b ? -1 : 1));
    const entries: unknown[] = [];
    const dirs = new Set<string>();
    for (const [path, f] of files) {
      const parts = path.split("/");
      for (let i = 1; i < parts.length; i++) {
        const d = parts.slice(0, i).join("/");
        if (!dirs.has(d)) entries.push({ type: "directory", oid: gitSha1(Buffer.from(d)), size: 0, path: d });
        dirs.add(d);
      }
      const pointer = Buffer.from(`version https://git-lfs.github.com/spec/v1\noid sha256:${sha256(f.bytes)}\nsize ${f.bytes.length}\n`);
      entries.push(
        f.lfs
          ? { type: "file", oid: gitSha1(pointer), size: f.bytes.length, path, lfs: { oid: sha256(f.bytes), size: f.bytes.length, pointerSize: pointer.length } }
          : { type: "file", oid: gitSha1(f.bytes), size: f.bytes.length, path },
      );
    }
    const start = Number(u.searchParams.get("cursor") ?? 0);
    const page = entries.slice(start, start + this.treePage);
    const headers: Record<string, string> = { "content-type": "application/json" };
    if (start + this.treePage < entries.length) {
      const next = new URL(u.href);
      next.searchParams.set("cursor", String(start + this.treePage));
      headers["link"] = `<${next.href}>; rel="next"`;
    }
    res.writeHead(200, headers);
    res.end(JSON.stringify(page));
  }

  private resolve(res: ServerResponse, id: string, rev: string, path: string, req: IncomingMessage): void {
    const at = this.locate(res, id, rev);
    if (!at || this.gated(res, at.repo, id, req)) return;
    const f = at.repo.commits.get(at.sha)!.get(path);
    if (!f) return this.fail(res, 404, "EntryNotFound", `${path} does not exist on "${rev}"`);
    const common = { "x-repo-commit": at.sha };
    if (f.lfs) {
      const oid = sha256(f.bytes);
      res.writeHead(302, { ...common, location: `/cdn/${oid}`, "x-linked-etag": `"${oid}"`, "x-linked-size": String(f.bytes.length), etag: `"${gitSha1(f.bytes)}"` });
      res.end();
      return;
    }
    this.body(res, this.corrupt.has(path) ? flip(f.bytes) : f.bytes, { ...common, etag: `"${gitSha1(f.bytes)}"` }, req);
  }

  private cdn(res: ServerResponse, oid: string, req: IncomingMessage): void {
    for (const repo of this.repos.values()) {
      for (const files of repo.commits.values()) {
        for (const [path, f] of files) {
          if (f.lfs && sha256(f.bytes) === oid) return this.body(res, this.corrupt.has(path) ? flip(f.bytes) : f.bytes, { etag: `"${oid}"` }, req);
        }
      }
    }
    this.fail(res, 404, "EntryNotFound", "no such object");
  }

  /** A body, honouring `Range: bytes=a-b` with 206 and Content-Range as the Hub and its CDN do. */
  private body(res: ServerResponse, bytes: Buffer, headers: Record<string, string>, req: IncomingMessage): void {
    const range = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? "");
    if (range) {
      const a = Number(range[1]);
      const b = range[2] === "" ? bytes.length - 1 : Math.min(Number(range[2]), bytes.length - 1);
      res.writeHead(206, { ...headers, "content-type": "application/octet-stream", "content-range": `bytes ${a}-${b}/${bytes.length}`, "content-length": String(b - a + 1), "accept-ranges": "bytes" });
      res.end(bytes.subarray(a, b + 1));
      return;
    }
    res.writeHead(200, { ...headers, "content-type": "application/octet-stream", "content-length": String(bytes.length), "accept-ranges": "bytes" });
    res.end(bytes);
  }
}

/** The same length, one byte changed in the middle: what a bad proxy or a bit flip does. */
function flip(b: Buffer): Buffer {
  const c = Buffer.from(b);
  c[c.length >> 1] ^= 0xff;
  return c;
}

// resolveHubDataset against a real HTTP server on loopback (./hub-server.ts) that serves real parquet, JSON
// Lines and CSV bytes through the endpoints @huggingface/hub calls. Checks the cache layout on disk (shared with
// Python's huggingface_hub), request counts, offline use, coded errors and verification.

import { readFileSync } from "node:fs";
import { lstat, mkdtemp, readFile, readdir, readlink, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { BadRowLog, collect, readCsv, readParquet } from "../../runtime/data/index.js";
import { openHubFiles, resolveHubCommit, resolveHubDataset, type HubDatasetRequest } from "../../runtime/data/hub/index.js";
import { FakeHub, gitSha1, sha256 } from "./hub-server.js";

const FIX = "test/fixtures/data";
const PARQUET = readFileSync(`${FIX}/small.parquet`);
const CSV = readFileSync(`${FIX}/small.csv`);
const SHARD0 = Buffer.from('{"id": 1, "text": "first"}\n{"id": 2, "text": "second"}\n');
const SHARD1 = Buffer.from('{"id": 3, "text": "third"}\n');
const ID = "tune-test/alpaca-mini";

const CARD = `---
license: apache-2.0
configs:
  - config_name: default
    default: true
    data_files:
      - split: train
        path: "data/train-*"
      - split: test
        path: "data/test-*"
  - config_name: chat
    data_files: chat/train.csv
---
# alpaca-mini
`;

const REPO = {
  "README.md": { bytes: Buffer.from(CARD), lfs: false },
  ".gitattributes": { bytes: Buffer.from("*.parquet filter=lfs diff=lfs merge=lfs -text\n"), lfs: false },
  "data/train-00000-of-00002.jsonl": { bytes: SHARD0, lfs: true },
  "data/train-00001-of-00002.jsonl": { bytes: SHARD1, lfs: false },
  "data/test-00000-of-00001.parquet": { bytes: PARQUET, lfs: true },
  "chat/train.csv": { bytes: CSV, lfs: false },
};

let hub: FakeHub;
let cache: string;
let commit: string;
const lines: string[] = [];

/** Request defaults for this server and cache; no process env is read. */
const req = (over: Partial<HubDatasetRequest> = {}): HubDatasetRequest => ({ id: ID, endpoint: hub.url, cacheDir: cache, env: {}, memo: false, log: (l) => lines.push(l), ...over });
const repoDir = () => join(cache, "datasets--tune-test--alpaca-mini");
const count = () => hub.requests.length;

async function rejection(p: Promise<unknown>): Promise<Error & { code?: string; hint?: string }> {
  try {
    await p;
  } catch (e) {
    return e as Error & { code?: string; hint?: string };
  }
  throw new Error("expected a rejection");
}

beforeEach(async () => {
  hub = new FakeHub();
  commit = hub.commit(ID, "v1", REPO);
  await hub.start();
  cache = await mkdtemp(join(tmpdir(), "tune-hub-"));
  lines.length = 0;
});

afterEach(async () => {
  await hub.stop();
  await rm(cache, { recursive: true, force: true });
});

describe("first download", () => {
  it("populates blobs, snapshots and refs exactly like huggingface_hub", async () => {
    const got = await resolveHubDataset(req());
    expect(got).toMatchObject({ commit, format: "jsonl", source: "hub", repoPaths: ["data/train-00000-of-00002.jsonl", "data/train-00001-of-00002.jsonl"] });
    const snap = join(repoDir(), "snapshots", commit);
    expect(got.files).toEqual([join(snap, "data/train-00000-of-00002.jsonl"), join(snap, "data/train-00001-of-00002.jsonl")]);

    // refs/main holds the commit, no newline.
    expect(await readFile(join(repoDir(), "refs", "main"), "utf8")).toBe(commit);
    // Blobs are named by etag: sha256 for the LFS shard, git blob sha1 for the regular one and the card.
    const blobs = (await readdir(join(repoDir(), "blobs"))).sort();
    expect(blobs).toEqual([sha256(SHARD0), gitSha1(SHARD1), gitSha1(Buffer.from(CARD))].sort());
    expect(await readFile(join(repoDir(), "blobs", sha256(SHARD0)))).toEqual(SHARD0);
    // Snapshot entries are relative symlinks into ../../blobs (one more ../ per folder level).
    expect((await lstat(got.files[0])).isSymbolicLink()).toBe(true);
    expect(await readlink(got.files[0])).toBe(`../../../blobs/${sha256(SHARD0)}`);
    expect(await readlink(got.files[1])).toBe(`../../../blobs/${gitSha1(SHARD1)}`);
    expect(await readlink(join(snap, "README.md"))).toBe(`../../blobs/${gitSha1(Buffer.from(CARD))}`);
    // Only the selected split (and the card) were fetched; nothing else and no temp files were left behind.
    expect((await readdir(snap)).sort()).toEqual(["README.md", "data"]);
    expect(await readdir(join(snap, "data"))).toEqual(["train-00000-of-00002.jsonl", "train-00001-of-00002.jsonl"]);
    expect(lines.filter((l) => l.startsWith("downloading"))).toHaveLength(3);
  });

  it("reads the shards in order through the ordinary sources, as one source", async () => {
    const got = await resolveHubDataset(req());
    const opened = await openHubFiles(got.files, { schema: [{ name: "id", type: "int", optional: false }, { name: "text", type: "string", optional: false }] });
    const rows = await collect(opened.rows);
    expect(rows.map((r) => r.values)).toEqual([
      { id: 1, text: "first" },
      { id: 2, text: "second" },
      { id: 3, text: "third" },
    ]);
    expect(rows.map((r) => [r.origin.file, r.origin.line])).toEqual([
      [got.files[0], 1],
      [got.files[0], 2],
      [got.files[1], 1],
    ]);
    expect(opened.badRows.skipped).toBe(0);
  });

  it("downloads a parquet split (LFS through the CDN redirect) and reads the same rows as the original file", async () => {
    const got = await resolveHubDataset(req({ split: "test" }));
    expect(got).toMatchObject({ format: "parquet", repoPaths: ["data/test-00000-of-00001.parquet"] });
    expect(await readlink(got.files[0])).toBe(`../../../blobs/${sha256(PARQUET)}`);
    const viaHub = await collect((await openHubFiles(got.files)).rows);
    const direct = await collect(readParquet(`${FIX}/small.parquet`));
    expect(viaHub.map((r) => r.values)).toEqual(direct.map((r) => r.values));
    expect(hub.requests.some((r) => r.path.startsWith(`/cdn/${sha256(PARQUET)}`))).toBe(true);
  });

  it("picks a named configuration from the dataset card (CSV)", async () => {
    const got = await resolveHubDataset(req({ config: "chat" }));
    expect(got).toMatchObject({ format: "csv", repoPaths: ["chat/train.csv"] });
    const rows = await collect((await openHubFiles(got.files)).rows);
    expect(rows.map((r) => r.values)).toEqual((await collect(readCsv(`${FIX}/small.csv`, new BadRowLog()))).map((r) => r.values));
  });

  it("follows the tree listing's Link pagination", async () => {
    hub.treePage = 2;
    const got = await resolveHubDataset(req());
    expect(got.repoPaths).toHaveLength(2);
    expect(hub.requests.filter((r) => r.path.includes("/tree/")).length).toBeGreaterThan(3);
  });
});

describe("later calls", () => {
  it("a pinned commit already in the cache costs zero requests", async () => {
    const first = await resolveHubDataset(req());
    const before = count();
    const again = await resolveHubDataset(req({ revision: commit }));
    expect(count()).toBe(before);
    expect(again).toEqual({ ...first, source: "cache" });
  });

  it("`main` is resolved to its commit on every call (info + tree only once blobs are cached), and moves with the branch", async () => {
    await resolveHubDataset(req());
    const info = hub.requests.find((r) => r.path.includes("/revision/"));
    expect(info?.path).toMatch(new RegExp(`^/api/datasets/${ID}/revision/main\\?`));
    expect(info?.path).toContain("expand=sha");

    const before = count();
    const again = await resolveHubDataset(req());
    expect(again.commit).toBe(commit);
    expect(hub.requests.slice(before).map((r) => r.path.split("?")[0])).toEqual([`/api/datasets/${ID}/revision/main`, `/api/datasets/${ID}/tree/${commit}`]);

    const v2 = hub.commit(ID, "v2", { ...REPO, "data/train-00001-of-00002.jsonl": { bytes: Buffer.from('{"id": 4, "text": "fourth"}\n'), lfs: false } });
    const moved = await resolveHubDataset(req());
    expect(moved.commit).toBe(v2);
    expect(await readFile(join(repoDir(), "refs", "main"), "utf8")).toBe(v2);
    const rows = await collect((await openHubFiles(moved.files)).rows);
    expect(rows.map((r) => r.values["id"])).toEqual([1, 2, 4]);
    // The unchanged LFS shard was not downloaded again: its blob is shared by both snapshots.
    expect(await readlink(moved.files[0])).toBe(`../../../blobs/${sha256(SHARD0)}`);
    expect(hub.requests.slice(before).filter((r) => r.path.startsWith("/cdn/"))).toHaveLength(0);
  });

  it("remembers revision → commit for the process when memo is on (cache key and rows agree)", async () => {
    const c = await resolveHubCommit(req({ memo: true }));
    expect(c).toEqual({ commit, source: "hub" });
    const before = count();
    hub.commit(ID, "v2", REPO);
    const got = await resolveHubDataset(req({ memo: true }));
    expect(got.commit).toBe(commit);
    expect(hub.requests.slice(before).some((r) => r.path.includes("/revision/"))).toBe(false);
  });
});

describe("offline", () => {
  it("HF_HUB_OFFLINE=1 serves a populated cache with zero requests", async () => {
    const online = await resolveHubDataset(req());
    const before = count();
    const offline = await resolveHubDataset(req({ env: { HF_HUB_OFFLINE: "1" } }));
    expect(count()).toBe(before);
    expect(offline).toEqual({ ...online, source: "cache" });
    expect(await resolveHubCommit(req({ offline: true }))).toEqual({ commit, source: "cache" });
  });

  it("falls back to the cache when the Hub cannot be reached", async () => {
    await resolveHubDataset(req());
    await hub.stop();
    const got = await resolveHubDataset(req());
    expect(got).toMatchObject({ commit, source: "cache" });
    expect(lines.some((l) => /^cannot reach http:\/\/127\.0\.0\.1:\d+ \((ECONNREFUSED|UND_ERR_SOCKET).*\); looking in the local cache$/.test(l))).toBe(true);
  });

  it("without a cached copy is T7201, naming the dataset and how to provide it", async () => {
    const e = await rejection(resolveHubDataset(req({ offline: true })));
    expect(e.code).toBe("T7201");
    expect(e.message).toContain(`hub dataset ${ID} split train at main is not available: HF_HUB_OFFLINE is set`);
    expect(e.hint).toContain(`huggingface-cli download --repo-type dataset ${ID}`);
    expect(e.hint).toContain('path = "…"');
    expect(count()).toBe(0);

    await hub.stop();
    const unreachable = await rejection(resolveHubDataset(req()));
    expect(unreachable.code).toBe("T7201");
    expect(unreachable.message).toContain("ECONNREFUSED");
  });

  it("a cached snapshot without the requested split is T7201 offline", async () => {
    await resolveHubDataset(req());
    const e = await rejection(resolveHubDataset(req({ offline: true, split: "test" })));
    expect(e.code).toBe("T7201");
    expect(e.message).toContain(`the cached snapshot ${commit} holds no files for it`);
  });

  it("reads a cache laid out by huggingface-cli (written here by hand), offline", async () => {
    const dir = join(cache, "datasets--someone--hand-made");
    const c = "0123456789abcdef0123456789abcdef01234567";
    const { mkdir, symlink } = await import("node:fs/promises");
    await mkdir(join(dir, "blobs"), { recursive: true });
    await mkdir(join(dir, "refs"), { recursive: true });
    await mkdir(join(dir, "snapshots", c, "data"), { recursive: true });
    await writeFile(join(dir, "blobs", sha256(PARQUET)), PARQUET);
    await writeFile(join(dir, "refs", "main"), c);
    await symlink(`../../../blobs/${sha256(PARQUET)}`, join(dir, "snapshots", c, "data", "train-00000-of-00001.parquet"));
    const got = await resolveHubDataset(req({ id: "someone/hand-made", offline: true }));
    expect(got).toMatchObject({ commit: c, format: "parquet", source: "cache" });
    expect((await collect((await openHubFiles(got.files)).rows)).length).toBe(5);
  });

  it("a visibly incomplete shard set in the cache is not used", async () => {
    await resolveHubDataset(req());
    await rm(join(repoDir(), "snapshots", commit, "data", "train-00001-of-00002.jsonl"));
    const e = await rejection(resolveHubDataset(req({ offline: true })));
    expect(e.code).toBe("T7201");
    expect(lines.some((l) => l.includes("incomplete (data/train-*-of-00002: 1 of 2 shards)"))).toBe(true);
    // Online, the missing link is restored from the blob already there (no download).
    const before = count();
    const got = await resolveHubDataset(req({ revision: commit }));
    expect(got.files).toHaveLength(2);
    expect(hub.requests.slice(before).filter((r) => r.path.startsWith("/datasets/") || r.path.startsWith("/cdn/"))).toHaveLength(0);
  });
});

describe("errors", () => {
  it("an unknown dataset is T7203 (the Hub's 401 RepoNotFound)", async () => {
    const e = await rejection(resolveHubDataset(req({ id: "nobody/nothing" })));
    expect(e.code).toBe("T7203");
    expect(e.message).toBe("hub dataset nobody/nothing does not exist or is private (HTTP 401)");
    expect(e.hint).toContain("HF_TOKEN");
  });

  it("an unknown revision is T7203 (404 RevisionNotFound)", async () => {
    const e = await rejection(resolveHubDataset(req({ revision: "v9" })));
    expect(e.code).toBe("T7203");
    expect(e.message).toBe(`hub dataset ${ID} has no revision \`v9\` (HTTP 404)`);
  });

  it("a gated dataset without a token is T7202; with HF_TOKEN it downloads, and the token is never printed", async () => {
    const token = "hf_secretTOKEN123";
    hub.repos.get(ID)!.gatedToken = token;
    const e = await rejection(resolveHubDataset(req()));
    expect(e.code).toBe("T7202");
    expect(e.message).toContain("HTTP 401, gated dataset");
    expect(e.hint).toContain(`${hub.url}/datasets/${ID}`);

    const wrong = await rejection(resolveHubDataset(req({ env: { HF_TOKEN: "hf_wrong" } })));
    expect(wrong.code).toBe("T7202");
    expect(wrong.message).toContain("the token tune sent");
    expect(`${wrong.message} ${wrong.hint}`).not.toContain("hf_wrong");

    const got = await resolveHubDataset(req({ env: { HF_TOKEN: token } }));
    expect(got.files).toHaveLength(2);
    expect(lines.join("\n")).not.toContain(token);
    // The token went to the endpoint's requests (including the CDN redirect on the same origin here).
    expect(hub.requests.filter((r) => r.authorization === `Bearer ${token}`).length).toBeGreaterThan(3);
  });

  it("a file the Hub serves with other bytes than it lists is refused (T7206) and never enters the cache", async () => {
    hub.corrupt.add("data/train-00000-of-00002.jsonl");
    const e = await rejection(resolveHubDataset(req()));
    expect(e.code).toBe("T7206");
    expect(e.message).toContain(`${ID}/data/train-00000-of-00002.jsonl@${commit.slice(0, 12)} fails verification: sha256`);
    const blobs = await readdir(join(repoDir(), "blobs"));
    expect(blobs).not.toContain(sha256(SHARD0));
    expect(blobs.filter((b) => b.includes(".tmp-"))).toEqual([]);
    await expect(readFile(join(repoDir(), "refs", "main"))).rejects.toThrow();

    hub.corrupt.add("data/train-00001-of-00002.jsonl"); // a regular (non-LFS) file: git blob sha1
    hub.corrupt.delete("data/train-00000-of-00002.jsonl");
    const e2 = await rejection(resolveHubDataset(req()));
    expect(e2.code).toBe("T7206");
    expect(e2.message).toContain("git blob sha1");
  });

  it("a corrupted blob already in the cache is refused (T7206) with the blob to delete", async () => {
    await resolveHubDataset(req());
    const blob = join(repoDir(), "blobs", sha256(SHARD0));
    await writeFile(blob, Buffer.from(SHARD0.toString().replace("first", "fir5t")));
    const e = await rejection(resolveHubDataset(req({ offline: true })));
    expect(e.code).toBe("T7206");
    expect(e.hint).toBe(`delete ${blob} and run again to download it afresh`);
    const online = await rejection(resolveHubDataset(req({ revision: commit })));
    expect(online.code).toBe("T7206");
  });

  it("a server error is T7207, and a malformed HF_ENDPOINT is refused before any request", async () => {
    hub.outage = true;
    const e = await rejection(resolveHubDataset(req()));
    expect(e.code).toBe("T7207");
    expect(e.message).toBe(`the Hub answered HTTP 503 to the dataset info of ${ID}@main: upstream unavailable`);
    const bad = await rejection(resolveHubDataset({ id: ID, env: { HF_ENDPOINT: "huggingface.co" }, cacheDir: cache }));
    expect(bad.code).toBe("T7207");
    expect(bad.message).toBe("the Hub endpoint `huggingface.co` is not an http(s) URL");
    expect(await resolveHubCommit(req({ revision: commit }))).toEqual({ commit, source: "pinned" });
    expect(count()).toBe(1);
  });

  it("an ambiguous or unknown configuration and an unknown split are coded", async () => {
    hub.commit("tune-test/two", "v1", { "alpha/train.jsonl": { bytes: SHARD0, lfs: false }, "beta/train.jsonl": { bytes: SHARD1, lfs: false } });
    const e = await rejection(resolveHubDataset(req({ id: "tune-test/two" })));
    expect(e.code).toBe("T7205");
    expect(e.hint).toBe("set `config = \"…\"` to one of `alpha`, `beta`");
    const bad = await rejection(resolveHubDataset(req({ config: "gamma" })));
    expect(bad.code).toBe("T7204");
    expect(bad.hint).toBe("its configurations: `default`, `chat`; set `config = \"…\"` to one of them");
    const split = await rejection(resolveHubDataset(req({ split: "validation" })));
    expect(split.code).toBe("T7204");
    expect(split.hint).toBe("its splits: `train`, `test`; set `split = \"…\"` to one of them");
    const id = await rejection(resolveHubDataset(req({ id: "../etc" })));
    expect(id.code).toBe("T7208");
  });
});

describe("settings from the environment", () => {
  it("honours HF_ENDPOINT and HF_HUB_CACHE, and reads the refs/convert/parquet layout", async () => {
    const conv = hub.commit(ID, "parquet", { "default/train/0000.parquet": { bytes: PARQUET, lfs: true }, "default/test/0000.parquet": { bytes: PARQUET, lfs: true } }, "refs/convert/parquet");
    const got = await resolveHubDataset({ id: ID, revision: "refs/convert/parquet", env: { HF_ENDPOINT: `${hub.url}/`, HF_HUB_CACHE: cache }, memo: false });
    expect(got).toMatchObject({ commit: conv, format: "parquet", repoPaths: ["default/train/0000.parquet"] });
    expect(await readFile(join(repoDir(), "refs", "refs", "convert", "parquet"), "utf8")).toBe(conv);
    expect(hub.requests[0].path).toContain("/revision/refs%2Fconvert%2Fparquet?");
  });

  it("HF_HOME/hub is the cache when HF_HUB_CACHE is unset", async () => {
    const got = await resolveHubDataset({ id: ID, env: { HF_ENDPOINT: hub.url, HF_HOME: cache }, memo: false });
    expect(got.files[0].startsWith(join(cache, "hub", "datasets--tune-test--alpaca-mini", "snapshots", commit))).toBe(true);
  });
});

// CacheStore against real files: round trips, checksum verification and quarantine, concurrent writers in
// separate processes, gc by least-recent use, rm by prefix, and key derivation.
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync, unlinkSync, utimesSync, writeFileSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { CacheStore, cacheKey, StoreError } from "../../runtime/store/index.js";
import { gen } from "./children/gen.mjs";
import { cleanupTemps, startChild, tempDir, warnings } from "./helpers.js";

afterAll(cleanupTemps);

const sha = (b: Uint8Array | string): string => createHash("sha256").update(b).digest("hex");
const key = (s: string): string => sha(s);
const meta = { op: "filter", nodeId: "filter:train#1", recipe: "quickstart" };

async function putSample(cache: CacheStore, k: string, bytes = 5000) {
  return cache.put(
    k,
    async (dir) => {
      await writeFile(join(dir, "rows.bin"), gen(k, bytes));
      await mkdir(join(dir, "nested"));
      await writeFile(join(dir, "nested", "count.txt"), "42\n");
    },
    meta,
  );
}

describe("put / get", () => {
  it("stores files atomically and reads them back verified, with independent checksums in meta.json", async () => {
    const root = tempDir();
    const cache = new CacheStore({ root });
    const k = key("a");
    expect(await cache.has(k)).toBe(false);
    expect(await cache.get(k)).toBeNull();
    const put = await putSample(cache, k);
    expect(put.created).toBe(true);
    const fresh = new CacheStore({ root }); // a new process's view: full verification
    const got = await fresh.get(k);
    expect(got).not.toBeNull();
    expect(readFileSync(join(got!.dir, "rows.bin")).equals(gen(k, 5000))).toBe(true);
    expect(readFileSync(join(got!.dir, "nested", "count.txt"), "utf8")).toBe("42\n");
    expect(got!.meta.files).toEqual({
      "nested/count.txt": { size: 3, sha256: sha("42\n") },
      "rows.bin": { size: 5000, sha256: sha(gen(k, 5000)) },
    });
    expect(got!.meta.bytes).toBe(5003);
    expect(got!.meta).toMatchObject({ op: "filter", nodeId: "filter:train#1", recipe: "quickstart", key: k });
    // nothing left behind in tmp/
    expect(readdirSync(join(root, "v1", "tmp"))).toEqual([]);
  });

  it("does not call the writer when the key is present", async () => {
    const cache = new CacheStore({ root: tempDir() });
    const k = key("b");
    await putSample(cache, k);
    let called = false;
    const again = await cache.put(k, async () => void (called = true), meta);
    expect(called).toBe(false);
    expect(again.created).toBe(false);
  });

  it("leaves no entry and no temp dir when the writer throws", async () => {
    const root = tempDir();
    const cache = new CacheStore({ root });
    const k = key("c");
    await expect(cache.put(k, async (dir) => {
      await writeFile(join(dir, "half.bin"), "partial");
      throw new Error("disk full");
    }, meta)).rejects.toThrow("disk full");
    expect(await cache.has(k)).toBe(false);
    expect(readdirSync(join(root, "v1", "tmp"))).toEqual([]);
  });

  it("round-trips small JSON values", async () => {
    const cache = new CacheStore({ root: tempDir() });
    const k = key("json");
    await cache.putJson(k, { acc: 0.5, rows: 1200, tasks: ["arc_easy"] }, { op: "eval_task", nodeId: "eval_task:arc_easy@tiny", recipe: "q" });
    expect((await new CacheStore({ root: cache.root }).getJson(k))?.value).toEqual({ acc: 0.5, rows: 1200, tasks: ["arc_easy"] });
    expect(await cache.getJson(key("absent"))).toBeNull();
  });

  it("rejects symlinks in a writer's output and invalid keys", async () => {
    const cache = new CacheStore({ root: tempDir() });
    const err = await cache.put(key("l"), async (dir) => {
      const { symlink } = await import("node:fs/promises");
      await symlink("/etc/hostname", join(dir, "link"));
    }, meta).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StoreError);
    expect((err as StoreError).code).toBe("T9007");
    await expect(cache.get("not-a-key")).rejects.toMatchObject({ code: "T9002" });
  });
});

describe("corruption", () => {
  async function corruptedCase(damage: (entry: string) => void, level: "full" | "size" = "full") {
    const root = tempDir();
    const writer = new CacheStore({ root });
    const k = key("corrupt");
    await putSample(writer, k);
    const entry = writer.entryPath(k);
    damage(entry);
    const w = warnings();
    const reader = new CacheStore({ root, warn: w.sink, verify: level });
    expect(await reader.get(k)).toBeNull();
    expect(w.seen.map((x) => x.code)).toEqual(["T9001"]);
    expect(existsSync(entry)).toBe(false); // moved out of the way …
    expect(readdirSync(join(root, "v1", "quarantine"))).toHaveLength(1); // … into quarantine
    expect(await reader.has(k)).toBe(false);
    const redo = await putSample(reader, k); // and the node can be recomputed
    expect(redo.created).toBe(true);
    expect(await new CacheStore({ root }).get(k)).not.toBeNull();
    return w.seen[0]!.message;
  }

  it("detects one flipped byte", async () => {
    const msg = await corruptedCase((entry) => {
      const p = join(entry, "out", "rows.bin");
      const b = readFileSync(p);
      b[1234] ^= 0x01;
      writeFileSync(p, b);
    });
    expect(msg).toContain("rows.bin: sha256 differs");
  });

  it("detects a truncated file even at the cheap size-only level", async () => {
    const msg = await corruptedCase((entry) => writeFileSync(join(entry, "out", "rows.bin"), gen("x", 10)), "size");
    expect(msg).toContain("size 10");
  });

  it("detects an edited meta.json, an extra file, a missing file and a torn meta.json", async () => {
    expect(await corruptedCase((entry) => {
      const p = join(entry, "meta.json");
      writeFileSync(p, readFileSync(p, "utf8").replace('"recipe": "quickstart"', '"recipe": "other"'));
    })).toContain("seal");
    expect(await corruptedCase((entry) => writeFileSync(join(entry, "out", "extra.txt"), "x"))).toContain("unexpected file extra.txt");
    expect(await corruptedCase((entry) => unlinkSync(join(entry, "out", "nested", "count.txt")))).toContain("missing file nested/count.txt");
    expect(await corruptedCase((entry) => writeFileSync(join(entry, "meta.json"), "{\"format\": \"tune-cache-en"))).toContain("not valid JSON");
  });
});

describe("concurrent writers", () => {
  it("four processes putting the same key: one entry, from exactly one writer, never mixed", async () => {
    const root = tempDir();
    const start = join(tempDir(), "go");
    const k = key("race");
    const kids = await Promise.all(["w1", "w2", "w3", "w4"].map((tag) => startChild("put-same-key.mjs", [root, k, start, tag, "1000000"])));
    writeFileSync(start, "");
    const exits = await Promise.all(kids.map((c) => c.exited));
    expect(exits.map((e) => e.code), kids.map((c) => c.stderr).join("\n")).toEqual([0, 0, 0, 0]);
    const results = kids.map((c) => JSON.parse(c.stdout.trim()) as { tag: string; created: boolean; entryTag: string });
    expect(results.filter((r) => r.created)).toHaveLength(1);
    const winner = results.find((r) => r.created)!.tag;
    expect(results.every((r) => r.entryTag === winner)).toBe(true); // losers got the winner's entry back
    const w = warnings();
    const got = await new CacheStore({ root, warn: w.sink }).get(k);
    expect(w.seen).toEqual([]);
    expect(readFileSync(join(got!.dir, "sub", "tag.txt"), "utf8")).toBe(winner);
    expect(readFileSync(join(got!.dir, "a.bin")).equals(gen(winner, 1_000_000))).toBe(true);
    expect(readdirSync(join(root, "v1", "tmp"))).toEqual([]);
  });
});

describe("ls / gc / rm", () => {
  async function fiveEntries() {
    const root = tempDir();
    const cache = new CacheStore({ root });
    const keys = ["e0", "e1", "e2", "e3", "e4"].map(key);
    const base = Date.now() / 1000 - 10_000;
    for (const [i, k] of keys.entries()) {
      await cache.put(k, (dir) => writeFile(join(dir, "x.bin"), gen(k, 1000 * (i + 1))), { ...meta, nodeId: `n${i}` });
      utimesSync(cache.entryPath(k), base + i * 100, base + i * 100); // last use: e0 oldest … e4 newest
    }
    return { root, cache, keys };
  }

  it("lists sizes and last use, most recent first; get() refreshes last use", async () => {
    const { cache, keys } = await fiveEntries();
    let ls = await cache.ls();
    expect(ls.map((e) => e.nodeId)).toEqual(["n4", "n3", "n2", "n1", "n0"]);
    expect(ls.map((e) => e.bytes)).toEqual([5000, 4000, 3000, 2000, 1000]);
    await cache.get(keys[0]!);
    ls = await cache.ls();
    expect(ls[0]!.nodeId).toBe("n0");
  });

  it("gc removes least-recently-used entries until the budget holds; dry run removes nothing", async () => {
    const { cache } = await fiveEntries();
    const dry = await cache.gc({ budgetBytes: 9500, dryRun: true });
    expect(dry.removed.map((e) => e.nodeId)).toEqual(["n0", "n1", "n2"]);
    expect((await cache.ls()).length).toBe(5);
    const report = await cache.gc({ budgetBytes: 9500 });
    expect(report.removed.map((e) => e.nodeId)).toEqual(["n0", "n1", "n2"]);
    expect(report.freedBytes).toBe(6000);
    expect(report.keptBytes).toBe(9000);
    expect((await cache.ls()).map((e) => e.nodeId)).toEqual(["n4", "n3"]);
    expect((await cache.gc({ budgetBytes: 0 })).keptEntries).toBe(0);
    expect(await cache.ls()).toEqual([]);
  });

  it("gc cleans temp dirs of dead writers and quarantine, but not a live writer's temp dir", async () => {
    const { root, cache } = await fiveEntries();
    const dead = join(root, "v1", "tmp", `${key("d")}.${(await import("node:os")).hostname()}.999999999.abcd`);
    const live = join(root, "v1", "tmp", `${key("l")}.${(await import("node:os")).hostname()}.${process.pid}.abcd`);
    for (const d of [dead, live]) {
      await mkdir(join(d, "out"), { recursive: true });
      writeFileSync(join(d, "out", "half.bin"), gen("h", 700));
    }
    const report = await cache.gc({ budgetBytes: 1e12 });
    expect(report.removed).toEqual([]);
    expect(report.scratchBytes).toBe(700);
    expect(existsSync(dead)).toBe(false);
    expect(existsSync(live)).toBe(true);
  });

  it("rm by prefix (≥ 4 hex digits) and by key", async () => {
    const { cache, keys } = await fiveEntries();
    const removed = await cache.rm({ prefix: keys[2]!.slice(0, 6) });
    expect(removed.map((e) => e.key)).toEqual([keys[2]]);
    expect(await cache.has(keys[2]!)).toBe(false);
    await expect(cache.rm({ prefix: "ab" })).rejects.toMatchObject({ code: "T9004" });
    expect((await cache.rm({ keys: [keys[0]!, keys[0]!] })).length).toBe(1);
    expect((await cache.ls()).length).toBe(3);
  });
});

describe("cacheKey", () => {
  const h = key("node");
  it("is the node hash without identities, and changes with any identity", () => {
    expect(cacheKey(h)).toBe(h);
    const a = cacheKey(h, { model: "hub:model:meta-llama/Llama-2-7b-hf@abc", data: "file:123:10" });
    expect(a).toMatch(/^[0-9a-f]{64}$/);
    expect(a).not.toBe(h);
    expect(cacheKey(h, { data: "file:123:10", model: "hub:model:meta-llama/Llama-2-7b-hf@abc" })).toBe(a); // order-free
    expect(cacheKey(h, { model: "hub:model:meta-llama/Llama-2-7b-hf@abd", data: "file:123:10" })).not.toBe(a);
    expect(() => cacheKey("xyz")).toThrow(/64 hex/);
  });
});

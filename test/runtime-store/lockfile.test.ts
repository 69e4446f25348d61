// tune.lock: built from the real quickstart graph, deterministic text, strict parsing with codes, unknown
// top-level keys kept on rewrite, identities, the JSON Schema, and diffs.
import { createHash } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
  buildLock,
  cacheKey,
  diffLocks,
  fileIdentity,
  graphHash,
  identitySalt,
  lockJsonSchema,
  parseLock,
  readLock,
  renderLockDiff,
  serializeLock,
  StoreError,
  writeLock,
  type Identity,
  type TuneLock,
} from "../../runtime/store/index.js";
import { cleanupTemps, quickstart, tempDir } from "./helpers.js";

afterAll(cleanupTemps);

const q = quickstart();
const dataPath = "data/alpagasus/claude_t45.json";
const dataBytes = readFileSync(dataPath);

async function quickstartLock(): Promise<TuneLock> {
  const data = await fileIdentity(dataPath);
  const template: Identity = { kind: "hash", what: "template", sha256: createHash("sha256").update(readFileSync("stdlib/templates.tune")).digest("hex") };
  return buildLock({
    recipeName: "quickstart",
    recipeText: q.text,
    tuneVersion: "0.1.0",
    graph: q.graph,
    identities: { "load_data:alpagasus_claude": { data }, "tokenize:sft": { template } },
  });
}

describe("tune.lock", () => {
  it("records recipe, graph, seed and per-node hashes and identities", async () => {
    const lock = await quickstartLock();
    expect(lock.version).toBe(1);
    expect(lock.recipe).toEqual({ name: "quickstart", sha256: createHash("sha256").update(q.text).digest("hex") });
    expect(lock.graph).toBe(graphHash(q.graph));
    expect(lock.seed).toBe(42);
    expect(Object.keys(lock.nodes)).toEqual(q.graph.nodes.map((n) => n.id));
    expect(lock.nodes["train:sft"]).toEqual({ hash: q.graph.nodes.find((n) => n.id === "train:sft")!.hash, identities: {} });
    expect(lock.nodes["load_data:alpagasus_claude"]!.identities["data"]).toEqual({
      kind: "file",
      path: dataPath,
      sha256: createHash("sha256").update(dataBytes).digest("hex"),
      size: dataBytes.length,
    });
  });

  it("serializes deterministically (sorted keys at every level) and parses back", async () => {
    const lock = await quickstartLock();
    const text = serializeLock(lock);
    const reverseKeys = (v: unknown): unknown =>
      v && typeof v === "object" && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).reverse().map(([k, x]) => [k, reverseKeys(x)])) : v;
    const reordered = reverseKeys(lock) as TuneLock;
    expect(Object.keys(reordered)[0]).toBe("nodes");
    expect(serializeLock(reordered)).toBe(text);
    expect(text.endsWith("}\n")).toBe(true);
    expect(text.indexOf('"graph"')).toBeLessThan(text.indexOf('"version": 1'));
    expect(parseLock(text)).toEqual(JSON.parse(text));
  });

  it("keeps unknown top-level keys (the registry's packages) when rewritten", async () => {
    const path = join(tempDir("lock"), "tune.lock");
    const lock = await quickstartLock();
    const packages = { "@acme/alpagasus": { version: "1.2.3", integrity: "sha256-abc" } };
    writeFileSync(path, serializeLock({ ...lock, packages, "x-note": "kept" }));
    const rewritten = await writeLock(path, { ...lock, seed: 7 });
    expect(rewritten.packages).toEqual(packages);
    const onDisk = await readLock(path);
    expect(onDisk).toMatchObject({ seed: 7, packages, "x-note": "kept" });
    expect(await readLock(join(tempDir("lock"), "absent.lock"))).toBeNull();
  });

  it("adds its section to a tune.lock the registry created first, keeping packages", async () => {
    const path = join(tempDir("lock"), "tune.lock");
    const packages = { "@acme/alpagasus": { version: "1.2.3", resolved: "https://r.example/a.tgz", integrity: "sha512-x" } };
    writeFileSync(path, JSON.stringify({ version: 1, packages }, null, 2)); // the shape cli/registry/lockfile.ts writes
    expect(await readLock(path)).toBeNull(); // no engine section yet
    await writeLock(path, await quickstartLock());
    const both = JSON.parse(readFileSync(path, "utf8")) as TuneLock;
    expect(both.packages).toEqual(packages);
    expect(both.version).toBe(1);
    expect(parseLock(readFileSync(path, "utf8")).graph).toBe(graphHash(q.graph));
  });

  it("rejects malformed lockfiles and other versions with codes", async () => {
    const lock = await quickstartLock();
    const codeOf = (text: string): string => {
      try {
        parseLock(text, "x/tune.lock");
      } catch (e) {
        expect(e).toBeInstanceOf(StoreError);
        expect((e as StoreError).hint).toMatch(/tune lock/);
        return (e as StoreError).code;
      }
      return "accepted";
    };
    expect(codeOf("{")).toBe("T9201");
    expect(codeOf(JSON.stringify({ ...lock, version: 2 }))).toBe("T9202");
    expect(codeOf(JSON.stringify({ ...lock, seed: "42" }))).toBe("T9201");
    const badIdentity = { ...lock, nodes: { ...lock.nodes, "load_data:alpagasus_claude": { hash: "h", identities: { data: { kind: "file", path: "p", sha256: "nope", size: 1 } } } } };
    expect(codeOf(JSON.stringify(badIdentity))).toBe("T9201");
  });

  it("has a JSON Schema describing the version field and nodes", () => {
    const schema = lockJsonSchema() as { properties: Record<string, { const?: number }>; required: string[] };
    expect(schema.properties["version"]).toMatchObject({ const: 1 });
    expect(schema.required).toEqual(expect.arrayContaining(["version", "recipe", "tune", "graph", "seed", "nodes"]));
  });
});

describe("identities and diffs", () => {
  it("salts cache keys by content, not by path", async () => {
    const dir = tempDir("ident");
    writeFileSync(join(dir, "a.json"), dataBytes);
    writeFileSync(join(dir, "b.json"), dataBytes);
    const h = q.graph.nodes[1]!.hash;
    const ka = cacheKey(h, identitySalt({ data: await fileIdentity(join(dir, "a.json")) }));
    const kb = cacheKey(h, identitySalt({ data: await fileIdentity(join(dir, "b.json")) }));
    expect(ka).toBe(kb);
    writeFileSync(join(dir, "b.json"), Buffer.concat([dataBytes, Buffer.from(" ")]));
    expect(cacheKey(h, identitySalt({ data: await fileIdentity(join(dir, "b.json")) }))).not.toBe(ka);
    const hub: Identity = { kind: "hub", type: "model", repo: "meta-llama/Llama-2-7b-hf", revision: "main", commit: "01c7f73d771dfac7d292323805ebc428287df4f9" };
    expect(identitySalt({ model: hub })).toEqual({ model: "hub:model:meta-llama/Llama-2-7b-hf@01c7f73d771dfac7d292323805ebc428287df4f9" });
  });

  it("lists every changed, added and removed leaf", async () => {
    const a = await quickstartLock();
    const data = a.nodes["load_data:alpagasus_claude"]!;
    const b: TuneLock = {
      ...a,
      seed: 7,
      nodes: {
        ...Object.fromEntries(Object.entries(a.nodes).filter(([id]) => id !== "eval_task:arc_easy@tiny")),
        "load_data:alpagasus_claude": { ...data, identities: { data: { ...(data.identities["data"] as Identity & { kind: "file" }), sha256: "0".repeat(64) } } },
        "eval_task:mmlu@sft": { hash: "1".repeat(64), identities: {} },
      },
    };
    const changes = diffLocks(a, b);
    expect(changes.map((c) => `${c.kind} ${c.path.join(".")}`)).toEqual([
      "removed nodes.eval_task:arc_easy@tiny",
      "added nodes.eval_task:mmlu@sft",
      "changed nodes.load_data:alpagasus_claude.identities.data.sha256",
      "changed seed",
    ]);
    expect(diffLocks(a, JSON.parse(serializeLock(a)))).toEqual([]);
    const text = renderLockDiff(changes);
    expect(text).toContain("~ seed: 42 → 7\n");
    expect(text).toContain("+ nodes.eval_task:mmlu@sft: {");
    expect(text).toMatch(/~ nodes\.load_data:alpagasus_claude\.identities\.data\.sha256: "[0-9a-f]{64}" → "0{64}"/);
  });
});

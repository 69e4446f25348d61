// Loading HF model directories: single file, index + shards, and the errors for broken downloads.
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { writeSafetensors, type StWriteTensor } from "../../runtime/io/safetensors.js";
import { INDEX_FILE, loadHfWeights, planHfWeights } from "../../runtime/io/sharded.js";

let root = "";
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "tune-shard-"));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

const t = (name: string, n: number, base: number): StWriteTensor => ({
  name, dtype: "BF16", shape: [n], data: Float32Array.from({ length: n }, (_, i) => base + i),
});

async function shardedDir(name: string): Promise<string> {
  const dir = join(root, name);
  await mkdir(dir, { recursive: true });
  await writeSafetensors(join(dir, "model-00001-of-00002.safetensors"), [t("model.embed_tokens.weight", 4, 0), t("model.norm.weight", 2, 10)]);
  await writeSafetensors(join(dir, "model-00002-of-00002.safetensors"), [t("lm_head.weight", 3, 20)]);
  const weight_map = {
    "model.embed_tokens.weight": "model-00001-of-00002.safetensors",
    "model.norm.weight": "model-00001-of-00002.safetensors",
    "lm_head.weight": "model-00002-of-00002.safetensors",
  };
  await writeFile(join(dir, INDEX_FILE), JSON.stringify({ metadata: { total_size: 18 }, weight_map }));
  return dir;
}

describe("loadHfWeights", () => {
  it("loads a single model.safetensors", async () => {
    const dir = join(root, "single");
    await mkdir(dir);
    await writeSafetensors(join(dir, "model.safetensors"), [t("a", 3, 1), t("b", 2, 5)]);
    const w = await loadHfWeights(dir);
    expect([...w.keys()].sort()).toEqual(["a", "b"]);
    expect(Array.from(w.get("b")!.data)).toEqual([5, 6]);
  });

  it("loads shards through the index, with a filter", async () => {
    const dir = await shardedDir("sharded");
    const plan = await planHfWeights(dir);
    expect(plan.sharded).toBe(true);
    expect(plan.files.get("model-00001-of-00002.safetensors")).toEqual(["model.embed_tokens.weight", "model.norm.weight"]);
    const w = await loadHfWeights(dir);
    expect(w.size).toBe(3);
    expect(Array.from(w.get("lm_head.weight")!.data)).toEqual([20, 21, 22]);
    expect(w.get("model.embed_tokens.weight")!.shape).toEqual([4]);
    const only = await loadHfWeights(dir, (n) => n.startsWith("model."));
    expect([...only.keys()].sort()).toEqual(["model.embed_tokens.weight", "model.norm.weight"]);
  });

  it("names the missing shard", async () => {
    const dir = await shardedDir("missing-shard");
    await rm(join(dir, "model-00002-of-00002.safetensors"));
    await expect(loadHfWeights(dir)).rejects.toMatchObject({ code: "T6022", message: expect.stringContaining("model-00002-of-00002.safetensors") });
  });

  it("names a tensor the index promises but the shard lacks", async () => {
    const dir = await shardedDir("missing-tensor");
    await writeSafetensors(join(dir, "model-00002-of-00002.safetensors"), [t("lm_head.bias", 3, 0)]);
    await expect(loadHfWeights(dir)).rejects.toMatchObject({ code: "T6023", message: expect.stringContaining("`lm_head.weight`") });
  });

  it("rejects a bad index and an empty directory", async () => {
    const dir = join(root, "bad-index");
    await mkdir(dir);
    await writeFile(join(dir, INDEX_FILE), JSON.stringify({ weight_map: { a: "../../etc/passwd" } }));
    await expect(loadHfWeights(dir)).rejects.toMatchObject({ code: "T6021" });
    await writeFile(join(dir, INDEX_FILE), "{not json");
    await expect(loadHfWeights(dir)).rejects.toMatchObject({ code: "T6021" });
    const empty = join(root, "empty");
    await mkdir(empty);
    await writeFile(join(empty, "pytorch_model.bin"), "x");
    await expect(loadHfWeights(empty)).rejects.toMatchObject({ code: "T6020", hint: expect.stringContaining("pytorch_model.bin") });
  });
});

// Every value kind through a real cache entry and back: rows (with the values
// plain JSON would lose), tokens (SFT examples and preference pairs), results
// with their run-directory files (restored into a different run directory),
// and trained models — LoRA, QLoRA and full fine-tuning — whose restored copy
// must compute bit-identical logits. Also: an entry that verifies but does not
// decode is dropped and recomputed; a value the codec cannot hold is not stored.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Graph, GraphNode } from "../../compiler/graph.js";
import { initBackend } from "../../runtime/backend/index.js";
import { CacheStore } from "../../runtime/store/index.js";
import { createNodeCache, type ExecNodeCache } from "../../runtime/exec/cache.js";
import { decodeTagged, encodeTagged, readRows, readTokens, writeRows, writeTokens } from "../../runtime/exec/cache-codec.js";
import { loadModelOp } from "../../runtime/exec/ops/model.js";
import { buildTrainable, type AdapterParams } from "../../runtime/exec/policy.js";
import { LlamaModel } from "../../runtime/model/llama.js";
import { Rng } from "../../runtime/data/rng.js";
import type { Row } from "../../runtime/data/row.js";
import type { ModelValue, ResultValue, TokensValue, Value } from "../../runtime/exec/types.js";
import { cleanupTemps, compileRecipe, execEnv, recipe, sandbox, tempDir, type Sandbox } from "./helpers.js";

let sb: Sandbox;
beforeAll(async () => {
  await initBackend("wasm");
  sb = await sandbox();
});
afterAll(cleanupTemps);

const node = (g: Graph, id: string): GraphNode => g.nodes.find((n) => n.id === id) ?? (() => { throw new Error(`no node ${id}`); })();

/** A cache over the sandbox's store for `runDir`, with every node's key computed in graph order (as a run does). */
async function primed(g: Graph, runDir: string, log: string[] = [], s: Sandbox = sb): Promise<ExecNodeCache> {
  const store = new CacheStore({ root: s.cacheRoot, warn: (w) => s.warnings.push(w) });
  const cache = createNodeCache({ store, smoke: null, env: { recipeDir: s.dir, packageRoot: s.dir, runDir, log: (l) => void log.push(l), graph: g, seed: g.seed } });
  for (const n of g.nodes) expect(await cache.keyOf(n), n.id).toMatch(/^[0-9a-f]{64}$/);
  return cache;
}

/** What the scheduler does on a miss: get (null), run, put. */
async function computeAndPut(cache: ExecNodeCache, n: GraphNode, run: () => Promise<Record<string, Value>>): Promise<Record<string, Value>> {
  expect(await cache.get(n)).toBeNull();
  const out = await run();
  await cache.put(n, out);
  return out;
}

const origin = (row: number, line?: number): Row["origin"] => ({ file: "/data/x.jsonl", format: "jsonl", row, ...(line !== undefined ? { line } : {}) });

describe("tagged JSON", () => {
  it("keeps what JSON.stringify would lose or change", () => {
    const ctx = { runDir: "/runs/r1" };
    const v = { nan: NaN, inf: -Infinity, negZero: -0, undef: undefined, big: 12345678901234567890n, when: new Date("2024-01-02T03:04:05.000Z"), bytes: new Uint8Array([0, 1, 255]), f32: new Float32Array([1.5, -2]), $t: "looks like a tag", nested: [{ $t: "x", v: 1 }, null, "plain"] };
    const back = decodeTagged(JSON.parse(JSON.stringify(encodeTagged(v, ctx))), ctx) as typeof v;
    expect(back.nan).toBeNaN();
    expect(back.inf).toBe(-Infinity);
    expect(Object.is(back.negZero, -0)).toBe(true);
    expect("undef" in back && back.undef === undefined).toBe(true);
    expect(back.big).toBe(12345678901234567890n);
    expect(back.when.toISOString()).toBe("2024-01-02T03:04:05.000Z");
    expect([...back.bytes]).toEqual([0, 1, 255]);
    expect(back.f32).toBeInstanceOf(Float32Array);
    expect([...back.f32]).toEqual([1.5, -2]);
    expect(back.$t).toBe("looks like a tag");
    expect(back.nested).toEqual([{ $t: "x", v: 1 }, null, "plain"]);
  });

  it("stores run-directory paths relative and restores them under the reading run", () => {
    const enc = encodeTagged({ dir: "/runs/r1/artifacts/sft", other: "/runs/r10/x", same: "/runs/r1" }, { runDir: "/runs/r1" });
    expect(enc).toEqual({ dir: { $t: "run", v: "artifacts/sft" }, other: "/runs/r10/x", same: { $t: "run", v: "." } });
    expect(decodeTagged(enc, { runDir: "/runs/r2" })).toEqual({ dir: "/runs/r2/artifacts/sft", other: "/runs/r10/x", same: "/runs/r2" });
  });

  it("refuses values it cannot restore", () => {
    expect(() => encodeTagged({ rows: [{ m: new Map() }] }, { runDir: "/r" })).toThrow(/value\.rows\[0\]\.m is a Map/);
    expect(() => encodeTagged(() => 1, { runDir: "/r" })).toThrow(/function/);
  });
});

describe("rows and tokens", () => {
  it("round-trip rows with their values and origins", async () => {
    const dir = tempDir("codec");
    const rows: Row[] = [
      { values: { instruction: "a", score: NaN, tags: ["x", "y"], extra: { n: 1 } }, origin: origin(0, 1) },
      { values: { instruction: "", score: 4.5, missing: undefined }, origin: origin(1) },
    ];
    await writeRows(dir, { kind: "rows", rows }, { runDir: "/r" });
    const back = await readRows(dir, { runDir: "/r" });
    expect(back.rows).toHaveLength(2);
    expect(back.rows![0]!.origin).toEqual(origin(0, 1));
    expect(back.rows![0]!.values["score"]).toBeNaN();
    expect(back.rows![1]).toEqual(rows[1]);
    expect("missing" in back.rows![1]!.values).toBe(true);
  });

  it("round-trip SFT examples and preference pairs with counts and template", async () => {
    const dir = tempDir("codec");
    const v: TokensValue = {
      kind: "tokens",
      method: "sft",
      examples: [
        { inputIds: [1, 5, 9, 2], labels: [-100, -100, 9, 2], promptLength: 2, fullLength: 4, truncated: false },
        { inputIds: [1, 7], labels: [-100, 7], promptLength: 1, fullLength: 30, truncated: true },
      ],
      pairs: [{ values: { prompt: "p", chosen: "c", rejected: "r" }, origin: origin(3, 4) }],
      template: { name: "alpaca", prompt: "### Instruction:\n{{instruction}}", completion: "{{output}}", eos: true, mask_prompt: true },
      truncated: 1,
      dropped: 2,
    };
    await writeTokens(dir, v, { runDir: "/r" });
    expect(await readTokens(dir, { runDir: "/r" })).toEqual(v);
  });

  it("rejects a truncated rows file instead of returning part of it", async () => {
    const dir = tempDir("codec");
    await writeRows(dir, { kind: "rows", rows: [{ values: { a: 1 }, origin: origin(0) }, { values: { a: 2 }, origin: origin(1) }] }, { runDir: "/r" });
    const text = readFileSync(join(dir, "rows.jsonl"), "utf8");
    writeFileSync(join(dir, "rows.jsonl"), text.split("\n")[0] + "\n");
    await expect(readRows(dir, { runDir: "/r" })).rejects.toThrow(/1 lines, expected 2/);
  });
});

describe("through the cache", () => {
  it("restores a split's two row ports and an eval result with its files into a new run directory", async () => {
    const { graph } = compileRecipe(sb, recipe());
    const run1 = join(sb.dir, "runs", "codec-1");
    const run2 = join(sb.dir, "runs", "codec-2");
    const c1 = await primed(graph, run1);
    const split = node(graph, "split:train#3");
    const rows = (n: number): Row[] => Array.from({ length: n }, (_, i) => ({ values: { instruction: `i${i}`, output: `o${i}` }, origin: origin(i, i + 1) }));
    // Each node's inputs exist first, as in a run (a node that ran without its inputs is not stored).
    await computeAndPut(c1, node(graph, "sample:train#2"), async () => ({ rows: { kind: "rows", rows: rows(4) } }));
    const splitOut = await computeAndPut(c1, split, async () => ({ train: { kind: "rows", rows: rows(3) }, validation: { kind: "rows", rows: rows(1) } }));
    const loadNode = node(graph, "load_model:tiny");
    await computeAndPut(c1, loadNode, () => loadModelOp(loadNode, {}, execEnv(graph, run1, sb.dir)));
    const evalNode = node(graph, "eval_task:arc_easy@tiny");
    const file = join(run1, "eval", "arc_easy@tiny.json");
    const artifact = join(run1, "artifacts", "sft");
    const evalOut = await computeAndPut(c1, evalNode, async () => {
      mkdirSync(join(artifact, "nested"), { recursive: true });
      mkdirSync(join(run1, "eval"), { recursive: true });
      writeFileSync(file, '{"acc": 0.5}\n');
      writeFileSync(join(artifact, "nested", "w.bin"), Buffer.from([1, 2, 3]));
      writeFileSync(join(run1, "responses.jsonl"), "side file\n"); // written by the node but not named in its value
      const r: ResultValue = { kind: "result", data: { task: "arc_easy", stderr: NaN, dir: artifact }, files: [file, artifact] };
      return { result: r };
    });
    expect(c1.stats).toMatchObject({ stored: 2, errors: 0 }); // split and eval (sample ran without its input here)

    const c2 = await primed(graph, run2);
    const gotSplit = await c2.get(split);
    expect(gotSplit).toEqual(splitOut);
    const got = (await c2.get(evalNode))!["result"] as ResultValue;
    expect(got.files).toEqual([join(run2, "eval", "arc_easy@tiny.json"), join(run2, "artifacts", "sft")]);
    expect(got.data["dir"]).toBe(join(run2, "artifacts", "sft"));
    expect(got.data["stderr"]).toBeNaN();
    expect(readFileSync(join(run2, "eval", "arc_easy@tiny.json"), "utf8")).toBe('{"acc": 0.5}\n');
    expect([...readFileSync(join(run2, "artifacts", "sft", "nested", "w.bin"))]).toEqual([1, 2, 3]);
    expect(readFileSync(join(run2, "responses.jsonl"), "utf8")).toBe("side file\n");
    expect(((evalOut["result"] as ResultValue).data["dir"])).toBe(artifact);
    expect(c2.stats).toMatchObject({ hits: 2, misses: 0, errors: 0 });
  });

  it("drops an entry that verifies but does not decode, and recomputes", async () => {
    const own = await sandbox();
    const { graph } = compileRecipe(own, recipe());
    const log: string[] = [];
    const c = await primed(graph, join(own.dir, "runs", "bad"), log, own);
    const sample = node(graph, "sample:train#2");
    const key = (await c.keyOf(sample))!;
    // A sealed entry whose content is not what the codec wrote (another layout, a bug): the store cannot tell.
    await c.store.put(key, async (dir) => {
      mkdirSync(join(dir, "ports", "0"), { recursive: true });
      writeFileSync(join(dir, "outputs.json"), JSON.stringify({ format: "tune-node-outputs", version: 1, ports: [{ port: "rows", kind: "rows" }], files: [] }));
      writeFileSync(join(dir, "ports", "0", "rows.json"), '{"count": 5}\n');
      writeFileSync(join(dir, "ports", "0", "rows.jsonl"), '{"values":{},"origin":{"file":"f","format":"json","row":0}}\n');
    }, { op: "sample", nodeId: sample.id, recipe: "cached" });
    expect(await c.get(sample)).toBeNull();
    expect(c.stats.errors).toBe(1);
    expect(log.join("\n")).toMatch(/sample:train#2: entry [0-9a-f]{12} cannot be used \(.*1 lines, expected 5\); recomputing/);
    expect(await c.store.has(key)).toBe(false);
    const rows: Row[] = [{ values: { a: 1 }, origin: origin(0) }];
    await computeAndPut(c, node(graph, "filter:train#1"), async () => ({ rows: { kind: "rows", rows } }));
    await c.put(sample, { rows: { kind: "rows", rows } });
    expect(await c.store.has(key)).toBe(true);
  });

  it("does not store a node that ran without all of its inputs", async () => {
    const { graph } = compileRecipe(sb, recipe({ evalLimit: 5 })); // its own eval keys
    const log: string[] = [];
    const c = await primed(graph, join(sb.dir, "runs", "partial"), log);
    const evalNode = node(graph, "eval_task:arc_easy@tiny");
    await computeAndPut(c, evalNode, async () => ({ result: { kind: "result", data: { task: "arc_easy" }, files: [] } }));
    expect(c.stats).toMatchObject({ stored: 0, errors: 0 });
    expect(log).toContain("cache: eval_task:arc_easy@tiny: not stored (it ran without all of its inputs)");
    expect(await c.store.has((await c.keyOf(evalNode))!)).toBe(false);
  });

  it("logs and skips a value it cannot encode, leaving no entry", async () => {
    const own = await sandbox();
    const { graph } = compileRecipe(own, recipe());
    const log: string[] = [];
    const c = await primed(graph, join(own.dir, "runs", "odd"), log, own);
    await computeAndPut(c, node(graph, "load_data:rows"), async () => ({ rows: { kind: "rows", rows: [] } }));
    const filter = node(graph, "filter:train#1");
    await computeAndPut(c, filter, async () => ({ rows: { kind: "rows", rows: [{ values: { m: new Map() }, origin: origin(0) }] } }));
    expect(c.stats).toMatchObject({ stored: 1, errors: 1 }); // load_data stored, the filter not
    expect(log.join("\n")).toMatch(/filter:train#1: output not stored \(rows\[0\]\.values\.m is a Map/);
    expect(await c.store.has((await c.keyOf(filter))!)).toBe(false);
  });
});

// ---- models

function logits(m: ModelValue): Float32Array {
  const ids = Int32Array.from([1, 40, 300, 7, 1200, 55, 9, 2]);
  const t = m.model.logits({ ids, batch: 1, seqLen: ids.length });
  const out = t.dataSync() as Float32Array;
  t.dispose();
  return Float32Array.from(out);
}

/** A trained-looking stage: buildTrainable as the train op does, then weights no training run would leave at zero. */
function trainedStage(start: ModelValue, adapter: AdapterParams | null): ModelValue {
  const rng = new Rng(11);
  const noise = (n: number): Float32Array => Float32Array.from({ length: n }, () => (rng.nextFloat() - 0.5) * 0.1);
  const built = buildTrainable(start, adapter, 7);
  let model = built.model;
  if (built.adapter) {
    const w = built.adapter.exportPeft();
    for (const t of w.values()) t.data = noise(t.data.length);
    built.adapter.loadPeft(w);
  } else {
    const w = model.exportHfWeights();
    for (const t of w.values()) t.data = t.data.map((x, i) => x + noise(1)[0]! * (i % 3));
    model = LlamaModel.fromHfWeights(start.config, w, true);
  }
  return { ...start, name: "sft", model, adapter: built.adapter, adapterParams: adapter as unknown as Record<string, unknown> | null };
}

describe.each(["lora", "qlora", "full"] as const)("a %s stage", (method) => {
  it("comes back with the same settings and bit-identical logits", async () => {
    const { graph } = compileRecipe(sb, recipe({ method }));
    const loadNode = node(graph, "load_model:tiny");
    const trainNode = node(graph, "train:sft");
    const adapter = (trainNode.params["adapter"] ?? null) as AdapterParams | null;
    expect(adapter?.method ?? "full").toBe(method);

    const run1 = join(sb.dir, "runs", `${method}-1`);
    const c1 = await primed(graph, run1);
    const start = (await computeAndPut(c1, loadNode, () => loadModelOp(loadNode, {}, execEnv(graph, run1, sb.dir))))["model"] as ModelValue;
    const tokens: TokensValue = { kind: "tokens", method: "sft", examples: [], pairs: [], template: {}, truncated: 0, dropped: 0 };
    for (const id of ["tokenize:sft", "tokenize:sft/validation"]) await computeAndPut(c1, node(graph, id), async () => ({ tokens }));
    const trained = trainedStage(start, adapter);
    await computeAndPut(c1, trainNode, async () => ({ model: trained }));
    expect(c1.stats).toMatchObject({ stored: 1, errors: 0 }); // tokenize ran without its rows here: not stored

    // A new run: the base model is loaded again (never cached), the stage comes from the cache.
    const run2 = join(sb.dir, "runs", `${method}-2`);
    const c2 = await primed(graph, run2);
    await computeAndPut(c2, loadNode, () => loadModelOp(loadNode, {}, execEnv(graph, run2, sb.dir)));
    const restored = (await c2.get(trainNode))!["model"] as ModelValue;
    expect(c2.stats).toMatchObject({ hits: 1, errors: 0 });
    expect(restored.name).toBe("sft");
    expect(restored.adapterParams).toEqual(trained.adapterParams);
    expect(restored.adapter === null).toBe(method === "full");
    expect(restored.baseDir).toBe(start.baseDir);
    const a = logits(trained);
    const b = logits(restored);
    expect(Number.isFinite(a[0])).toBe(true);
    expect(b).toEqual(a);
    // The stage really differs from its base, so equality above is not the base model twice.
    expect(logits(start)).not.toEqual(a);
  });
});

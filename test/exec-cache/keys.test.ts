// Cache keys on real compiled graphs, without running them: which nodes a
// change reaches. The graph's hashes see recipe text only; the keys must also
// see the bytes of the data file and model directory, the tokenizer a
// `tokens(…)` filter uses, and whether the run is a smoke run.
import { cpSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CacheStore } from "../../runtime/store/index.js";
import { createNodeCache } from "../../runtime/exec/cache.js";
import { SMOKE_LIMITS } from "../../runtime/exec/run.js";
import type { SmokeLimits } from "../../runtime/exec/types.js";
import { cleanupTemps, compileRecipe, recipe, sandbox, tinyModelDir, type RecipeKnobs, type Sandbox } from "./helpers.js";

let sb: Sandbox;
beforeAll(async () => {
  sb = await sandbox();
});
afterAll(cleanupTemps);

async function keys(s: Sandbox, knobs: RecipeKnobs = {}, smoke: SmokeLimits | null = null): Promise<Record<string, string | null>> {
  const { graph } = compileRecipe(s, recipe(knobs));
  const store = new CacheStore({ root: s.cacheRoot });
  const cache = createNodeCache({ store, smoke, env: { recipeDir: s.dir, packageRoot: s.dir, runDir: join(s.dir, "runs", "k"), log: () => undefined, graph, seed: graph.seed } });
  const out: Record<string, string | null> = {};
  for (const n of graph.nodes) out[n.id] = await cache.keyOf(n);
  return out;
}

/** Node ids whose key differs between two key maps of the same graph shape. */
const changed = (a: Record<string, string | null>, b: Record<string, string | null>): string[] => Object.keys(a).filter((id) => a[id] !== b[id]);

const DATA = ["load_data:rows", "filter:train#1", "sample:train#2", "split:train#3"];
const STAGE = ["tokenize:sft", "tokenize:sft/validation", "train:sft", "export:sft"];

describe("cache keys", () => {
  it("are stable across runs and processes' cache instances", async () => {
    const a = await keys(sb);
    expect(Object.values(a).every((k) => typeof k === "string" && /^[0-9a-f]{64}$/.test(k))).toBe(true);
    expect(await keys(sb)).toEqual(a);
  });

  it("differ for every node between a smoke and a full run, and between smoke limits", async () => {
    const full = await keys(sb);
    const smoke = await keys(sb, {}, SMOKE_LIMITS);
    expect(changed(full, smoke)).toEqual(Object.keys(full));
    const smaller = await keys(sb, {}, { ...SMOKE_LIMITS, steps: 3 });
    expect(changed(smoke, smaller)).toEqual(Object.keys(full));
  });

  it("change only eval and report when only the eval block changes", async () => {
    expect(changed(await keys(sb), await keys(sb, { evalLimit: 3 }))).toEqual(["eval_task:arc_easy@tiny", "eval_task:arc_easy@sft", "report:cached"]);
  });

  it("keep loading and data prep when only the template changes", async () => {
    // The base model's eval has no template: it stays cached too.
    expect(changed(await keys(sb), await keys(sb, { template: "chatml" }))).toEqual([...STAGE, "eval_task:arc_easy@sft", "report:cached"]);
  });

  it("follow the data file's bytes, not its path", async () => {
    const s = await sandbox();
    const before = await keys(s);
    const rows = JSON.parse(readFileSync(join(s.dir, "rows.json"), "utf8")) as { output: string }[];
    rows[3]!.output += " (edited)";
    writeFileSync(join(s.dir, "rows.json"), JSON.stringify(rows, null, 1));
    const after = await keys(s);
    expect(changed(before, after)).toEqual([...DATA, ...STAGE, "eval_task:arc_easy@sft", "report:cached"]);
  });

  it("follow the model directory's files, and reach a filter that counts tokens", async () => {
    const s = await sandbox();
    const local = join(s.dir, "models", "tiny-llama");
    const src = await tinyModelDir(s.dir);
    if (src !== local) cpSync(src, local, { recursive: true });
    const knobs = { filter: "tokens(output) < 200" };
    const before = await keys(s, knobs);
    const gen = JSON.parse(readFileSync(join(local, "generation_config.json"), "utf8")) as Record<string, unknown>;
    writeFileSync(join(local, "generation_config.json"), JSON.stringify({ ...gen, eos_token_id: 2 }));
    const after = await keys(s, knobs);
    // load_data reads no model: unchanged. The filter counts tokens with the model's tokenizer: changed.
    expect(changed(before, after)).toEqual(["load_model:tiny", ...DATA.slice(1), ...STAGE, "eval_task:arc_easy@tiny", "eval_task:arc_easy@sft", "report:cached"]);
    const plain = await keys(s);
    expect(plain["filter:train#1"]).not.toBe(after["filter:train#1"]);
  });

  it("are absent downstream of a path that does not resolve, with one log line for the cause", async () => {
    const s = await sandbox();
    const { graph } = compileRecipe(s, recipe().replace('path = "rows.json"', 'path = "missing.json"'));
    const lines: string[] = [];
    const cache = createNodeCache({ store: new CacheStore({ root: s.cacheRoot }), smoke: null, env: { recipeDir: s.dir, packageRoot: s.dir, runDir: join(s.dir, "r"), log: (l) => void lines.push(l), graph } });
    const got: Record<string, string | null> = {};
    for (const n of graph.nodes) got[n.id] = await cache.keyOf(n);
    expect(got["load_data:rows"]).toBeNull();
    expect(got["split:train#3"]).toBeNull();
    expect(got["eval_task:arc_easy@tiny"]).toMatch(/^[0-9a-f]{64}$/);
    expect(lines).toEqual([expect.stringMatching(/^cache: load_data:rows: not cached \(data file `missing\.json` does not exist/)]);
  });
});

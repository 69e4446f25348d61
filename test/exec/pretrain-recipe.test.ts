// The recipe that makes the shipped tiny model (recipes/tiny-pretrain.tune), run smoke-sized through the
// in-process executor: a model initialised from config.json + tokenizer (`init = random`, seeded), plain-text
// pretraining with every token trained, and an export that loads back as the same model. Also: the documents it
// reads are exactly what scripts/pretrain-tiny.ts derives from data/ (the shipped text, fine-tuning sets held out);
// a stage without a template tokenizes `text` exactly as the former `plain_text` template did; packed pretraining
// rows are cut from the concatenated documents (groupTexts, as scripts/pretrain-tiny.ts at git 15bf95c did); the
// exported model card says the model was pretrained from scratch.
import { mkdtempSync, readFileSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { fsHost, packageRoot } from "../../cli/host.js";
import { compile } from "../../compiler/compile.js";
import type { Graph } from "../../compiler/graph.js";
import { initBackend } from "../../runtime/backend/index.js";
import { loadModelDir } from "../../runtime/checkpoint/index.js";
import { LlamaModel } from "../../runtime/model/llama.js";
import { runGraph, type RunSummary } from "../../runtime/exec/run.js";
import { groupTexts, packForStage } from "../../runtime/exec/batches.js";
import { tokenizeOp } from "../../runtime/exec/ops/tokenize.js";
import type { ExecEnv, ModelValue, TokensValue } from "../../runtime/exec/types.js";
import { fromArray, collect } from "../../runtime/data/row.js";
import { loadPretrainDocs } from "../../scripts/tiny-data.js";

const RECIPE = "recipes/tiny-pretrain.tune";
/** The recipe as it was with its `plain_text` template (before a stage without a template could train on `text`). */
const WITH_TEMPLATE = (text: string): string =>
  text.replace("stage pretrain {", 'template plain_text {\n  prompt = ""\n  completion = "{{text}}"\n  mask_prompt = false\n}\n\nstage pretrain {').replace("  data = corpus\n", "  data = corpus\n  template = plain_text\n");

function compileRecipe(text = readFileSync(RECIPE, "utf8")): Graph {
  const c = compile(RECIPE, text, fsHost());
  expect(c.diagnostics.map((d) => `${d.code} ${d.message}`)).toEqual([]);
  return c.graph!;
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

describe("recipes/tiny-pretrain.tune", () => {
  it("lowers to a seeded random init, plain-text tokenization and full pretraining with the tiny model's hyperparameters", () => {
    const g = compileRecipe();
    const load = g.nodes.find((n) => n.id === "load_model:tiny_init")!;
    expect(load.params).toMatchObject({ path: "models/tiny-llama", init: "random", seed: 0 });
    const tok = g.nodes.find((n) => n.id === "tokenize:pretrain")!;
    expect(tok.params).toMatchObject({ method: "pretrain", cutoff: 256, packing: true, template: null });
    expect(g.nodes.find((n) => n.op === "split")!.params).toMatchObject({ validation: { value: 2.47, unit: "%" } });
    const train = g.nodes.find((n) => n.id === "train:pretrain")!;
    expect(train.params).toMatchObject({ method: "pretrain", adapter: null, lr: 3e-3, batch: 4, micro_batch: 4, grad_accum: 1, max_steps: 1100, schedule: "cosine", weight_decay: 0.1, betas: [0.9, 0.95], max_grad_norm: 1, seed: 0 });
    expect(g.nodes.find((n) => n.op === "export")!.params).toMatchObject({ dtype: "fp32", stage: "pretrain" });
    // The init seed is part of what load_model computes: another seed is another node (and cache entry).
    const reseeded = compileRecipe(readFileSync(RECIPE, "utf8").replace("init = random", "init = random\n  seed = 1"));
    expect(reseeded.nodes.find((n) => n.id === "load_model:tiny_init")!.hash).not.toBe(load.hash);
  });

  it("reads the documents scripts/pretrain-tiny.ts derives from data/pretrain (fine-tuning records held out)", () => {
    const docs = loadPretrainDocs(process.cwd(), 0, 0);
    expect(docs.train.length).toBe(8099);
    expect(docs.excluded).toBe(1130);
    const shipped = readFileSync("data/pretrain/tiny_pretrain.jsonl", "utf8");
    expect(shipped).toBe(docs.train.map((text) => JSON.stringify({ text })).join("\n") + "\n");
  });
});

describe("groupTexts (packed pretraining rows)", () => {
  const doc = (ids: number[]) => ({ inputIds: ids, labels: ids });
  it("concatenates the documents and cuts rows every seqLen tokens; a document that spills over is its own segment", () => {
    const g = groupTexts([doc([1, 10, 11, 2]), doc([1, 20, 21, 22, 23, 24, 2]), doc([1, 30, 2])], 5);
    expect(g.rows.map((r) => r.inputIds)).toEqual([
      [1, 10, 11, 2, 1],
      [20, 21, 22, 23, 24],
    ]);
    expect(g.rows.map((r) => r.segments)).toEqual([
      [0, 0, 0, 0, 1],
      [0, 0, 0, 0, 0],
    ]);
    // Each segment's first label is −100: no token learns the next document's (or the spilled part's) start.
    expect(g.rows.map((r) => r.labels)).toEqual([
      [-100, 10, 11, 2, -100],
      [-100, 21, 22, 23, 24],
    ]);
    // The partial last row ([2, 1, 30, 2]: the first document's tail and the third document) is dropped, as HF group_texts drops it.
    expect(g).toMatchObject({ droppedRows: 1, droppedTokens: 4, totalTokens: 14 });
    const exact = groupTexts([doc([1, 5, 2]), doc([1, 6, 2])], 3);
    expect(exact).toMatchObject({ droppedRows: 0, droppedTokens: 0 });
    expect(exact.rows.map((r) => r.inputIds)).toEqual([[1, 5, 2], [1, 6, 2]]);
  });

  it("keeps a document's own masked labels, and is selected for pretrain only (SFT packs whole examples)", () => {
    const masked = { inputIds: [1, 7, 8, 9], labels: [-100, -100, 8, 9] };
    expect(groupTexts([masked, masked], 3).rows.map((r) => r.labels)).toEqual([[-100, -100, 8], [-100, -100, -100]]);
    const docs = [doc([1, 10, 11, 2]), doc([1, 20, 2])];
    expect(packForStage("pretrain", docs, 4).rows).toHaveLength(1);
    expect(packForStage("pretrain", docs, 4).summary).toContain("dropped 1 partial last row (3 tokens)");
    const sft = packForStage("sft", docs, 4);
    expect(sft.rows.map((r) => r.inputIds)).toEqual([[1, 10, 11, 2], [1, 20, 2]]);
    expect(() => packForStage("pretrain", [doc([1, 2])], 4)).toThrow(/less than one row of 4 tokens/);
  });
});

describe("tune run recipes/tiny-pretrain.tune --smoke", () => {
  let summary: RunSummary;
  let out = "";
  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), "tune-pretrain-"));
    await initBackend("wasm");
    summary = await runGraph({
      graph: compileRecipe(),
      recipePath: RECIPE,
      recipeText: readFileSync(RECIPE, "utf8"),
      packageRoot: packageRoot(),
      runsDir: join(dir, "runs"),
      smoke: true,
      cache: false,
      out: { isTTY: false, write: (t) => (out += t) },
    });
  }, 240_000);

  const model = (id: string): ModelValue => summary.values.get(id)!["model"] as ModelValue;

  it("runs every node, substituting nothing but the smoke caps", () => {
    expect(summary.outcomes.filter((o) => o.state !== "done"), out).toEqual([]);
    expect(summary.ok).toBe(true);
    // The model is not replaced by the shipped tiny model: it is the tiny architecture, from scratch.
    expect(summary.substitutions.map((s) => s.node)).not.toContain("load_model:tiny_init");
  });

  it("starts from seeded random weights (the recipe seed), not from the weights in the directory", async () => {
    const start = model("load_model:tiny_init");
    const expected = LlamaModel.random(start.config, 0);
    const shipped = await loadModelDir("models/tiny-llama", { tokenizer: false });
    for (const name of ["model.embed_tokens.weight", "model.layers.0.self_attn.q_proj.weight", "model.norm.weight"]) {
      const w = start.model.exportHfWeights().get(name)!.data;
      expect(maxAbsDiff(w, expected.exportHfWeights().get(name)!.data), name).toBe(0);
      if (name !== "model.norm.weight") expect(maxAbsDiff(w, shipped.model.exportHfWeights().get(name)!.data), name).toBeGreaterThan(0.01);
    }
    expected.dispose();
    shipped.model.dispose();
  });

  it("trains on plain text: BOS + document + EOS, every token a label", () => {
    const tokens = summary.values.get("tokenize:pretrain")!["tokens"] as TokensValue;
    expect(tokens.examples.length).toBeGreaterThan(150);
    for (const ex of tokens.examples) {
      expect(ex.inputIds[0]).toBe(1);
      if (!ex.truncated) expect(ex.inputIds[ex.inputIds.length - 1]).toBe(2);
      expect(ex.labels).toEqual(ex.inputIds);
    }
  });

  it("tokenizes `text` without a template exactly as the former plain_text template did", async () => {
    const withTemplate = compileRecipe(WITH_TEMPLATE(readFileSync(RECIPE, "utf8")));
    expect(withTemplate.nodes.find((n) => n.id === "tokenize:pretrain")!.params["template"]).toMatchObject({ prompt: "", completion: "{{text}}", mask_prompt: false, eos: true });
    const lines = readFileSync("data/pretrain/tiny_pretrain.jsonl", "utf8").split("\n").slice(0, 40).map((l) => JSON.parse(l) as { text: string });
    const rows = await collect(fromArray(lines.map((values, row) => ({ values, origin: { file: "tiny_pretrain.jsonl", format: "memory" as const, row } }))));
    const tokenizer = model("load_model:tiny_init");
    const env = { smoke: null, log: () => {}, metric: () => {} } as unknown as ExecEnv;
    const run = async (g: Graph) => ((await tokenizeOp(g.nodes.find((n) => n.id === "tokenize:pretrain")!, { rows: { kind: "rows", rows }, tokenizer }, env))["tokens"] as TokensValue).examples;
    const plain = await run(compileRecipe());
    const templated = await run(withTemplate);
    expect(plain.map((e) => e.inputIds)).toEqual(templated.map((e) => e.inputIds));
    expect(plain.map((e) => e.labels)).toEqual(templated.map((e) => e.labels));
    // BOS + text + EOS, whole: packed pretraining cuts rows later, so no document is truncated here.
    plain.forEach((e, i) => expect(e.inputIds).toEqual([1, ...tokenizer.tokenizer.encode(lines[i]!.text), 2]));
    expect(plain.some((e) => e.inputIds.length > 256)).toBe(true);
  });

  it("cuts its training rows from the concatenated documents and logs what the cut dropped", () => {
    expect(out).toMatch(/train:pretrain: concatenated 195 documents \(\d+ tokens\) and cut them into \d+ rows of 256 tokens; dropped [01] partial last row \(\d+ tokens\)/);
  });

  it("exports a model card that says it was pretrained from scratch, not fine-tuned", () => {
    const card = readFileSync(join(summary.runDir, "artifacts", "pretrain", "README.md"), "utf8");
    expect(card).toContain("Pretrained from scratch by tune (recipe `tiny_pretrain`, stage `pretrain`)");
    expect(card).toContain("initialised at random (seed 0) with the architecture and tokenizer of `models/tiny-llama`");
    expect(card).not.toMatch(/fine-tuned|base_model/);
  });

  it("lowers the loss over its optimizer steps", () => {
    const lines = readFileSync(join(summary.runDir, "metrics.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l) as Record<string, unknown>);
    const steps = lines.filter((l) => l["node"] === "train:pretrain" && typeof l["loss"] === "number");
    expect(steps.map((s) => s["step"])).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
    const loss = steps.map((s) => s["loss"] as number);
    // A fresh model predicts ~uniformly: loss ≈ ln(2048) = 7.62 at the first step.
    expect(Math.abs(loss[0]! - Math.log(2048))).toBeLessThan(0.1);
    const lastThree = (loss[9]! + loss[10]! + loss[11]!) / 3;
    expect(lastThree).toBeLessThan(loss[0]! - 0.5);
    expect(lines.some((l) => l["node"] === "train:pretrain" && typeof l["eval_loss"] === "number")).toBe(true);
  });

  it("exports a full HF directory that loads back through the HF loader with identical logits", async () => {
    const dir = join(summary.runDir, "artifacts", "pretrain");
    expect(readdirSync(dir)).toEqual(expect.arrayContaining(["config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json", "generation_config.json"]));
    const trained = model("train:pretrain");
    const loaded = await loadModelDir(dir);
    expect(loaded.config).toMatchObject({ vocabSize: 2048, hiddenSize: 128, numLayers: 4, tieWordEmbeddings: true });
    const ids = Int32Array.from(loaded.tokenizer!.encode("Give three tips for staying healthy.\n\nEat well, sleep, move."));
    const batch = { ids: Int32Array.from([1, ...ids]), batch: 1, seqLen: ids.length + 1 };
    const a = trained.model.logits(batch);
    const b = loaded.model.logits(batch);
    expect(maxAbsDiff(a.dataSync() as Float32Array, b.dataSync() as Float32Array)).toBe(0);
    a.dispose();
    b.dispose();
    loaded.model.dispose();
  });
});

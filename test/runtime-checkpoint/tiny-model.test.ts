// The shipped tiny model (models/tiny-llama): its architecture is stdlib `tiny_llama`, it loads through the
// checkpoint loader, the stdlib templates tokenize with it, it has learned the pretraining distribution, its
// logits still match the committed fixture (the one transformers is checked against), and generation works.
//
// Why this exists: `tune run --smoke` and many tests stand on this model; if it drifts from the stdlib arch, loses
// its special tokens, or silently changes, every downstream number changes with it.

import { readFile, stat } from "node:fs/promises";
import { createHash } from "node:crypto";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { initBackend } from "../../runtime/backend/index.js";
import { loadModelDir, type LoadedModelDir } from "../../runtime/checkpoint/index.js";
import type { Row } from "../../runtime/data/row.js";
import { compileTemplate, renderRow, stdlibTemplate } from "../../runtime/data/template.js";
import { tokenizeExample } from "../../runtime/data/tokenize.js";
import { generate } from "../../runtime/model/generate.js";
import { tokenLogProbs } from "../../runtime/model/logprobs.js";
import type { Tokenizer } from "../../runtime/tokenizer/index.js";

const ROOT = new URL("../..", import.meta.url).pathname;
const DIR = join(ROOT, "models/tiny-llama");

interface Fixture {
  model_safetensors_sha256: string;
  cols: number;
  texts: { text: string; ids: number[]; logits_first_cols: number[][]; last_logits: number[]; logprobs: number[] }[];
}

let loaded: LoadedModelDir;
let tok: Tokenizer;

beforeAll(async () => {
  await initBackend("wasm");
  loaded = await loadModelDir(DIR);
  tok = loaded.tokenizer!;
});
afterAll(() => loaded.model.dispose());

/** Fields of `arch tiny_llama { … }` in stdlib/models.tune. */
async function stdlibArch(): Promise<Record<string, string>> {
  const src = await readFile(join(ROOT, "stdlib/models.tune"), "utf8");
  const body = /arch tiny_llama \{([^}]*)\}/.exec(src)![1];
  return Object.fromEntries([...body.matchAll(/(\w+)\s*=\s*(\S+)/g)].map((m) => [m[1], m[2]]));
}

const row = (values: Record<string, unknown>): Row => ({ values, origin: { file: "test", format: "memory", row: 0 } });

describe("models/tiny-llama", () => {
  it("is the stdlib tiny_llama architecture, ≤ 16 MB, with bos/eos of its tokenizer", async () => {
    const a = await stdlibArch();
    const c = loaded.config;
    expect([c.vocabSize, c.hiddenSize, c.intermediateSize, c.numLayers, c.numHeads, c.numKvHeads, c.maxPositionEmbeddings, c.ropeTheta])
      .toEqual([a.vocab, a.hidden, a.intermediate, a.layers, a.heads, a.kv_heads, a.max_position, a.rope_theta].map(Number));
    expect(c.tieWordEmbeddings).toBe(a.tied === "true");
    expect((await stat(join(DIR, "model.safetensors"))).size).toBeLessThanOrEqual(16 * 1024 * 1024);
    expect([c.bosTokenId, c.eosTokenIds, c.padTokenId]).toEqual([tok.bosId, [tok.eosId], tok.padId]);
    expect(tok.vocabSize).toBe(c.vocabSize);
    expect(loaded.generation.eosTokenIds).toEqual([2, 5, 7]);
  });

  it("documents itself: README with data, license, tokens seen, final loss and the reproduce command", async () => {
    const readme = await readFile(join(DIR, "README.md"), "utf8");
    for (const s of ["CC BY-NC 4.0", "tokens seen", "Final training loss", "validation loss", "node dist/scripts/pretrain-tiny.js", "Unigram entropy"]) {
      expect(readme).toContain(s);
    }
  });

  it("tokenizes the stdlib templates alpaca, llama3_chat and chatml with their markers as single special tokens", () => {
    const r = row({ instruction: "Name a color.", input: "", output: "Blue — like the sky 🌤." });
    const cases = [
      { name: "alpaca", markers: [] as number[], last: tok.eosId! },
      { name: "llama3_chat", markers: [1, 3, 4, 5], last: 5 },
      { name: "chatml", markers: [6, 7], last: tok.encode("\n")[0] },
    ];
    for (const c of cases) {
      const rendered = renderRow(compileTemplate(stdlibTemplate(c.name)), r);
      const ex = tokenizeExample(rendered, tok, { cutoff: 512, eosId: tok.eosId! });
      for (const m of c.markers) expect(ex.inputIds, `${c.name} has id ${m}`).toContain(m);
      expect(ex.inputIds[ex.inputIds.length - 1]).toBe(c.last);
      const body = rendered.appendEos ? ex.inputIds.slice(0, -1) : ex.inputIds;
      expect(tok.decode(body)).toBe(rendered.prompt + rendered.completion);
      expect(ex.labels.filter((l) => l !== -100).length).toBeGreaterThan(3);
    }
  });

  it("has learned the data: held-out Alpaca text scores well below the unigram entropy", async () => {
    const rows = JSON.parse(await readFile(join(ROOT, "data/alpagasus/claude_t45.json"), "utf8")) as { instruction: string; input: string; output: string }[];
    const docs = rows.slice(0, 600).map((r) => [tok.bosId!, ...tok.encode(`${r.instruction}\n\n${r.input ? `${r.input}\n\n` : ""}${r.output}`), tok.eosId!]);
    const counts = new Map<number, number>();
    let n = 0;
    for (const d of docs) for (const t of d.slice(1)) (counts.set(t, (counts.get(t) ?? 0) + 1), n++);
    let unigram = 0;
    for (const c of counts.values()) unigram -= (c / n) * Math.log(c / n);
    let nll = 0;
    let m = 0;
    for (const d of docs.slice(0, 12)) {
      const lp = tokenLogProbs(loaded.model, d.slice(0, 256)).logprobs;
      for (const x of lp) (nll -= x, m++);
    }
    // the in-sample unigram entropy of these 600 documents is itself an optimistic (low) baseline
    expect(nll / m).toBeLessThan(unigram - 1);
  });

  it("matches the committed logits fixture (the one check_transformers.py compares transformers against)", async () => {
    const fx = JSON.parse(await readFile(join(ROOT, "test/fixtures/checkpoint/tiny_logits.json"), "utf8")) as Fixture;
    const sha = createHash("sha256").update(await readFile(join(DIR, "model.safetensors"))).digest("hex");
    expect(sha, "models/tiny-llama changed: rerun scripts/tiny-fixture.ts").toBe(fx.model_safetensors_sha256);
    const V = loaded.config.vocabSize;
    let worst = 0;
    for (const t of fx.texts) {
      expect(tok.encodeWithSpecials(t.text)).toEqual(t.ids);
      const lt = loaded.model.logits({ ids: Int32Array.from(t.ids), batch: 1, seqLen: t.ids.length });
      const logits = lt.dataSync() as Float32Array;
      lt.dispose();
      t.logits_first_cols.forEach((rowVals, p) => rowVals.forEach((v, j) => (worst = Math.max(worst, Math.abs(logits[p * V + j] - v)))));
      t.last_logits.forEach((v, j) => (worst = Math.max(worst, Math.abs(logits[(t.ids.length - 1) * V + j] - v))));
    }
    expect(worst).toBeLessThan(1e-4);
  });

  it("generates deterministically (greedy) and reproducibly (seeded sampling), stopping at EOS or a stop string", () => {
    const prompt = tok.encodeWithSpecials("Give three tips for staying healthy.\n\n");
    const decode = (ids: number[]): string => tok.decode(ids, { skipSpecial: true });
    const g1 = generate(loaded.model, prompt, { maxNewTokens: 24, eosTokenIds: loaded.generation.eosTokenIds, decode });
    const g2 = generate(loaded.model, prompt, { maxNewTokens: 24, eosTokenIds: loaded.generation.eosTokenIds, decode });
    expect(g1).toEqual(g2);
    expect(g1.tokens.length).toBeGreaterThan(0);
    expect(g1.text!.trim().length).toBeGreaterThan(0);
    const s1 = generate(loaded.model, prompt, { maxNewTokens: 16, temperature: 0.9, topP: 0.9, seed: 3, decode });
    const s2 = generate(loaded.model, prompt, { maxNewTokens: 16, temperature: 0.9, topP: 0.9, seed: 3, decode });
    expect(s1.tokens).toEqual(s2.tokens);
    const firstWord = g1.text!.trim().split(/\s+/)[0];
    const stopped = generate(loaded.model, prompt, { maxNewTokens: 24, stopStrings: [firstWord], decode });
    expect(stopped.finishReason).toBe("stop");
    expect(stopped.text).not.toContain(firstWord);
  });
});

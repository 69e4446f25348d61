import { describe, expect, it } from "vitest";
import {
  collect,
  compileTemplate,
  DataError,
  IGNORE_INDEX,
  openSource,
  renderRow,
  stdlibTemplate,
  STDLIB_TEMPLATES,
  tokenizeAll,
  tokenizeExample,
  type Row,
  type TokenizerLike,
} from "../../runtime/data/index.js";
import { DATA, FIX } from "./helpers.js";

// The stanford_alpaca PROMPT_DICT strings, typed out here independently of the module (algorithms.md §4).
const WITH_INPUT =
  "Below is an instruction that describes a task, paired with an input that provides further context. Write a response that appropriately completes the request.\n\n### Instruction:\nTranslate to French.\n\n### Input:\ngood morning\n\n### Response:";
const NO_INPUT =
  "Below is an instruction that describes a task. Write a response that appropriately completes the request.\n\n### Instruction:\nWhat is 2+2?\n\n### Response:";

const row = (values: Record<string, unknown>, file = "t"): Row => ({ values, origin: { file, format: "memory", row: 0 } });

describe("alpaca template", () => {
  const alpaca = compileTemplate(STDLIB_TEMPLATES.alpaca);

  it("renders the exact PROMPT_DICT strings, chosen by whether input is empty", () => {
    const a = renderRow(alpaca, row({ instruction: "Translate to French.", input: "good morning", output: "bonjour" }));
    expect(a).toEqual({ prompt: WITH_INPUT, completion: "bonjour", appendEos: true });
    const b = renderRow(alpaca, row({ instruction: "What is 2+2?", input: "", output: "4" }));
    expect(b.prompt).toBe(NO_INPUT);
    const c = renderRow(alpaca, row({ instruction: "What is 2+2?", output: "4" })); // input absent = empty
    expect(c.prompt).toBe(NO_INPUT);
  });

  it("reproduces the `text` field of all 100 alpaca_tiny records (prompt + \"\\n\" + output)", async () => {
    const src = await openSource(`${DATA}/alpaca/alpaca_tiny.json`);
    let checked = 0;
    for (const r of await collect(src.rows)) {
      const { prompt, completion } = renderRow(alpaca, r);
      expect(`${prompt}\n${completion}`).toBe(r.values.text);
      checked++;
    }
    expect(checked).toBe(100);
  });

  it("does not HTML-escape and reports a missing field at the row (T5530)", () => {
    const r = renderRow(alpaca, row({ instruction: "Is 1 < 2 & \"true\"?", input: "", output: "<yes>" }));
    expect(r.prompt).toContain('Is 1 < 2 & "true"?');
    expect(r.completion).toBe("<yes>");
    let err: DataError | undefined;
    try {
      renderRow(alpaca, { values: { input: "", output: "x" }, origin: { file: "d.jsonl", format: "jsonl", line: 12, row: 11 } });
    } catch (e) {
      err = e as DataError;
    }
    expect(err?.code).toBe("T5530");
    expect(err?.message).toBe('d.jsonl:12: template alpaca uses field "instruction", which this row does not have');
  });
});

describe("llama3_chat template", () => {
  const llama3 = compileTemplate(STDLIB_TEMPLATES.llama3_chat);

  it("renders an instruction row in the exact Llama 3 Instruct format", () => {
    const r = renderRow(llama3, row({ instruction: "What is 2+2?", input: "", output: " 4 " }), { system: "You are a helpful assistant." });
    expect(r.prompt).toBe(
      "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nYou are a helpful assistant.<|eot_id|>" +
        "<|start_header_id|>user<|end_header_id|>\n\nWhat is 2+2?<|eot_id|>" +
        "<|start_header_id|>assistant<|end_header_id|>\n\n",
    );
    expect(r.completion).toBe("4<|eot_id|>");
    expect(r.appendEos).toBe(false);
    const noSys = renderRow(llama3, row({ instruction: "Translate to French.", input: "good morning", output: "bonjour" }));
    expect(noSys.prompt).toBe(
      "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nTranslate to French.\n\ngood morning<|eot_id|>" +
        "<|start_header_id|>assistant<|end_header_id|>\n\n",
    );
  });

  it("renders multi-turn messages; earlier assistant turns are prompt", async () => {
    const src = await openSource(`${FIX}/messages.jsonl`);
    const rows = await collect(src.rows);
    const r = renderRow(llama3, rows[1]);
    expect(r.prompt).toBe(
      "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nBe brief.<|eot_id|>" +
        "<|start_header_id|>user<|end_header_id|>\n\n2+2?<|eot_id|>" +
        "<|start_header_id|>assistant<|end_header_id|>\n\n4<|eot_id|>" +
        "<|start_header_id|>user<|end_header_id|>\n\n3+3?<|eot_id|>" +
        "<|start_header_id|>assistant<|end_header_id|>\n\n",
    );
    expect(r.completion).toBe("6<|eot_id|>");
    expect(renderRow(llama3, rows[0]).completion).toBe("Hello!<|eot_id|>");
  });

  it("rejects messages that do not end with the assistant (T5531)", () => {
    const r = row({ messages: [{ role: "user", content: "hi" }] });
    expect(() => renderRow(llama3, r)).toThrow(/messages must end with an assistant turn/);
  });
});

describe("chatml template", () => {
  it("renders the exact ChatML format", () => {
    const chatml = compileTemplate(stdlibTemplate("chatml"));
    const r = renderRow(chatml, row({ instruction: "Hi", input: "", output: "Hello" }), { system: "Be kind." });
    expect(r.prompt).toBe("<|im_start|>system\nBe kind.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n");
    expect(r.completion).toBe("Hello<|im_end|>\n");
  });

  it("unknown templates and unparsable bodies are errors", () => {
    expect(() => stdlibTemplate("vicuna")).toThrow(/unknown template `vicuna`/);
    expect(() => compileTemplate({ name: "x", kind: "fields", prompt: "{{#if a}}", completion: "", appendEos: true })).toThrow(
      /template x: prompt body does not parse/,
    );
  });
});

// ---- tokenization

/** One token per character (code point). */
const chars: TokenizerLike = { encode: (t) => [...t].map((c) => c.codePointAt(0)!) };

describe("tokenizeExample", () => {
  const alpaca = compileTemplate(STDLIB_TEMPLATES.alpaca);
  const rendered = renderRow(alpaca, row({ instruction: "What is 2+2?", input: "", output: "4" }));

  it("masks BOS + prompt with −100 and appends EOS (stanford_alpaca)", () => {
    const ex = tokenizeExample(rendered, chars, { cutoff: 512, bosId: 1, eosId: 2 });
    const p = NO_INPUT.length;
    expect(ex.inputIds.length).toBe(1 + p + 1 + 1);
    expect(ex.inputIds[0]).toBe(1);
    expect(ex.inputIds.at(-1)).toBe(2);
    expect(ex.promptLength).toBe(1 + p);
    expect(ex.labels.slice(0, 1 + p).every((l) => l === IGNORE_INDEX)).toBe(true);
    expect(ex.labels.slice(1 + p)).toEqual(["4".charCodeAt(0), 2]);
    expect(ex.truncated).toBe(false);
  });

  it("truncates at the cutoff and counts truncations and target-less examples", () => {
    const p = NO_INPUT.length;
    const { examples, stats } = tokenizeAll([rendered, rendered, rendered], chars, { cutoff: p + 2, bosId: 1, eosId: 2 });
    expect(examples[0].inputIds.length).toBe(p + 2);
    expect(examples[0].labels.at(-1)).toBe("4".charCodeAt(0)); // EOS was cut
    expect(stats).toEqual({ examples: 3, truncated: 3, noTarget: 0, maxLength: p + 3 });
    const short = tokenizeAll([rendered], chars, { cutoff: 10, bosId: 1, eosId: 2 });
    expect(short.stats.noTarget).toBe(1);
  });

  it("maskPrompt false trains on every token; no EOS for end-of-turn templates", () => {
    const ex = tokenizeExample(rendered, chars, { cutoff: 512, eosId: 2, maskPrompt: false });
    expect(ex.labels).toEqual(ex.inputIds);
    const llama = renderRow(compileTemplate(STDLIB_TEMPLATES.llama3_chat), row({ instruction: "hi", input: "", output: "yo" }));
    const l = tokenizeExample(llama, chars, { cutoff: 512 });
    expect(l.inputIds.at(-1)).toBe(">".charCodeAt(0)); // ends with the text of <|eot_id|>, nothing appended
  });

  it("joint mode masks len(tok(prompt)) of tok(prompt + completion), like the reference; separate splits at the edge", () => {
    // a tokenizer that merges "ab" into one token 999
    const merging: TokenizerLike = {
      encode: (t) => {
        const out: number[] = [];
        for (let i = 0; i < t.length; i++) {
          if (t[i] === "a" && t[i + 1] === "b") {
            out.push(999);
            i++;
          } else out.push(t.charCodeAt(i));
        }
        return out;
      },
    };
    const r = { prompt: "xa", completion: "by", appendEos: false };
    const joint = tokenizeExample(r, merging, { cutoff: 10 });
    expect(joint.inputIds).toEqual([120, 999, 121]);
    expect(joint.labels).toEqual([-100, -100, 121]);
    const sep = tokenizeExample(r, merging, { cutoff: 10, mode: "separate" });
    expect(sep.inputIds).toEqual([120, 97, 98, 121]);
    expect(sep.labels).toEqual([-100, -100, 98, 121]);
  });

  it("requires an EOS id when the template appends EOS (T5533)", () => {
    expect(() => tokenizeExample(rendered, chars, { cutoff: 16 })).toThrow(/no eos id was given/);
  });

  it("renders + tokenizes the shipped preference set end to end", async () => {
    const src = await openSource(`${DATA}/llm_from_scratch_preference/instruction-data-with-preference.json`);
    const rows = await collect(src.rows);
    const rendered = rows.map((r) => renderRow(alpaca, { ...r, values: { ...r.values, output: r.values.chosen } }));
    const { stats } = tokenizeAll(rendered, chars, { cutoff: 256, bosId: 1, eosId: 2 });
    expect(stats.examples).toBe(1100);
    expect(stats.truncated).toBeGreaterThan(0);
  });
});

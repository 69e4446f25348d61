// Preference rows → token ids: template on the prompt, BOS/EOS, classic TRL truncation, identical pairs, chat rows.
//
// Why this exists: what DPO scores is decided here; each rule of classic TRL `tokenize_row` (algorithms.md §6)
// is pinned with a character tokenizer whose ids are easy to read (id = UTF-16 code unit).

import { describe, expect, it } from "vitest";
import { DataError } from "../../runtime/data/errors.js";
import type { TokenizerLike } from "../../runtime/data/tokenize.js";
import { collatePairs, validPositions } from "../../runtime/pref/batch.js";
import { tokenizePreferences, type PrefTemplate, type PrefTokenizeOptions } from "../../runtime/pref/data.js";

const chars: TokenizerLike = { encode: (s) => Array.from(s, (c) => c.charCodeAt(0)) };
const enc = (s: string) => chars.encode(s);
const BOS = 1;
const EOS = 2;
const T: PrefTemplate = { name: "qa", prompt: "Q: {{prompt}}\nA: ", eos: true };
const base: PrefTokenizeOptions = { maxLength: 64, maxPromptLength: 32, truncation: "keep_start", bosId: BOS, eosId: EOS };

function thrown(fn: () => unknown): DataError {
  try {
    fn();
  } catch (e) {
    if (e instanceof DataError) return e;
    throw e;
  }
  throw new Error("expected a DataError");
}

describe("tokenizing preference pairs", () => {
  it("BOS + templated prompt; each response + EOS; labels only on responses after collation", () => {
    const { examples, report } = tokenizePreferences([{ prompt: "hi", chosen: "yes", rejected: "no" }], chars, T, base);
    const ex = examples[0];
    expect(ex.promptIds).toEqual([BOS, ...enc("Q: hi\nA: ")]);
    expect(ex.chosenIds).toEqual([...enc("yes"), EOS]);
    expect(ex.rejectedIds).toEqual([...enc("no"), EOS]);
    expect(report).toMatchObject({ rows: 1, pairs: 1, truncatedPrompt: 0, truncatedResponse: 0, identical: { count: 0 } });
    const b = collatePairs(examples, 0);
    expect([b.batch, b.pairs, b.seqLen]).toEqual([2, 1, ex.promptIds.length + 4]);
    expect(Array.from(validPositions(b).counts)).toEqual([4, 3]);
    const P = ex.promptIds.length;
    expect(Array.from(b.labels.slice(0, P)).every((l) => l === -100)).toBe(true);
    expect(Array.from(b.labels.slice(P, P + 4))).toEqual([...enc("yes"), EOS]);
    expect(Array.from(b.ids.slice(b.seqLen + P + 3))).toEqual([0]); // rejected row right-padded
  });

  it("no duplicate BOS or EOS when the text already has them; eos=false appends nothing", () => {
    const tok: TokenizerLike = { encode: (s) => (s.startsWith("<s>") ? [BOS, ...enc(s.slice(3))] : s.endsWith("</s>") ? [...enc(s.slice(0, -4)), EOS] : enc(s)) };
    const t: PrefTemplate = { name: "t", prompt: "<s>{{prompt}}", completion: "{{response}}</s>", eos: true };
    const ex = tokenizePreferences([{ prompt: "p", chosen: "a", rejected: "b" }], tok, t, base).examples[0];
    expect(ex.promptIds).toEqual([BOS, ...enc("p")]);
    expect(ex.chosenIds).toEqual([...enc("a"), EOS]);
    const noEos = tokenizePreferences([{ prompt: "p", chosen: "a", rejected: "b" }], chars, { ...T, eos: false }, { ...base, eosId: null });
    expect(noEos.examples[0].chosenIds).toEqual(enc("a"));
  });

  it("too long: the prompt is cut to max_prompt_length (keep_start / keep_end), responses kept", () => {
    // prompt = BOS + "Q: abcdef\nA: " = 14 tokens; longer response = 4 ⇒ 18 > 16
    const row = { prompt: "abcdef", chosen: "xyz", rejected: "w" };
    const o = { ...base, maxLength: 16, maxPromptLength: 10 };
    const full = [BOS, ...enc("Q: abcdef\nA: ")];
    const start = tokenizePreferences([row], chars, T, o);
    expect(start.examples[0].promptIds).toEqual(full.slice(0, 10));
    expect(start.examples[0].chosenIds).toEqual([...enc("xyz"), EOS]);
    expect(start.report.truncatedPrompt).toBe(1);
    const end = tokenizePreferences([row], chars, T, { ...o, truncation: "keep_end" });
    expect(end.examples[0].promptIds).toEqual(full.slice(-10)); // BOS is lost, as in TRL
    expect(end.report.truncatedResponse).toBe(0);
  });

  it("still too long: both responses cut to max_length − max_prompt_length (EOS may go)", () => {
    const row = { prompt: "ab", chosen: "0123456789", rejected: "short" };
    const o = { ...base, maxLength: 12, maxPromptLength: 8 };
    const { examples, report } = tokenizePreferences([row], chars, T, o);
    expect(examples[0].promptIds).toHaveLength(8);
    expect(examples[0].chosenIds).toEqual(enc("0123"));
    expect(examples[0].rejectedIds).toEqual(enc("shor"));
    expect(report).toMatchObject({ truncatedPrompt: 1, truncatedResponse: 1 });
  });

  it("reports identical pairs with their row numbers; keeps them by default, drops them on request", () => {
    const rows = [
      { prompt: "a", chosen: "x", rejected: "y" },
      { prompt: "b", chosen: "same", rejected: "same" },
      { prompt: "c", chosen: "z", rejected: "w" },
      { prompt: "d", chosen: "q", rejected: "q" },
    ];
    const kept = tokenizePreferences(rows, chars, T, base, "prefs.json");
    expect(kept.report.identical).toEqual({ count: 2, rows: [1, 3], where: ["prefs.json (row 1)", "prefs.json (row 3)"], dropped: false });
    expect(kept.examples).toHaveLength(4);
    const dropped = tokenizePreferences(rows, chars, T, { ...base, identical: "drop" });
    expect(dropped.examples.map((e) => e.index)).toEqual([0, 2]);
    expect(dropped.report).toMatchObject({ rows: 4, pairs: 2, identical: { count: 2, rows: [1, 3], dropped: true } });
    const cut = tokenizePreferences([{ prompt: "a", chosen: "abcdX", rejected: "abcdY" }], chars, T, { ...base, maxLength: 12, maxPromptLength: 8 });
    expect(cut.report.identicalAfterTruncation).toEqual({ count: 1, rows: [0] });
  });

  it("chat transcripts: the last assistant turn is the response, the shared turns are the prompt's messages", () => {
    const chat: PrefTemplate = {
      name: "chat", prompt: "{{#each messages}}<{{role}}>{{content}}{{/each}}<assistant>", completion: "{{response}}<end>", eos: false,
    };
    const row = {
      prompt: "hello",
      chosen: [{ role: "user", content: "hello" }, { role: "assistant", content: "hi there" }],
      rejected: [{ role: "user", content: "hello" }, { role: "assistant", content: "go away" }],
    };
    const ex = tokenizePreferences([row], chars, chat, { ...base, bosId: null }).examples[0];
    expect(ex.promptIds).toEqual(enc("<user>hello<assistant>"));
    expect(ex.chosenIds).toEqual(enc("hi there<end>"));
    expect(ex.rejectedIds).toEqual(enc("go away<end>"));
    // a plain-string prompt becomes one user turn for chat templates
    const plain = tokenizePreferences([{ prompt: "yo", chosen: "a", rejected: "b" }], chars, chat, { ...base, bosId: null }).examples[0];
    expect(plain.promptIds).toEqual(enc("<user>yo<assistant>"));
    const bad = { ...row, rejected: [{ role: "user", content: "other" }, { role: "assistant", content: "x" }] };
    expect(thrown(() => tokenizePreferences([bad], chars, chat, base)).code).toBe("T5512");
  });

  it("joint tokenization equals separate when no token spans the boundary", () => {
    const rows = [{ prompt: "p", chosen: "abc", rejected: "de" }];
    expect(tokenizePreferences(rows, chars, T, { ...base, mode: "joint" }).examples).toEqual(tokenizePreferences(rows, chars, T, base).examples);
  });

  it("joint tokenization moves a merged boundary token into the response (classic build_tokenized_answer)", () => {
    // "A: " + "x" tokenizes with " x" as one token (id 999)
    const merging: TokenizerLike = { encode: (s) => (s.endsWith(" x") ? [...enc(s.slice(0, -2)), 999] : enc(s)) };
    const t: PrefTemplate = { name: "t", prompt: "A: ", eos: true };
    const ex = tokenizePreferences([{ prompt: "", chosen: "x", rejected: "y" }], merging, t, { ...base, mode: "joint", bosId: null }).examples[0];
    expect(ex.promptIds).toEqual(enc("A:"));
    expect(ex.chosenIds).toEqual([999, EOS]);
  });

  it("bad rows and options are DataErrors with codes, locations and hints", () => {
    const missing = thrown(() => tokenizePreferences([{ prompt: "a", chosen: "x" }], chars, T, base, "d.json"));
    expect(missing.code).toBe("T5510");
    expect(missing.message).toMatch(/d\.json \(row 0\): preference field "rejected"/);
    expect(thrown(() => tokenizePreferences([{ prompt: "a", chosen: "x", rejected: 3 }], chars, T, base)).code).toBe("T5511");
    const tpl = thrown(() => tokenizePreferences([{ chosen: "x", rejected: "y" }], chars, { ...T, prompt: "{{instruction}}" }, base));
    expect([tpl.code, tpl.field]).toEqual(["T5530", "instruction"]);
    expect(thrown(() => tokenizePreferences([], chars, T, { ...base, eosId: undefined })).code).toBe("T5533");
    expect(thrown(() => tokenizePreferences([], chars, T, { ...base, maxPromptLength: 64 })).hint).toMatch(/max_length/);
  });
});

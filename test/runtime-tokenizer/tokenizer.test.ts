// Byte-level BPE trainer and tokenizer loading: round trips, special tokens, determinism, errors.
//
// Why this exists: every token id the model sees goes through these; a tokenizer that drops a byte, splits a
// special token or trains differently on a second run would silently change data, losses and checkpoints.
// The trained files are loaded through the real engine (@huggingface/tokenizers), as tune does at run time.

import { mkdtemp, mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Rng } from "../../runtime/data/rng.js";
import {
  BYTE_TO_CHAR, LLAMA3_CHAT_TEMPLATE, loadTokenizer, TINY_SPECIAL_TOKENS, type Tokenizer, TokenizerError,
  tokenizerJson, trainByteLevelBpe, writeTokenizerFiles,
} from "../../runtime/tokenizer/index.js";

const ROOT = join(new URL("../..", import.meta.url).pathname);
const SPECIALS = [...TINY_SPECIAL_TOKENS];

async function corpus(): Promise<string[]> {
  const rows = JSON.parse(await readFile(join(ROOT, "data/alpaca/alpaca_tiny.json"), "utf8")) as { instruction: string; input: string; output: string }[];
  return rows.map((r) => `${r.instruction}\n\n${r.input}\n\n${r.output}`);
}

const SAMPLES = [
  "Hello, world!",
  "naïve café — déjà vu; Straße; Ångström",
  "日本語のテキストと中文字符",
  "Привет, мир! Γειά σου κόσμε",
  "emoji: 👩‍💻🎉🇫🇷 and 🧪 mixed with text",
  "combining: e\u0301 a\u0308 and zero\u200bwidth",
  "  leading spaces, \ttabs,\r\nCRLF lines\n\n\nand trailing   ",
  "numbers 3.14159 2,048 -17 1e-5 0x1F",
  "code: const x = a[i] + b?.c ?? 'd'; // comment",
  "",
];

/** A random valid UTF-16 string (no lone surrogates) mixing ASCII, Latin-1, CJK and astral code points. */
function randomText(rng: Rng, n: number): string {
  const ranges: [number, number][] = [[0x20, 0x7e], [0x0a, 0x0a], [0xa0, 0x24f], [0x400, 0x4ff], [0x4e00, 0x4fff], [0x1f300, 0x1faff]];
  let s = "";
  for (let i = 0; i < n; i++) {
    const [lo, hi] = ranges[rng.int(ranges.length)];
    s += String.fromCodePoint(lo + rng.int(hi - lo + 1));
  }
  return s;
}

let dir: string;
let tok: Tokenizer;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "tune-tok-"));
  const bpe = trainByteLevelBpe(await corpus(), { vocabSize: 600, specialTokens: SPECIALS });
  await writeTokenizerFiles(dir, bpe, { bosToken: "<|begin_of_text|>", eosToken: "<|end_of_text|>", padToken: "<pad>", chatTemplate: LLAMA3_CHAT_TEMPLATE });
  tok = await loadTokenizer(dir);
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("trained byte-level BPE through @huggingface/tokenizers", () => {
  it("has the requested vocabulary: specials first, then 256 bytes, then merges", () => {
    expect(tok.vocabSize).toBe(600);
    SPECIALS.forEach((s, i) => expect(tok.tokenId(s)).toBe(i));
    expect(tok.tokenString(8)).toBe(BYTE_TO_CHAR[0]);
    expect(tok.tokenString(8 + 0x20)).toBe("Ġ");
    expect([tok.padId, tok.bosId, tok.eosId]).toEqual([0, 1, 2]);
  });

  it("round-trips text exactly: ASCII, accents, CJK, Cyrillic, emoji (ZWJ, flags), whitespace runs", () => {
    for (const s of SAMPLES) expect(tok.decode(tok.encode(s))).toBe(s);
  });

  it("round-trips 200 random strings of valid code points", () => {
    const rng = new Rng(7);
    for (let i = 0; i < 200; i++) {
      const s = randomText(rng, 1 + rng.int(40));
      expect(tok.decode(tok.encode(s))).toBe(s);
    }
  });

  it("compresses: frequent words of the corpus are single tokens", () => {
    const ids = tok.encode(" the");
    expect(ids).toHaveLength(1);
    expect(tok.tokenString(ids[0])).toBe("Ġthe");
    const text = (SAMPLES[0] + " The instruction describes a task.").repeat(3);
    expect(tok.encode(text).length).toBeLessThan(new TextEncoder().encode(text).length / 2);
  });

  it("maps every special token's text to its id, also inside text, and never splits it", () => {
    for (const s of SPECIALS) expect(tok.encode(s)).toEqual([tok.tokenId(s)]);
    const ids = tok.encode("<|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>");
    expect(ids[0]).toBe(3);
    expect(ids).toContain(4);
    expect(ids[ids.length - 1]).toBe(5);
    expect(tok.decode(ids)).toBe("<|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>");
    expect(tok.decode(ids, { skipSpecial: true })).toBe("user\n\nHi");
    expect([...tok.specialTokens.keys()].sort()).toEqual([...SPECIALS].sort());
  });

  it("adds BOS through the post-processor (Llama 3 style) only in encodeWithSpecials", () => {
    expect(tok.addsBos).toBe(true);
    expect(tok.encodeWithSpecials("Hi there")).toEqual([1, ...tok.encode("Hi there")]);
    expect(tok.encode("")).toEqual([]);
    expect(tok.decode([])).toBe("");
  });

  it("tokenText decodes one token; ids outside the vocabulary are T6085", () => {
    const ids = tok.encode(" the cat");
    expect(ids.map((i) => tok.tokenText(i)).join("")).toBe(" the cat");
    expect(() => tok.decode([600])).toThrowError(/T6085/);
    expect(() => tok.tokenText(-1)).toThrowError(/T6085/);
  });

  it("honours tokenizer_config add_bos_token = false over the post-processor", async () => {
    const d2 = join(dir, "nobos");
    await mkdir(d2);
    await writeFile(join(d2, "tokenizer.json"), await readFile(join(dir, "tokenizer.json")));
    const cfg = JSON.parse(await readFile(join(dir, "tokenizer_config.json"), "utf8")) as Record<string, unknown>;
    await writeFile(join(d2, "tokenizer_config.json"), JSON.stringify({ ...cfg, add_bos_token: false, bos_token: { content: "<|begin_of_text|>" } }));
    const t2 = await loadTokenizer(d2);
    expect(t2.addsBos).toBe(false);
    expect(t2.bosId).toBe(1);
    expect(t2.encodeWithSpecials("Hi")).toEqual(t2.encode("Hi"));
  });
});

describe("trainer determinism", () => {
  it("same corpus (in any order) → byte-identical tokenizer.json", async () => {
    const texts = await corpus();
    const opts = { vocabSize: 500, specialTokens: SPECIALS };
    const o = { bosToken: "<|begin_of_text|>", eosToken: "<|end_of_text|>" };
    const a = JSON.stringify(tokenizerJson(trainByteLevelBpe(texts, opts), o));
    const b = JSON.stringify(tokenizerJson(trainByteLevelBpe(texts, opts), o));
    const c = JSON.stringify(tokenizerJson(trainByteLevelBpe([...texts].reverse(), opts), o));
    expect(b).toBe(a);
    expect(c).toBe(a);
    const m = trainByteLevelBpe(texts, opts);
    expect(m.vocab).toHaveLength(500);
    expect(m.merges).toHaveLength(500 - SPECIALS.length - 256);
    expect(new Set(m.vocab).size).toBe(m.vocab.length);
  });

  it("merges the most frequent pair first, ties to the smaller pair of ids (hand-checked corpus)", () => {
    const m = trainByteLevelBpe(["ab ab ab cd cd"], { vocabSize: 256 + 3, specialTokens: [] });
    // words "ab"×1, "Ġab"×2, "Ġcd"×2: (a,b)=3 wins; then (Ġ,ab), (Ġ,c), (c,d) tie at 2 with ids
    // (32,256), (32,99), (99,100) → (Ġ,c); then (Ġ,ab)=(32,256) beats (Ġc,d)=(257,100).
    expect(m.merges.map((p) => p.join(" "))).toEqual(["a b", "Ġ c", "Ġ ab"]);
  });

  it("rejects a vocabulary smaller than specials + 256 bytes, and duplicate specials (T6084)", () => {
    expect(() => trainByteLevelBpe(["x"], { vocabSize: 200, specialTokens: SPECIALS })).toThrowError(/T6084/);
    expect(() => trainByteLevelBpe(["x"], { vocabSize: 300, specialTokens: ["<a>", "<a>"] })).toThrowError(/T6084/);
  });
});

describe("loadTokenizer errors", () => {
  const expectCode = async (p: Promise<unknown>, code: string, re: RegExp): Promise<void> => {
    const err = await p.then(() => null, (e: unknown) => e);
    expect(err).toBeInstanceOf(TokenizerError);
    expect((err as TokenizerError).code).toBe(code);
    expect((err as TokenizerError).message).toMatch(re);
    expect((err as TokenizerError).hint.length).toBeGreaterThan(0);
  };

  it("missing directory or tokenizer.json → T6080 naming the file", async () => {
    await expectCode(loadTokenizer(join(dir, "nope")), "T6080", /nope\/tokenizer\.json: cannot read \(ENOENT\)/);
  });

  it("malformed tokenizer.json → T6081 (bad JSON, no model, engine rejects it)", async () => {
    const d = join(dir, "bad");
    await mkdir(d, { recursive: true });
    await writeFile(join(d, "tokenizer.json"), "{ not json");
    await expectCode(loadTokenizer(d), "T6081", /not valid JSON/);
    await writeFile(join(d, "tokenizer.json"), JSON.stringify({ version: "1.0", added_tokens: [] }));
    await expectCode(loadTokenizer(d), "T6081", /missing the `model` object/);
    await writeFile(join(d, "tokenizer.json"), JSON.stringify({ model: { type: "NoSuchModel" }, added_tokens: [] }));
    await expectCode(loadTokenizer(d), "T6081", /rejected by the tokenizer engine/);
  });

  it("malformed tokenizer_config.json → T6082; unknown special token → T6083", async () => {
    const d = join(dir, "badcfg");
    await mkdir(d, { recursive: true });
    await writeFile(join(d, "tokenizer.json"), await readFile(join(dir, "tokenizer.json")));
    await writeFile(join(d, "tokenizer_config.json"), "[1, 2");
    await expectCode(loadTokenizer(d), "T6082", /tokenizer_config\.json: not valid JSON/);
    await writeFile(join(d, "tokenizer_config.json"), JSON.stringify({ eos_token: 42 }));
    await expectCode(loadTokenizer(d), "T6082", /`eos_token` must be a string/);
    await writeFile(join(d, "tokenizer_config.json"), JSON.stringify({ eos_token: "</s>" }));
    await expectCode(loadTokenizer(d), "T6083", /eos_token "<\/s>" is not in the vocabulary/);
  });

  it("a directory without tokenizer_config.json loads, with no bos/eos", async () => {
    const d = join(dir, "nocfg");
    await mkdir(d, { recursive: true });
    await writeFile(join(d, "tokenizer.json"), await readFile(join(dir, "tokenizer.json")));
    const t = await loadTokenizer(d);
    expect([t.bosId, t.eosId, t.padId]).toEqual([null, null, null]);
    expect(t.decode(t.encode("ok 👍"))).toBe("ok 👍");
  });
});

// GPT-2 byte-level alphabet and pre-tokenization, exactly as HF tokenizers' `ByteLevel` pre-tokenizer.
//
// Why this exists: the BPE trainer must split text into the same "words" and spell bytes with the same 256
// printable characters as the tokenizer engine that later applies the merges (Rust `tokenizers`, and
// `@huggingface/tokenizers` here); otherwise learned merges would never fire. Byte-level BPE covers every UTF-8
// string with no unknown token, which is what makes encode → decode the identity.

/** GPT-2 `bytes_to_unicode`: byte value → one printable character (printable Latin-1 maps to itself). */
export const BYTE_TO_CHAR: readonly string[] = (() => {
  const printable: number[] = [];
  for (let b = 0x21; b <= 0x7e; b++) printable.push(b);
  for (let b = 0xa1; b <= 0xac; b++) printable.push(b);
  for (let b = 0xae; b <= 0xff; b++) printable.push(b);
  const out = new Array<string>(256);
  for (const b of printable) out[b] = String.fromCharCode(b);
  let n = 0;
  for (let b = 0; b < 256; b++) {
    if (out[b] === undefined) out[b] = String.fromCharCode(256 + n++);
  }
  return out;
})();

/** The GPT-2 split pattern used by `ByteLevel` with `use_regex: true`. */
export const GPT2_SPLIT = /'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+/gu;

const encoder = new TextEncoder();

/** Split text into pre-tokenizer words (raw strings, before the byte mapping). */
export function splitWords(text: string): string[] {
  return text.match(GPT2_SPLIT) ?? [];
}

/** UTF-8 bytes of a word. */
export function wordBytes(word: string): Uint8Array {
  return encoder.encode(word);
}

/** Byte-level spelling of a string ("Hello world" → "HelloĠworld"). */
export function byteLevelSpelling(text: string): string {
  let s = "";
  for (const b of encoder.encode(text)) s += BYTE_TO_CHAR[b];
  return s;
}

/** Split `text` around occurrences of any of `specials` (longest match first); specials are dropped. */
export function splitOnSpecials(text: string, specials: readonly string[]): string[] {
  if (specials.length === 0) return [text];
  const sorted = [...specials].sort((a, b) => b.length - a.length);
  const escaped = sorted.map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"));
  return text.split(new RegExp(escaped.join("|"), "u")).filter((s) => s.length > 0);
}

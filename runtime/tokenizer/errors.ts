// Errors of tokenizer loading and training, with a code and a hint like the rest of runtime/io.
//
// Why this exists: a missing or hand-edited tokenizer.json is the second most common broken model download after
// missing weight shards; the user must learn which file is wrong and what to do, not read a JSON.parse stack.
//
// Codes: T6080 tokenizer.json missing/unreadable · T6081 tokenizer.json malformed (not JSON, or rejected by the
// tokenizer engine) · T6082 tokenizer_config.json malformed · T6083 a declared special token (bos/eos/pad) is not
// in the vocabulary · T6084 invalid trainer options (vocab too small, duplicate specials) · T6085 token id out of
// range.

export class TokenizerError extends Error {
  readonly code: string;
  readonly hint: string;
  readonly file: string;
  constructor(code: string, file: string, message: string, hint: string) {
    super(`${code}: ${file}: ${message}`);
    this.name = "TokenizerError";
    this.code = code;
    this.hint = hint;
    this.file = file;
  }
}

// Public surface of tune's tokenizer layer: loading HF tokenizers and training byte-level BPE.
//
// Why this exists: callers (checkpoint loading, the data pipeline, the CLI) import one module.

export { TokenizerError } from "./errors.js";
export { loadTokenizer, wrapTokenizer, TOKENIZER_CONFIG_FILE, TOKENIZER_FILE } from "./load.js";
export type { Tokenizer } from "./load.js";
export { countWords, trainBpeFromCounts, trainByteLevelBpe } from "./bpe-trainer.js";
export type { BpeModel, BpeTrainOptions } from "./bpe-trainer.js";
export { LLAMA3_CHAT_TEMPLATE, tokenizerConfigJson, tokenizerJson } from "./tokenizer-json.js";
export type { TokenizerFilesOptions } from "./tokenizer-json.js";
export { writeTokenizerFiles } from "./write.js";
export { BYTE_TO_CHAR, byteLevelSpelling, splitOnSpecials, splitWords } from "./bytelevel.js";
export { TINY_SPECIAL_TOKENS } from "./specials.js";

// Write a trained BPE tokenizer as a Hugging Face tokenizer directory (atomic writes).
//
// Why this exists: the pretraining script and tests produce tokenizers that later load through `loadTokenizer`
// and transformers; both files are written with runtime/io/atomic.ts so a crash never leaves half a vocabulary.

import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { writeFileAtomic } from "../io/atomic.js";
import type { BpeModel } from "./bpe-trainer.js";
import { TOKENIZER_CONFIG_FILE, TOKENIZER_FILE } from "./load.js";
import { type TokenizerFilesOptions, tokenizerConfigJson, tokenizerJson } from "./tokenizer-json.js";

/** Write tokenizer.json and tokenizer_config.json into `dir` (created if needed). */
export async function writeTokenizerFiles(dir: string, m: BpeModel, o: TokenizerFilesOptions): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeFileAtomic(join(dir, TOKENIZER_FILE), JSON.stringify(tokenizerJson(m, o), null, 2) + "\n");
  await writeFileAtomic(join(dir, TOKENIZER_CONFIG_FILE), JSON.stringify(tokenizerConfigJson(m, o), null, 2) + "\n");
}

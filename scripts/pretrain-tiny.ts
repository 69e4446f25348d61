// Prepare the inputs of tune's tiny-model recipe: its pretraining text and its definition (config + tokenizer).
//
// Why this exists: the shipped tiny model (models/tiny-llama) is pretrained by a recipe, `tune run
// recipes/tiny-pretrain.tune`, through the same in-process executor as every other recipe (one code path for
// data order, initialisation and training). Two steps are outside what a recipe expresses, and live here:
//   1. the documents: data/pretrain/random_9k.json minus every record whose instruction + input also occurs in a
//      fine-tuning set shipped in data/ (scripts/tiny-data.ts), one plain-text document per record
//      ("instruction\n\n[input\n\n]output"), written as data/pretrain/tiny_pretrain.jsonl ({"text": …} per line,
//      in a seed-0 shuffled order; the recipe splits and shuffles it again, seeded);
//   2. the definition the recipe's `model { init = random }` reads: config.json (stdlib/models.tune `tiny_llama`),
//      a byte-level BPE tokenizer (vocab 2048, the stdlib templates' special tokens) trained on the documents of
//      the seed-0 split with 200 held out (how the shipped tokenizer was made), tokenizer_config.json and
//      generation_config.json, written into models/tiny-llama.
// Both are deterministic. `--check` writes nothing and exits 1 unless the committed files are byte-identical to
// what this script would write (so the recipe's inputs are reproducible from data/ alone).
//
// Run (Node 20; compiles into the git-ignored dist/):
//   npx tsc --module nodenext --moduleResolution nodenext --target es2022 --strict --skipLibCheck --rootDir . \
//     --outDir dist scripts/pretrain-tiny.ts && node dist/scripts/pretrain-tiny.js [--check]
// then pretrain:  npx tune run recipes/tiny-pretrain.tune   (the model is runs/<run>/artifacts/pretrain/)

import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { writeFileAtomic } from "../runtime/io/atomic.js";
import { writeHfConfig } from "../runtime/io/hf-config.js";
import type { LlamaConfig } from "../runtime/model/config.js";
import { trainByteLevelBpe } from "../runtime/tokenizer/bpe-trainer.js";
import { TINY_BOS, TINY_EOS, TINY_PAD, TINY_SPECIAL_TOKENS } from "../runtime/tokenizer/specials.js";
import { LLAMA3_CHAT_TEMPLATE } from "../runtime/tokenizer/tokenizer-json.js";
import { writeTokenizerFiles } from "../runtime/tokenizer/write.js";
import { loadPretrainDocs } from "./tiny-data.js";

const ROOT = resolve(new URL("../..", import.meta.url).pathname); // dist/scripts/ → repository root

export const TINY_CONFIG: LlamaConfig = {
  vocabSize: 2048, hiddenSize: 128, intermediateSize: 384, numLayers: 4, numHeads: 4, numKvHeads: 2, headDim: 32,
  rmsNormEps: 1e-5, ropeTheta: 10000, ropeScaling: null, maxPositionEmbeddings: 512, tieWordEmbeddings: true,
  bosTokenId: 1, eosTokenIds: [2], padTokenId: 0,
};
/** The tokenizer was trained on the training documents of this split (seed 0, 200 documents held out). */
const TOKENIZER_SPLIT = { seed: 0, heldOut: 200 };
const GENERATION = { _from_model_config: false, bos_token_id: 1, eos_token_id: [2, 5, 7], pad_token_id: 0, transformers_version: "4.46.0" };
export const DOCUMENTS_FILE = "data/pretrain/tiny_pretrain.jsonl";
const MODEL_DIR = "models/tiny-llama";
const DEFINITION_FILES = ["config.json", "tokenizer.json", "tokenizer_config.json", "generation_config.json"];

const { values: args } = parseArgs({ options: { check: { type: "boolean", default: false } } });

function log(msg: string): void {
  process.stdout.write(`[pretrain-tiny] ${msg}\n`);
}

async function main(): Promise<void> {
  const t0 = performance.now();
  // All documents (none held out: the recipe holds out its validation documents itself), in the seed-0 shuffled
  // order, whose first 200 are the documents the shipped weights were validated on.
  const all = loadPretrainDocs(ROOT, TOKENIZER_SPLIT.seed, 0);
  const documents = all.train.map((text) => JSON.stringify({ text })).join("\n") + "\n";
  log(`documents: ${all.train.length} (${all.excluded} of ${all.records} records held out as fine-tuning data)`);

  const split = loadPretrainDocs(ROOT, TOKENIZER_SPLIT.seed, TOKENIZER_SPLIT.heldOut);
  const bpe = trainByteLevelBpe(split.train, { vocabSize: TINY_CONFIG.vocabSize, specialTokens: [...TINY_SPECIAL_TOKENS] });
  const out = await mkdtemp(join(tmpdir(), "tune-tiny-def-"));
  try {
    await writeTokenizerFiles(out, bpe, { bosToken: TINY_BOS, eosToken: TINY_EOS, padToken: TINY_PAD, modelMaxLength: 512, chatTemplate: LLAMA3_CHAT_TEMPLATE });
    await writeFileAtomic(join(out, "generation_config.json"), JSON.stringify(GENERATION, null, 2) + "\n");
    await writeFileAtomic(join(out, "config.json"), JSON.stringify(writeHfConfig(TINY_CONFIG, { dtype: "float32" }), null, 2) + "\n");
    log(`tokenizer: ${bpe.vocab.length} tokens, ${bpe.merges.length} merges (${((performance.now() - t0) / 1000).toFixed(1)} s)`);

    const files: [string, string][] = [[DOCUMENTS_FILE, documents]];
    for (const f of DEFINITION_FILES) files.push([join(MODEL_DIR, f), await readFile(join(out, f), "utf8")]);
    if (args.check) {
      const differ: string[] = [];
      for (const [path, text] of files) {
        const committed = await readFile(join(ROOT, path), "utf8").catch(() => null);
        if (committed !== text) differ.push(path);
      }
      for (const [path] of files) log(`${differ.includes(path) ? "DIFFERS" : "identical"}: ${path}`);
      if (differ.length > 0) process.exitCode = 1;
      return;
    }
    for (const [path, text] of files) {
      await writeFileAtomic(join(ROOT, path), text);
      log(`wrote ${path}`);
    }
    log("next: npx tune run recipes/tiny-pretrain.tune");
  } finally {
    await rm(out, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`pretrain-tiny failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
  process.exit(1);
});

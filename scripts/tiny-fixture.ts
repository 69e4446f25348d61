// Write test/fixtures/checkpoint/tiny_logits.json: our token ids, logits and log-probs for the shipped tiny model.
//
// Why this exists: parity with transformers is checked by test/fixtures/checkpoint/check_transformers.py (torch is
// not available where tune's tests run); it compares its own tokenization and logits against this file. The tests
// also compare the current code against it, so a regression in loading or the forward pass shows up here.
//
// Run: npx tsc --module nodenext --moduleResolution nodenext --target es2022 --strict --skipLibCheck --rootDir . \
//        --outDir dist scripts/tiny-fixture.ts && node dist/scripts/tiny-fixture.js

import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { initBackend } from "../runtime/backend/index.js";
import { loadModelDir } from "../runtime/checkpoint/load.js";
import { writeFileAtomic } from "../runtime/io/atomic.js";
import { tokenLogProbs } from "../runtime/model/logprobs.js";

const ROOT = resolve(new URL("../..", import.meta.url).pathname);
const MODEL = "models/tiny-llama";
const OUT = "test/fixtures/checkpoint/tiny_logits.json";
/** Logit columns stored for every position (all columns are stored for the last position). */
const COLS = 64;

export const FIXTURE_TEXTS = [
  "Below is an instruction that describes a task. Write a response that appropriately completes the request.\n\n### Instruction:\nGive three tips for staying healthy.\n\n### Response:",
  "<|start_header_id|>user<|end_header_id|>\n\nName a primary color.<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\nRed.<|eot_id|>",
  "<|im_start|>user\nTranslate 'thank you' into French.<|im_end|>\n<|im_start|>assistant\nMerci ! Très bien — 🇫🇷 ✓<|im_end|>",
];

/** Extra texts whose token ids (only) are checked against the Rust tokenizer: data records and edge cases. */
async function idOnlyTexts(): Promise<string[]> {
  const rows = JSON.parse(await readFile(join(ROOT, "data/alpagasus/claude_t45.json"), "utf8")) as { instruction: string; input: string; output: string }[];
  const edge = [
    "naïve café — déjà vu; Straße", "日本語のテキスト", "Привет, мир!", "emoji 👩‍💻🎉🇫🇷", "e\u0301 zero\u200bwidth",
    "  spaces\t\ttabs\r\nCRLF\n\n\n", "it's we're they'll I'd", "3.14159 2,048 -17 1e-5", "<|eot_id|><|eot_id|>x<|im_end|>",
    "<pad><|begin_of_text|> <|end_of_text|>",
  ];
  return [...edge, ...rows.slice(0, 40).map((r) => `${r.instruction}\n\n${r.input}\n\n${r.output}`)];
}

const round = (x: number): number => Number(x.toPrecision(9));

async function main(): Promise<void> {
  await initBackend("wasm");
  const dir = join(ROOT, MODEL);
  const loaded = await loadModelDir(dir);
  const tok = loaded.tokenizer!;
  const V = loaded.config.vocabSize;
  const texts = FIXTURE_TEXTS.map((text) => {
    const ids = tok.encodeWithSpecials(text);
    const t = loaded.model.logits({ ids: Int32Array.from(ids), batch: 1, seqLen: ids.length });
    const logits = t.dataSync() as Float32Array;
    t.dispose();
    const cols = ids.map((_, p) => Array.from(logits.subarray(p * V, p * V + COLS), round));
    const last = Array.from(logits.subarray((ids.length - 1) * V, ids.length * V), round);
    return { text, ids, logits_first_cols: cols, last_logits: last, logprobs: Array.from(tokenLogProbs(loaded.model, ids).logprobs, round) };
  });
  const sha = createHash("sha256").update(await readFile(join(dir, "model.safetensors"))).digest("hex");
  const idTexts = (await idOnlyTexts()).map((text) => ({ text, ids: tok.encodeWithSpecials(text) }));
  const out = { script: "scripts/tiny-fixture.ts", model: MODEL, model_safetensors_sha256: sha, cols: COLS, texts, id_texts: idTexts };
  await writeFileAtomic(join(ROOT, OUT), JSON.stringify(out) + "\n");
  process.stdout.write(`wrote ${OUT} (${texts.map((t) => t.ids.length).join(", ")} tokens)\n`);
  loaded.model.dispose();
}

main().catch((err: unknown) => {
  process.stderr.write(`tiny-fixture failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});

// Build tune's shipped tiny model from the repository alone: train its tokenizer, pretrain it, save it.
//
// Why this exists: `tune run --smoke` and the tests need a small real model of the Llama family that has learned
// something (so fine-tuning it shows real learning), and how it was made must be reproducible and documented.
// Architecture = stdlib/models.tune `tiny_llama`. Steps:
//   1. documents from data/pretrain (scripts/tiny-data.ts; fine-tuning sets held out), seeded split;
//   2. byte-level BPE, vocab 2048, with the special tokens of the stdlib templates (runtime/tokenizer);
//   3. full pretraining: AdamW (β2 0.95, wd 0.1, norms exempt), cosine schedule with warmup, clip 1.0, packed rows
//      with per-document attention, on the wasm backend (one thread);
//   4. models/tiny-llama/: HF directory (runtime/checkpoint saveModelDir) + README.md model card with the curve.
//
// Run (Node 20; compiles into the git-ignored dist/):
//   npx tsc --module nodenext --moduleResolution nodenext --target es2022 --strict --skipLibCheck --rootDir . \
//     --outDir dist scripts/pretrain-tiny.ts && node dist/scripts/pretrain-tiny.js [--steps N] [--out DIR]

import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { initBackend } from "../runtime/backend/index.js";
import { saveModelDir } from "../runtime/checkpoint/save.js";
import { Rng } from "../runtime/data/rng.js";
import { writeFileAtomic } from "../runtime/io/atomic.js";
import { type LlamaConfig, llamaParamCount } from "../runtime/model/config.js";
import { LlamaModel } from "../runtime/model/llama.js";
import { loadTokenizer } from "../runtime/tokenizer/load.js";
import { trainByteLevelBpe } from "../runtime/tokenizer/bpe-trainer.js";
import { TINY_BOS, TINY_EOS, TINY_PAD, TINY_SPECIAL_TOKENS } from "../runtime/tokenizer/specials.js";
import { LLAMA3_CHAT_TEMPLATE } from "../runtime/tokenizer/tokenizer-json.js";
import { writeTokenizerFiles } from "../runtime/tokenizer/write.js";
import { evalLoss, fullParams, SftTrainer } from "../runtime/train/step.js";
import { type LmBatch, maskSegmentStarts } from "../runtime/train/loss.js";
import { loadPretrainDocs, packRows, type PackedRows, shuffled, unigramEntropy } from "./tiny-data.js";
import { modelCard, type RunSummary } from "./tiny-card.js";

const ROOT = resolve(new URL("../..", import.meta.url).pathname); // dist/scripts/ → repository root

export const TINY_CONFIG: LlamaConfig = {
  vocabSize: 2048, hiddenSize: 128, intermediateSize: 384, numLayers: 4, numHeads: 4, numKvHeads: 2, headDim: 32,
  rmsNormEps: 1e-5, ropeTheta: 10000, ropeScaling: null, maxPositionEmbeddings: 512, tieWordEmbeddings: true,
  bosTokenId: 1, eosTokenIds: [2], padTokenId: 0,
};

const { values: args } = parseArgs({
  options: {
    steps: { type: "string", default: "1100" },
    batch: { type: "string", default: "4" },
    seq: { type: "string", default: "256" },
    lr: { type: "string", default: "3e-3" },
    seed: { type: "string", default: "0" },
    "val-docs": { type: "string", default: "200" },
    "eval-every": { type: "string", default: "275" },
    out: { type: "string", default: "models/tiny-llama" },
  },
});
const STEPS = Number(args.steps);
const BATCH = Number(args.batch);
const SEQ = Number(args.seq);
const LR = Number(args.lr);
const SEED = Number(args.seed);
const WARMUP = Math.ceil(STEPS * 0.05);

function log(msg: string): void {
  process.stdout.write(`[pretrain-tiny ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);
}

/** Rows for `steps · batch` draws: epochs of the packed rows, each epoch in a fresh seeded order. */
function rowOrder(rows: number, needed: number, seed: number): number[] {
  const order: number[] = [];
  const idx = Array.from({ length: rows }, (_, i) => i);
  for (let epoch = 0; order.length < needed; epoch++) order.push(...shuffled(idx, new Rng(seed).fork(`epoch-${epoch}`)));
  return order.slice(0, needed);
}

function batchOf(p: PackedRows, rows: number[]): LmBatch {
  const T = p.ids[0].length;
  const ids = new Int32Array(rows.length * T);
  const segmentIds = new Int32Array(rows.length * T);
  rows.forEach((r, b) => {
    ids.set(p.ids[r], b * T);
    segmentIds.set(p.segments[r], b * T);
  });
  return { ids, segmentIds, labels: maskSegmentStarts(ids, segmentIds, rows.length, T), batch: rows.length, seqLen: T };
}

async function main(): Promise<void> {
  const t0 = performance.now();
  const backend = await initBackend("wasm");
  log(`backend: ${backend.device}`);
  const docs = loadPretrainDocs(ROOT, SEED, Number(args["val-docs"]));
  log(`documents: ${docs.train.length} train, ${docs.val.length} validation (${docs.excluded} of ${docs.records} held out as fine-tuning data)`);

  const bpe = trainByteLevelBpe(docs.train, { vocabSize: TINY_CONFIG.vocabSize, specialTokens: [...TINY_SPECIAL_TOKENS] });
  const tokDir = await mkdtemp(join(tmpdir(), "tune-tiny-tok-"));
  await writeTokenizerFiles(tokDir, bpe, { bosToken: TINY_BOS, eosToken: TINY_EOS, padToken: TINY_PAD, modelMaxLength: 512, chatTemplate: LLAMA3_CHAT_TEMPLATE });
  const generation = { _from_model_config: false, bos_token_id: 1, eos_token_id: [2, 5, 7], pad_token_id: 0, transformers_version: "4.46.0" };
  await writeFileAtomic(join(tokDir, "generation_config.json"), JSON.stringify(generation, null, 2) + "\n");
  const tok = await loadTokenizer(tokDir);
  log(`tokenizer: ${bpe.vocab.length} tokens, ${bpe.merges.length} merges (${((performance.now() - t0) / 1000).toFixed(1)} s)`);

  const encodeDoc = (d: string): number[] => [tok.bosId!, ...tok.encode(d), tok.eosId!];
  const trainTok = docs.train.map(encodeDoc);
  const valTok = docs.val.map(encodeDoc);
  const trainChars = docs.train.reduce((n, d) => n + d.length, 0);
  const trainTokens = trainTok.reduce((n, d) => n + d.length, 0);
  const packed = packRows(trainTok, SEQ);
  const valPacked = packRows(valTok, SEQ);
  const entropy = unigramEntropy(trainTok, TINY_CONFIG.vocabSize);
  log(`train: ${trainTokens} tokens (${(trainChars / trainTokens).toFixed(2)} chars/token), ${packed.ids.length} rows of ${SEQ}; unigram entropy ${entropy.toFixed(3)} nats`);

  const model = LlamaModel.random(TINY_CONFIG, SEED);
  const trainer = new SftTrainer(model, fullParams(model), {
    lr: LR, schedule: "cosine", warmupSteps: WARMUP, totalSteps: STEPS, weightDecay: 0.1, maxGradNorm: 1,
    adam: { beta1: 0.9, beta2: 0.95, eps: 1e-8 }, seed: SEED,
  });
  const valBatches = Array.from({ length: Math.ceil(valPacked.ids.length / BATCH) }, (_, i) =>
    batchOf(valPacked, Array.from({ length: Math.min(BATCH, valPacked.ids.length - i * BATCH) }, (_, j) => i * BATCH + j)));
  const evalNow = (): number => evalLoss(model, valBatches).tokenMean;
  const curve: RunSummary["curve"] = [];
  const evals: RunSummary["evals"] = [{ step: 0, loss: evalNow() }];
  log(`step 0: validation loss ${evals[0].loss.toFixed(4)}`);
  const order = rowOrder(packed.ids.length, STEPS * BATCH, SEED);
  const tTrain = performance.now();
  let window: number[] = [];
  for (let s = 0; s < STEPS; s++) {
    const st = trainer.step([batchOf(packed, order.slice(s * BATCH, (s + 1) * BATCH))]);
    window.push(st.loss);
    const done = s + 1;
    if (done % 10 === 0 || done === STEPS) {
      const el = (performance.now() - tTrain) / 1000;
      const mean = window.reduce((a, b) => a + b, 0) / window.length;
      curve.push({ step: done, loss: mean, lr: st.lr });
      window = [];
      log(`step ${done}/${STEPS} loss ${mean.toFixed(4)} lr ${st.lr.toExponential(2)} grad_norm ${st.gradNorm.toFixed(3)} ` +
        `${Math.round((done * BATCH * SEQ) / el)} tok/s ETA ${Math.round((el / done) * (STEPS - done))} s`);
    }
    if (done % Number(args["eval-every"]) === 0 || done === STEPS) {
      evals.push({ step: done, loss: evalNow() });
      log(`step ${done}: validation loss ${evals[evals.length - 1].loss.toFixed(4)}`);
    }
  }
  const trainSeconds = (performance.now() - tTrain) / 1000;
  const out = resolve(ROOT, args.out!);
  await saveModelDir(out, model, TINY_CONFIG, { tokenizerFrom: tokDir, dtype: "F32" });
  await rm(tokDir, { recursive: true, force: true });
  const summary: RunSummary = {
    config: TINY_CONFIG, params: llamaParamCount(TINY_CONFIG), steps: STEPS, batch: BATCH, seq: SEQ, lr: LR, warmup: WARMUP, seed: SEED,
    trainDocs: docs.train.length, valDocs: docs.val.length, excluded: docs.excluded, records: docs.records,
    trainTokens, charsPerToken: trainChars / trainTokens, tokensSeen: STEPS * BATCH * SEQ, unigramEntropy: entropy,
    curve, evals, trainSeconds, device: backend.device, merges: bpe.merges.length,
    command: process.argv.slice(2).join(" "),
  };
  await writeFileAtomic(join(out, "README.md"), modelCard(summary));
  log(`saved ${out} (${trainSeconds.toFixed(0)} s training, ${((performance.now() - t0) / 1000).toFixed(0)} s total)`);
}

main().catch((err: unknown) => {
  process.stderr.write(`pretrain-tiny failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
  process.exit(1);
});

// Training throughput of the in-process TF.js Llama (wasm backend) on a tiny config, in tokens/s.
//
// Run on Node 20 (compiles this script and what it imports into dist/, which is git-ignored):
//   npx tsc --module nodenext --moduleResolution nodenext --target es2022 --strict --skipLibCheck \
//     --rootDir . --outDir dist bench/train-throughput.ts && node dist/bench/train-throughput.js [full|lora] [steps]
// Peer: /usr/bin/python3 bench/train_throughput_torch.py [full|lora] [steps]  (PyTorch CPU, 2 threads).
//
// Why this exists: the wasm engine is single-threaded; this measures whether CPU fine-tuning in-process is
// competitive with PyTorch on the same model and batch (target ≥ 0.7× PyTorch). Config: 4 layers, d 128,
// 4 heads, intermediate 344, vocab 512, tied embeddings (857,216 parameters); batch 4 × seq 128 = 512 tokens
// per optimizer step; AdamW; loss on every token. Reports the median of the timed steps after 2 warm-up steps.

import { initBackend } from "../runtime/backend/index.js";
import { Rng } from "../runtime/data/rng.js";
import { LoraAdapter } from "../runtime/lora/adapter.js";
import { type LlamaConfig, llamaParamCount } from "../runtime/model/config.js";
import { LlamaModel } from "../runtime/model/llama.js";
import type { LmBatch } from "../runtime/train/loss.js";
import { fullParams, loraParams, SftTrainer } from "../runtime/train/step.js";

export const BENCH_CONFIG: LlamaConfig = {
  vocabSize: 512, hiddenSize: 128, intermediateSize: 344, numLayers: 4, numHeads: 4, numKvHeads: 4, headDim: 32,
  rmsNormEps: 1e-5, ropeTheta: 10000, ropeScaling: null, maxPositionEmbeddings: 512, tieWordEmbeddings: true,
  bosTokenId: 1, eosTokenIds: [2], padTokenId: 0,
};
const BATCH = 4;
const SEQ = 128;

function makeBatch(seed: number): LmBatch {
  const rng = new Rng(seed);
  const ids = Int32Array.from({ length: BATCH * SEQ }, () => rng.int(BENCH_CONFIG.vocabSize));
  return { ids, labels: ids.slice(), batch: BATCH, seqLen: SEQ };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

async function main(): Promise<void> {
  const mode = process.argv[2] === "lora" ? "lora" : "full";
  const steps = Number(process.argv[3] ?? 10);
  const info = await initBackend("wasm");
  const model = LlamaModel.random(BENCH_CONFIG, 0);
  const params = mode === "lora"
    ? loraParams(LoraAdapter.attach(model, { r: 8, alpha: 16, dropout: 0, targetModules: "all-linear", useRslora: false, seed: 0 }))
    : fullParams(model);
  const trainer = new SftTrainer(model, params, {
    lr: 1e-3, schedule: "constant", warmupSteps: 0, totalSteps: steps + 2, weightDecay: 0.01, maxGradNorm: 1,
  });
  const batch = makeBatch(1);
  const times: number[] = [];
  let loss = 0;
  for (let i = 0; i < steps + 2; i++) {
    const t0 = performance.now();
    loss = trainer.step([batch]).loss;
    if (i >= 2) times.push(performance.now() - t0);
  }
  const ms = median(times);
  console.log(JSON.stringify({
    engine: `tfjs ${info.device}`, mode, params: llamaParamCount(BENCH_CONFIG), tokensPerStep: BATCH * SEQ,
    stepMsMedian: Number(ms.toFixed(1)), tokensPerSec: Math.round((BATCH * SEQ * 1000) / ms), finalLoss: loss,
  }));
}

void main();

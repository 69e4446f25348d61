// Training throughput of the in-process TF.js Llama (wasm backend), in tokens/s, on the configs of
// bench/train_throughput_torch.py (its PyTorch peer; run both side by side).
//
// Run on Node 20 (compiles this script and what it imports into dist/, which is git-ignored):
//   npx tsc --module nodenext --moduleResolution nodenext --target es2022 --strict --skipLibCheck \
//     --rootDir . --outDir dist bench/train-throughput.ts
//   [TUNE_NATIVE=0 | TUNE_NATIVE_THREADS=2 | TUNE_WASM_THREADS=2] node dist/bench/train-throughput.js [full|lora] [tiny|20m|legacy] [steps]
// (the native addon is used when built — see README "Speed"; bench/throughput-series.sh runs every engine interleaved)
// Peer: /usr/bin/python3 bench/train_throughput_torch.py [full|lora] [tiny|20m|legacy] [steps] [threads]
//
// Why this exists: issue #3 — is CPU fine-tuning in-process competitive with PyTorch on the same model and
// batch (target ≥ 0.7× PyTorch)? Configs (all tied embeddings, rope θ 10000):
//   tiny   = models/tiny-llama: 4 layers, d 128, 4 heads / 2 kv heads (hd 32), intermediate 384, vocab 2048
//   20m    = 8 layers, d 512, 8 heads (hd 64), intermediate 1024, vocab 2048 (22.0M parameters)
//   legacy = the first version of this bench: 4 layers, d 128, 4 heads, intermediate 344, vocab 512
// Batch 4 × seq 128 = 512 tokens per optimizer step (one micro-batch), AdamW (lr 1e-3, wd 0.01), clip 1.0, loss
// on every token. full = every weight trained; lora = r 8, alpha 16 on q_proj and v_proj, base frozen.
// Prints one JSON line: the median wall time of the timed steps after 2 warm-up steps, and the median CPU time
// (user + system, all threads) of the same steps — on a shared machine the CPU time of a single-threaded run is
// the steadier number.

import { pathToFileURL } from "node:url";
import { initBackend } from "../runtime/backend/index.js";
import { Rng } from "../runtime/data/rng.js";
import { LoraAdapter } from "../runtime/lora/adapter.js";
import { type LlamaConfig, llamaParamCount } from "../runtime/model/config.js";
import { LlamaModel } from "../runtime/model/llama.js";
import type { LmBatch } from "../runtime/train/loss.js";
import { fullParams, loraParams, SftTrainer } from "../runtime/train/step.js";

type Dims = Pick<LlamaConfig, "vocabSize" | "hiddenSize" | "intermediateSize" | "numLayers" | "numHeads" | "numKvHeads" | "headDim">;

function config(d: Dims): LlamaConfig {
  return {
    ...d, rmsNormEps: 1e-5, ropeTheta: 10000, ropeScaling: null, maxPositionEmbeddings: 512, tieWordEmbeddings: true,
    bosTokenId: 1, eosTokenIds: [2], padTokenId: 0,
  };
}

export const BENCH_CONFIGS: Record<string, LlamaConfig> = {
  tiny: config({ vocabSize: 2048, hiddenSize: 128, intermediateSize: 384, numLayers: 4, numHeads: 4, numKvHeads: 2, headDim: 32 }),
  "20m": config({ vocabSize: 2048, hiddenSize: 512, intermediateSize: 1024, numLayers: 8, numHeads: 8, numKvHeads: 8, headDim: 64 }),
  legacy: config({ vocabSize: 512, hiddenSize: 128, intermediateSize: 344, numLayers: 4, numHeads: 4, numKvHeads: 4, headDim: 32 }),
};
const BATCH = 4;
const SEQ = 128;

function makeBatch(config: LlamaConfig, seed: number): LmBatch {
  const rng = new Rng(seed);
  const ids = Int32Array.from({ length: BATCH * SEQ }, () => rng.int(config.vocabSize));
  return { ids, labels: ids.slice(), batch: BATCH, seqLen: SEQ };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function parseArgs(argv: string[]): { mode: "full" | "lora"; configName: string; steps: number } {
  const [mode = "full", configName = "tiny", steps = "10"] = argv;
  if (mode !== "full" && mode !== "lora") throw new Error(`mode must be full or lora, got "${mode}"`);
  if (!(configName in BENCH_CONFIGS)) throw new Error(`config must be one of ${Object.keys(BENCH_CONFIGS).join(", ")}, got "${configName}"`);
  const n = Number(steps);
  if (!Number.isInteger(n) || n < 1) throw new Error(`steps must be a positive integer, got "${steps}"`);
  return { mode, configName, steps: n };
}

async function main(): Promise<void> {
  const { mode, configName, steps } = parseArgs(process.argv.slice(2));
  const config = BENCH_CONFIGS[configName]!;
  const info = await initBackend("wasm");
  const model = LlamaModel.random(config, 0);
  const params = mode === "lora"
    ? loraParams(LoraAdapter.attach(model, { r: 8, alpha: 16, dropout: 0, targetModules: ["q_proj", "v_proj"], useRslora: false, seed: 0 }))
    : fullParams(model);
  const trainer = new SftTrainer(model, params, {
    lr: 1e-3, schedule: "constant", warmupSteps: 0, totalSteps: steps + 2, weightDecay: 0.01, maxGradNorm: 1,
  });
  const batch = makeBatch(config, 1);
  const times: number[] = [];
  const cpuTimes: number[] = [];
  let loss = 0;
  for (let i = 0; i < steps + 2; i++) {
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    loss = trainer.step([batch]).loss;
    const c = process.cpuUsage(c0);
    if (i >= 2) {
      times.push(performance.now() - t0);
      cpuTimes.push((c.user + c.system) / 1000);
    }
  }
  const ms = median(times);
  console.log(JSON.stringify({
    engine: `tfjs ${info.device}`, mode, config: configName, params: llamaParamCount(config), tokensPerStep: BATCH * SEQ,
    stepMsMedian: Number(ms.toFixed(1)), cpuMsMedian: Number(median(cpuTimes).toFixed(1)), tokensPerSec: Math.round((BATCH * SEQ * 1000) / ms), finalLoss: loss,
  }));
}

// Run only when executed directly (bench/profile-step.ts imports the configs).
if (process.argv[1] != null && import.meta.url === pathToFileURL(process.argv[1]).href) void main();

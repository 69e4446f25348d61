// Per-kernel time of one training step of the bench model (a development tool; not part of the suite).
//
// Why this exists: BENCHMARKS.md's "where the time goes" tables come from it — which kernels (and which matmul
// shapes) a step of bench/train-throughput.ts spends its time in, after 3 warm-up steps.
// Run: compile as in bench/train-throughput.ts's header, then
//   [TUNE_NATIVE=0] node dist/bench/profile-step.js [full|lora] [tiny|20m|legacy]
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../runtime/backend/index.js";
import { LoraAdapter } from "../runtime/lora/adapter.js";
import { LlamaModel } from "../runtime/model/llama.js";
import { Rng } from "../runtime/data/rng.js";
import { fullParams, loraParams, SftTrainer } from "../runtime/train/step.js";
import { BENCH_CONFIGS } from "./train-throughput.js";

async function main(): Promise<void> {
  const [mode = "full", name = "tiny"] = process.argv.slice(2);
  const config = BENCH_CONFIGS[name]!;
  await initBackend("wasm");
  const model = LlamaModel.random(config, 0);
  const params = mode === "lora"
    ? loraParams(LoraAdapter.attach(model, { r: 8, alpha: 16, dropout: 0, targetModules: ["q_proj", "v_proj"], useRslora: false, seed: 0 }))
    : fullParams(model);
  const trainer = new SftTrainer(model, params, { lr: 1e-3, schedule: "constant", warmupSteps: 0, totalSteps: 10, weightDecay: 0.01, maxGradNorm: 1 });
  const rng = new Rng(1);
  const ids = Int32Array.from({ length: 512 }, () => rng.int(config.vocabSize));
  const batch = { ids, labels: ids.slice(), batch: 4, seqLen: 128 };
  for (let i = 0; i < 3; i++) trainer.step([batch]);
  const t0 = performance.now();
  const prof = await tf.profile(() => { trainer.step([batch]); });
  const wall = performance.now() - t0;
  const by = new Map<string, { ms: number; n: number }>();
  for (const k of prof.kernels) {
    const key = k.name === "BatchMatMul" ? `BatchMatMul ${k.inputShapes.map((s) => `[${s}]`).join("x")}` : k.name;
    const e = by.get(key) ?? { ms: 0, n: 0 };
    e.ms += Number(k.kernelTimeMs); e.n++;
    by.set(key, e);
  }
  const total = [...by.values()].reduce((a, e) => a + e.ms, 0);
  console.log(`wall ${wall.toFixed(1)} ms (profiled), kernels ${total.toFixed(1)} ms, ${prof.kernels.length} kernel calls`);
  for (const [k, e] of [...by].sort((a, b) => b[1].ms - a[1].ms).slice(0, 40)) console.log(`${e.ms.toFixed(2).padStart(8)} ms ${String(e.n).padStart(4)}x ${k}`);
}
void main();

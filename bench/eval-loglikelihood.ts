// Log-likelihood scoring throughput of the in-process eval model (the shipped tiny model, wasm backend), in
// requests/s: one request per forward as before (continuationLogProb over context + continuation, LM head at
// every position) against batched scoring (batchContinuationLogProbs: sorted by length, same-input requests
// sharing a row, right-padded, LM head at continuation positions only) at batch sizes 1, 8 and 32.
//
// Run on Node 20 (compiles this script and what it imports into dist/, which is git-ignored):
//   npx tsc --module nodenext --moduleResolution nodenext --target es2022 --strict --skipLibCheck \
//     --rootDir . --outDir dist bench/eval-loglikelihood.ts && node dist/bench/eval-loglikelihood.js [repeats]
//
// Why this exists: evaluation of a base model and its fine-tunes is request-bound (arc_easy: 4 requests per
// document, MMLU: 4 one-token requests per question); this measures what batching buys on one CPU thread.
// Requests: arc_easy (0-shot, 25 docs = 100 requests) and mmlu_abstract_algebra (1-shot, 10 docs = 40
// requests), as the task engine builds them. Reports the median of `repeats` timed passes after one warm-up
// (wall and process CPU time: the VM is shared, so CPU time is the steadier number), and the largest
// difference from the one-at-a-time log-probs.

import { join } from "node:path";
import { initBackend } from "../runtime/backend/index.js";
import { loadModelDir } from "../runtime/checkpoint/index.js";
import { buildRequests, loadRegistry, loadTask } from "../runtime/eval/index.js";
import { InProcessEvalModel } from "../runtime/exec/eval-model.js";
import type { ModelValue } from "../runtime/exec/types.js";
import { batchContinuationLogProbs, continuationLogProb, type ContinuationRequest } from "../runtime/model/logprobs.js";

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

async function tinyModel(): Promise<ModelValue> {
  const dir = join(process.cwd(), "models", "tiny-llama");
  const loaded = await loadModelDir(dir);
  const tok = loaded.tokenizer!;
  return {
    kind: "model", name: "tiny", config: loaded.config, model: loaded.model, baseDir: dir, adapter: null, adapterParams: null, standsInFor: null,
    tokenizer: { encode: (t) => tok.encode(t), decode: (ids) => tok.decode(ids), bosId: loaded.generation.bosTokenId, eosId: loaded.generation.eosTokenIds[0] ?? null },
  };
}

function requests(m: ModelValue, task: string, docs: number, shots: number): ContinuationRequest[] {
  const t = loadTask(loadRegistry(), task, { limit: docs });
  const em = new InProcessEvalModel(m, null);
  return buildRequests(t, { numFewshot: shots }).flatMap((r) => r.loglikelihood).map((r) => em.tokenizeRequest(r));
}

/** Median wall and CPU (user + system) milliseconds of `repeats` passes after one warm-up pass. */
function timed(f: () => number[], repeats: number): { ms: number; cpuMs: number; sums: number[] } {
  let sums = f();
  const wall: number[] = [];
  const cpu: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    sums = f();
    wall.push(performance.now() - t0);
    const c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / 1000);
  }
  return { ms: median(wall), cpuMs: median(cpu), sums };
}

async function main(): Promise<void> {
  const repeats = Number(process.argv[2] ?? 3);
  const info = await initBackend("wasm");
  const m = await tinyModel();
  for (const [task, docs, shots] of [["arc_easy", 25, 0], ["mmlu_abstract_algebra", 10, 1]] as const) {
    const reqs = requests(m, task, docs, shots);
    const tokens = reqs.reduce((n, r) => n + r.context.length + r.continuation.length, 0);
    const ref = timed(() => reqs.map((r) => continuationLogProb(m.model, [...r.context], [...r.continuation]).sum), repeats);
    const rows = [{ mode: "one request per forward (before)", ...ref, maxDiff: 0 }];
    for (const batchSize of [1, 8, 32]) {
      const b = timed(() => batchContinuationLogProbs(m.model, reqs, { batchSize }).map((s) => s.sum), repeats);
      rows.push({ mode: `batched, batch size ${batchSize}`, ...b, maxDiff: Math.max(...b.sums.map((s, i) => Math.abs(s - ref.sums[i]))) });
    }
    for (const r of rows) {
      console.log(JSON.stringify({
        engine: `tfjs ${info.device}`, task, shots, requests: reqs.length, meanTokens: Math.round(tokens / reqs.length), mode: r.mode,
        wallMs: Math.round(r.ms), cpuMs: Math.round(r.cpuMs),
        requestsPerSec: Number(((reqs.length * 1000) / r.ms).toFixed(1)), requestsPerCpuSec: Number(((reqs.length * 1000) / r.cpuMs).toFixed(1)),
        maxDiff: Number(r.maxDiff.toExponential(2)),
      }));
    }
  }
}

void main();

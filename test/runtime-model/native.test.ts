// tune's optional native addon (native/ (gemm.c, ops.c, binding.c)): its SGEMM against a float64 product, its optimizer
// arithmetic bit for bit against the JavaScript code it replaces, and a real training step with and without it.
//
// Why this exists: the addon writes straight into the wasm heap and into optimizer state; a wrong stride, an edge
// tile or a rounding that differs from adamw.ts would corrupt training silently. When the addon is not built
// (no C compiler, not x86-64) these tests are skipped and say so; the same code then runs the wasm kernels.

import * as tf from "@tensorflow/tfjs";
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
import { afterAll, describe, expect, it } from "vitest";
import { initBackend } from "../../runtime/backend/index.js";
import {
  loadNativeKernels, missingNativeFunctions, type NativeKernels, nativeThreadsFromEnv, resetNativeKernelsForTests,
} from "../../runtime/backend/native.js";
import { registerFastWasmMatMul } from "../../runtime/backend/wasm-matmul.js";
import { Rng } from "../../runtime/data/rng.js";
import { LoraAdapter } from "../../runtime/lora/adapter.js";
import { ropeHeads } from "../../runtime/model/fused.js";
import { rmsNorm, silu } from "../../runtime/model/layers.js";
import { LlamaModel } from "../../runtime/model/llama.js";
import { AdamW } from "../../runtime/train/adamw.js";
import { clipGradNorm } from "../../runtime/train/clip.js";
import { fullParams, loraParams, SftTrainer } from "../../runtime/train/step.js";
import { BENCH_CONFIGS } from "../../bench/train-throughput.js";

const status = loadNativeKernels();
const native = status.kernels;
if (!native) console.warn(`native addon tests skipped: ${status.note}`);

function randomArray(n: number, rng: Rng, scale = 1): Float32Array {
  return Float32Array.from({ length: n }, () => (rng.nextFloat() * 2 - 1) * scale);
}

/**
 * op(A)·op(B) per batch entry in float64 — the reference the float32 SGEMM is held to — and Σ|a·b| per element,
 * which bounds float32 summation error (|error| ≤ k·2⁻²⁴·Σ|a·b|, Higham's γ_k).
 */
function reference(a: Float32Array, b: Float32Array, d: { batch: number; m: number; n: number; k: number; ta: boolean; tb: boolean; sa: number; sb: number }): { out: Float64Array; abs: Float64Array } {
  const { batch, m, n, k, ta, tb, sa, sb } = d;
  const out = new Float64Array(batch * m * n);
  const abs = new Float64Array(batch * m * n);
  for (let z = 0; z < batch; z++) {
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let s = 0;
        let sAbs = 0;
        for (let p = 0; p < k; p++) {
          const av = ta ? a[z * sa + p * m + i] : a[z * sa + i * k + p];
          const bv = tb ? b[z * sb + j * k + p] : b[z * sb + p * n + j];
          s += av * bv;
          sAbs += Math.abs(av * bv);
        }
        out[z * m * n + i * n + j] = s;
        abs[z * m * n + i * n + j] = sAbs;
      }
    }
  }
  return { out, abs };
}

describe.skipIf(!native)("native SGEMM", () => {
  const kernels = native as NativeKernels;
  // Edges of the 6×16 register tile, the 96-row A block, the 256-deep K block and the 4096-wide B block.
  const shapes: [number, number, number, number][] = [
    [1, 1, 1, 1], [1, 5, 15, 3], [1, 6, 16, 256], [2, 7, 17, 257], [3, 97, 33, 40], [1, 13, 4100, 9], [2, 100, 48, 600],
  ];
  for (const [batch, m, n, k] of shapes) {
    for (const [ta, tb] of [[false, false], [true, false], [false, true], [true, true]] as const) {
      for (const broadcast of ["none", "a", "b"] as const) {
        it(`batch ${batch}, ${m}×${k}·${k}×${n}, transpose ${ta ? "A" : "-"}${tb ? "B" : "-"}, broadcast ${broadcast}`, () => {
          const rng = new Rng(m * 1000 + n + k);
          const sa = broadcast === "a" ? 0 : m * k;
          const sb = broadcast === "b" ? 0 : k * n;
          const a = randomArray((broadcast === "a" ? 1 : batch) * m * k, rng);
          const b = randomArray((broadcast === "b" ? 1 : batch) * k * n, rng);
          const { out: want, abs } = reference(a, b, { batch, m, n, k, ta, tb, sa, sb });
          const outs = [1, 2].map((threads) => {
            kernels.setThreads(threads);
            const c = new Float32Array(batch * m * n).fill(Number.NaN);
            kernels.sgemm(a, b, c, batch, m, n, k, ta, tb, sa, sb);
            return c;
          });
          kernels.setThreads(status.threads);
          let worst = 0; // error as a share of its bound; ≤ 1 passes
          for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(outs[0][i] - want[i]) / (k * 2 ** -24 * abs[i] + 1e-30));
          expect(worst).toBeLessThanOrEqual(1);
          expect(Buffer.from(outs[1].buffer).equals(Buffer.from(outs[0].buffer))).toBe(true); // threads change nothing
        });
      }
    }
  }

  it("1–5 rows (the unpacked path generation uses) give the same bits as those rows inside a larger product", () => {
    const rng = new Rng(11);
    for (const [m, n, k] of [[12, 33, 300], [7, 100, 600], [9, 4100, 9]]) {
      for (const ta of [false, true]) {
        const a = randomArray(m * k, rng);
        const b = randomArray(k * n, rng);
        const all = new Float32Array(m * n);
        kernels.sgemm(a, b, all, 1, m, n, k, ta, false, 0, 0);
        for (let rows = 1; rows < 6; rows++) {
          const sub = new Float32Array(rows * k); // the first `rows` rows of op(A), stored as op expects
          for (let i = 0; i < rows; i++) for (let p = 0; p < k; p++) sub[ta ? p * rows + i : i * k + p] = ta ? a[p * m + i] : a[i * k + p];
          const few = new Float32Array(rows * n);
          kernels.sgemm(sub, b, few, 1, rows, n, k, ta, false, 0, 0);
          expect(Buffer.from(few.buffer).equals(Buffer.from(all.buffer, 0, rows * n * 4))).toBe(true);
        }
      }
    }
  });

  it("k = 0 gives zeros; empty outputs are fine", () => {
    const c = new Float32Array(6).fill(7);
    kernels.sgemm(new Float32Array(0), new Float32Array(0), c, 1, 2, 3, 0, false, false, 0, 0);
    expect([...c]).toEqual([0, 0, 0, 0, 0, 0]);
    expect(() => kernels.sgemm(new Float32Array(0), new Float32Array(0), new Float32Array(0), 1, 0, 3, 2, false, false, 0, 0)).not.toThrow();
  });

  it("bad arguments throw coded errors instead of reading out of bounds", () => {
    const x = new Float32Array(4);
    expect(() => kernels.sgemm(x, x, new Float32Array(3), 1, 2, 2, 2, false, false, 4, 4)).toThrow(/shorter than its shape/);
    expect(() => kernels.sgemm(x, x, x, 2, 2, 2, 2, false, false, 4, 4)).toThrow(/shorter than its shape/);
    expect(() => kernels.sgemm(x, new Float64Array(4) as unknown as Float32Array, x, 1, 2, 2, 1, false, false, 0, 0)).toThrow(/Float32Arrays/);
    expect(() => kernels.sgemm(x, x, x, 1, -2, 2, 1, false, false, 0, 0)).toThrow(/integers/);
    expect(() => (kernels.sgemm as unknown as (...a: unknown[]) => void)(x, x, x)).toThrow(/11 arguments/);
    expect(() => kernels.setThreads(0)).toThrow(/1 to 16/);
    expect(() => kernels.adamw(x, new Float32Array(3), x, x, 1, 1, 1, 1, 1, 1, 1, 1)).toThrow(/differ in length/);
  });
});

describe("a stale addon", () => {
  it("is recognised by the functions it lacks (then the wasm kernels run and the note says to rebuild)", () => {
    expect(missingNativeFunctions({ sgemm: () => {}, setThreads: () => {}, cpuSupported: () => true })).toEqual([
      "adamw", "sumSquares", "scale", "addInto", "rope", "rmsNorm", "rmsNormGrad", "siluGrad",
    ]);
    expect(missingNativeFunctions(null)).toHaveLength(11);
    if (native) expect(missingNativeFunctions(native)).toEqual([]);
  });
});

describe("native thread setting", () => {
  it("TUNE_NATIVE_THREADS: default 1, auto = CPUs, bad values explained", () => {
    expect(nativeThreadsFromEnv({}, 8)).toBe(1);
    expect(nativeThreadsFromEnv({ TUNE_NATIVE_THREADS: "auto" }, 2)).toBe(2);
    expect(nativeThreadsFromEnv({ TUNE_NATIVE_THREADS: "3" }, 2)).toBe(3);
    expect(() => nativeThreadsFromEnv({ TUNE_NATIVE_THREADS: "two" }, 2)).toThrow(/TUNE_NATIVE_THREADS.*hint/);
  });
});

/** Run `f` with the JavaScript optimizer path (native disabled), then restore the native state. */
function withoutNative<T>(f: () => T): T {
  resetNativeKernelsForTests();
  loadNativeKernels({ TUNE_NATIVE: "0" });
  try {
    return f();
  } finally {
    resetNativeKernelsForTests();
    loadNativeKernels();
  }
}

describe.skipIf(!native)("native optimizer arithmetic is bit-identical to adamw.ts / clip.ts", () => {
  function adamwRun(): Float32Array[] {
    const rng = new Rng(7);
    const value = randomArray(5000, rng);
    const opt = new AdamW({ eps: 1e-8 });
    for (let step = 0; step < 5; step++) {
      const grad = randomArray(5000, rng, 10 ** (step - 3));
      grad[step] = 0;
      opt.step([{ name: "w", value, grad, weightDecay: 0.01 }], 1e-3 * (step + 1));
    }
    const { m, v } = opt.exportState().moments["w"]!;
    return [value, m, v];
  }

  it("AdamW: weights and both moments after 5 steps", () => {
    const js = withoutNative(adamwRun);
    const nat = adamwRun();
    for (let i = 0; i < 3; i++) expect(Buffer.from(nat[i].buffer).equals(Buffer.from(js[i].buffer))).toBe(true);
  });

  it("gradient clipping: norm and scaled gradients", () => {
    const grads = () => {
      const rng = new Rng(3);
      return [randomArray(3000, rng, 2), randomArray(77, rng, 5)];
    };
    const jsGrads = grads();
    const js = withoutNative(() => clipGradNorm(jsGrads, 1));
    const natGrads = grads();
    const nat = clipGradNorm(natGrads, 1);
    expect(nat).toEqual(js);
    expect(nat.scale).toBeLessThan(1);
    natGrads.forEach((g, i) => expect(Buffer.from(g.buffer).equals(Buffer.from(jsGrads[i].buffer))).toBe(true));
  });
});

describe.skipIf(!native)("native RoPE + head transpose is bit-identical to the JavaScript kernel", () => {
  it("forward and gradient, scaled and plain, rotated and value path", async () => {
    await initBackend("wasm");
    const rng = new Rng(5);
    const [B, T, H, hd] = [2, 7, 3, 8];
    const x = tf.tensor2d(randomArray(B * T * H * hd, rng), [B * T, H * hd]);
    const cos = tf.tensor2d(randomArray(B * T * hd, rng), [B * T, hd]);
    const sin = tf.tensor2d(randomArray(B * T * hd, rng), [B * T, hd]);
    const w = tf.tensor4d(randomArray(B * T * H * hd, rng), [B, H, T, hd]);
    for (const opts of [{ batch: B, heads: H, scale: 0.37, rotate: true }, { batch: B, heads: H, scale: 1, rotate: false }]) {
      const run = () => {
        const [y, g] = tf.tidy(() => {
          const f = tf.valueAndGrad((a: tf.Tensor) => tf.sum(tf.mul(ropeHeads(a as tf.Tensor2D, cos, sin, opts), w)));
          return [ropeHeads(x, cos, sin, opts), f(x).grad];
        });
        const out = [Float32Array.from(y.dataSync()), Float32Array.from(g.dataSync())];
        tf.dispose([y, g]);
        return out;
      };
      const js = withoutNative(run);
      const nat = run();
      for (let i = 0; i < 2; i++) expect(Buffer.from(nat[i].buffer).equals(Buffer.from(js[i].buffer))).toBe(true);
    }
    tf.dispose([x, cos, sin, w]);
  });
});

describe.skipIf(!native)("native RMSNorm and SiLU gradient against plain tfjs autodiff", () => {
  const rel = (a: Float32Array, b: Float32Array): number => {
    let worst = 0;
    let scale = 0;
    for (let i = 0; i < a.length; i++) scale = Math.max(scale, Math.abs(b[i]));
    for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
    return worst / scale;
  };

  it("rmsNorm: output, dx and dw within 1e-6 of the autodiff of x·rsqrt(mean(x²)+eps)·w", async () => {
    for (const backend of ["wasm", "cpu"] as const) {
      const info = await initBackend(backend);
      expect(info.notes.join("\n")).toMatch(/RMSNorm forward\/backward/);
      const rng = new Rng(9);
      const x = tf.tensor2d(randomArray(37 * 24, rng, 3), [37, 24]);
      const w = tf.tensor1d(randomArray(24, rng));
      const dy = tf.tensor2d(randomArray(37 * 24, rng), [37, 24]);
      const loss = (f: (a: tf.Tensor2D, b: tf.Tensor1D) => tf.Tensor) => (a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(f(a as tf.Tensor2D, b as tf.Tensor1D), dy));
      const plain = (a: tf.Tensor2D, b: tf.Tensor1D) => tf.mul(tf.mul(a, tf.rsqrt(tf.add(tf.mean(tf.square(a), -1, true), 1e-5))), b);
      const fused = (a: tf.Tensor2D, b: tf.Tensor1D) => rmsNorm(a, b, 1e-5);
      const got = tf.tidy(() => [fused(x, w), ...tf.grads(loss(fused))([x, w])].map((t) => Float32Array.from(t.dataSync())));
      const want = tf.tidy(() => [plain(x, w), ...tf.grads(loss(plain))([x, w])].map((t) => Float32Array.from(t.dataSync())));
      got.forEach((g, i) => expect(rel(g, want[i]), `${backend} output ${i}`).toBeLessThan(1e-6));
      tf.dispose([x, w, dy]);
    }
    await initBackend("wasm");
  });

  it("silu gradient: bit-identical to the op chain it replaces", async () => {
    await initBackend("wasm");
    const rng = new Rng(4);
    const z = tf.tensor1d(randomArray(1000, rng, 8));
    const dy = tf.tensor1d(randomArray(1000, rng));
    const got = tf.tidy(() => Float32Array.from(tf.grad((a: tf.Tensor) => tf.sum(tf.mul(silu(a), dy)))(z).dataSync()));
    const want = tf.tidy(() => {
      const s = tf.sigmoid(z);
      const one = tf.scalar(1);
      return Float32Array.from(tf.mul(dy, tf.mul(s, tf.add(one, tf.mul(z, tf.sub(one, s))))).dataSync());
    });
    expect(Buffer.from(got.buffer).equals(Buffer.from(want.buffer))).toBe(true);
    tf.dispose([z, dy]);
  });
});

describe.skipIf(!native)("training with the native kernels", () => {
  afterAll(() => {
    registerFastWasmMatMul(tf.backend() as BackendWasm, native);
  });

  /** Losses and grad norms of 4 SFT steps of the bench's tiny model, full or LoRA. */
  function train(mode: "full" | "lora", useNative: boolean): { loss: number; gradNorm: number }[] {
    registerFastWasmMatMul(tf.backend() as BackendWasm, useNative ? native : null);
    const run = () => {
      const model = LlamaModel.random(BENCH_CONFIGS["tiny"]!, 0);
      const params = mode === "lora"
        ? loraParams(LoraAdapter.attach(model, { r: 8, alpha: 16, dropout: 0, targetModules: ["q_proj", "v_proj"], useRslora: false, seed: 0 }))
        : fullParams(model);
      const trainer = new SftTrainer(model, params, { lr: 1e-3, schedule: "constant", warmupSteps: 0, totalSteps: 4, weightDecay: 0.01, maxGradNorm: 1 });
      const rng = new Rng(1);
      const ids = Int32Array.from({ length: 2 * 64 }, () => rng.int(2048));
      const batch = { ids, labels: ids.slice(), batch: 2, seqLen: 64 };
      const out = Array.from({ length: 4 }, () => trainer.step([batch]));
      model.dispose();
      return out.map((s) => ({ loss: s.loss, gradNorm: s.gradNorm }));
    };
    return useNative ? run() : withoutNative(run);
  }

  for (const mode of ["full", "lora"] as const) {
    it(`${mode}: the same losses and grad norms as the wasm kernels (≤ 1e-5 relative)`, async () => {
      const info = await initBackend("wasm");
      expect(info.device).toMatch(/native AVX2 matmul/);
      const wasm = train(mode, false);
      const nat = train(mode, true);
      nat.forEach((s, i) => {
        expect(Math.abs(s.loss - wasm[i].loss) / wasm[i].loss).toBeLessThan(1e-5);
        expect(Math.abs(s.gradNorm - wasm[i].gradNorm) / wasm[i].gradNorm).toBeLessThan(1e-4);
      });
      expect(nat[3].loss).toBeLessThan(nat[0].loss);
    });
  }
});

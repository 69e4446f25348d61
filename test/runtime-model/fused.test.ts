// tune's fused kernels (RoPE + head transpose, softmax cross-entropy), the shared-buffer Cast and the cached
// weight transposes give the numbers of the unfused tfjs ops they replace, forward and backward, on wasm and cpu.
//
// Why this exists: these kernels run in every training step; a wrong index or a missed rounding would silently
// change losses and gradients. The references are the tfjs op chains (runtime/model/fused.ts `*Reference`),
// run on the same backend with the same random inputs.

import * as tf from "@tensorflow/tfjs";
import { afterAll, describe, expect, it } from "vitest";
import { initBackend } from "../../runtime/backend/index.js";
import { crossEntropySum, crossEntropySumReference, ropeHeads, ropeHeadsReference, type RopeHeadsOptions } from "../../runtime/model/fused.js";
import { ropeInvFreq, ropeTables } from "../../runtime/model/rope.js";
import { maxAbsDiff } from "./fixture.js";

/** Seeded uniform values in [−scale, scale). */
function rand(shape: number[], seed: number, scale = 1): tf.Tensor {
  let s = seed >>> 0 || 1;
  const n = shape.reduce((a, b) => a * b, 1);
  const data = Float32Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s / 2 ** 32 - 0.5) * 2 * scale;
  });
  return tf.tensor(data, shape);
}

function host(t: tf.Tensor | tf.Tensor[]): Float32Array[] {
  return (Array.isArray(t) ? t : [t]).map((x) => Float32Array.from(x.dataSync()));
}

/** Real RoPE rows (HF default frequencies) for B rows of T positions, as the model builds them. */
function ropeRows(B: number, T: number, hd: number): { cos: tf.Tensor2D; sin: tf.Tensor2D } {
  const positions = Int32Array.from({ length: B * T }, (_, i) => (i % T) + 3 * Math.floor(i / T));
  const { cos, sinSigned } = ropeTables(ropeInvFreq({ headDim: hd, ropeTheta: 10000, ropeScaling: null }), positions, hd);
  return { cos: tf.tensor2d(cos, [B * T, hd]), sin: tf.tensor2d(sinSigned, [B * T, hd]) };
}

afterAll(async () => {
  await initBackend("wasm");
});

for (const backend of ["wasm", "cpu"] as const) {
  describe(`fused RoPE + head transpose on ${backend}`, () => {
    const cases: [string, number, number, number, number, Omit<RopeHeadsOptions, "batch" | "heads">][] = [
      ["queries: scaled and rotated", 3, 5, 4, 8, { scale: 1 / Math.sqrt(8), rotate: true }],
      ["keys: rotated (2 kv heads)", 2, 7, 2, 16, { rotate: true }],
      ["values: transpose only", 2, 4, 3, 4, { rotate: false }],
    ];
    for (const [label, B, T, H, hd, o] of cases) {
      it(`${label}: value and gradient equal the op chain bit for bit`, async () => {
        await initBackend(backend);
        const opts = { ...o, batch: B, heads: H };
        const res = tf.tidy(() => {
          const x = rand([B * T, H * hd], 11);
          const w = rand([B, H, T, hd], 12);
          const { cos, sin } = ropeRows(B, T, hd);
          const f = (fn: typeof ropeHeads) => tf.valueAndGrad((a: tf.Tensor) => tf.sum(tf.mul(fn(a as tf.Tensor2D, cos, sin, opts), w)));
          const fused = f(ropeHeads)(x);
          const ref = f(ropeHeadsReference)(x);
          return {
            y: host([ropeHeads(x as tf.Tensor2D, cos, sin, opts), ropeHeadsReference(x as tf.Tensor2D, cos, sin, opts)]),
            g: host([fused.grad, ref.grad]),
            shape: ropeHeads(x as tf.Tensor2D, cos, sin, opts).shape,
          };
        });
        expect(res.shape).toEqual([B, H, T, hd]);
        expect(maxAbsDiff(res.y[0], res.y[1])).toBe(0);
        expect(maxAbsDiff(res.g[0], res.g[1])).toBe(0);
      });
    }
  });

  describe(`fused softmax cross-entropy on ${backend}`, () => {
    it("sum and gradient match log-softmax within float32 rounding", async () => {
      await initBackend(backend);
      const N = 37;
      const V = 301;
      const targets = Int32Array.from({ length: N }, (_, i) => (i * 53) % V);
      const res = tf.tidy(() => {
        const logits = rand([N, V], 5, 6);
        const fused = tf.valueAndGrad((x: tf.Tensor) => crossEntropySum(x as tf.Tensor2D, targets))(logits);
        const ref = tf.valueAndGrad((x: tf.Tensor) => crossEntropySumReference(x as tf.Tensor2D, targets))(logits);
        return { v: [fused.value.dataSync()[0], ref.value.dataSync()[0]], g: host([fused.grad, ref.grad]) };
      });
      expect(Math.abs(res.v[0] - res.v[1]) / Math.abs(res.v[1])).toBeLessThan(1e-6);
      expect(maxAbsDiff(res.g[0], res.g[1])).toBeLessThan(1e-6);
    });

    it("a target with vanishing probability takes the exact path (no Infinity)", async () => {
      await initBackend(backend);
      const v = tf.tidy(() => {
        const logits = tf.tensor2d([[0, 200, -150, 3], [1, 2, 3, 4]]);
        return [crossEntropySum(logits, Int32Array.from([2, 0])).dataSync()[0], crossEntropySumReference(logits, Int32Array.from([2, 0])).dataSync()[0]];
      });
      expect(Number.isFinite(v[0])).toBe(true);
      expect(Math.abs(v[0] - v[1]) / v[1]).toBeLessThan(1e-6);
    });

    it("rejects a target outside the vocabulary", async () => {
      await initBackend(backend);
      expect(() => tf.tidy(() => crossEntropySum(tf.zeros([2, 3]) as tf.Tensor2D, Int32Array.from([0, 3])))).toThrow(/outside \[0, 3\)/);
    });
  });
}

describe("wasm Cast and cached transposes", () => {
  it("same-dtype Cast shares the buffer and survives disposing its source", async () => {
    await initBackend("wasm");
    const a = tf.tensor1d([1.5, -2, 3]);
    const b = tf.cast(a, "float32");
    const c = tf.cast(a, "int32");
    a.dispose();
    expect([...b.dataSync()]).toEqual([1.5, -2, 3]);
    expect([...c.dataSync()]).toEqual([1, -2, 3]);
    tf.dispose([b, c]);
  });

  it("x·Wᵀ follows a variable through assign (the kept transpose is dropped with the old buffer)", async () => {
    await initBackend("wasm");
    const w = tf.variable(rand([6, 5], 1));
    const x = rand([4, 5], 2);
    const before = host(tf.matMul(x, w, false, true))[0];
    const again = host(tf.matMul(x, w, false, true))[0];
    expect(maxAbsDiff(before, again)).toBe(0);
    const next = rand([6, 5], 3);
    w.assign(next);
    const after = host(tf.matMul(x, w, false, true))[0];
    const want = host(tf.matMul(x, tf.transpose(next)))[0];
    expect(maxAbsDiff(after, want)).toBe(0);
    expect(maxAbsDiff(after, before)).toBeGreaterThan(0.01);
    tf.dispose([w, x, next]);
  });
});

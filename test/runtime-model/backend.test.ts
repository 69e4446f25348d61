// Backend selection and tune's replacement kernels give the same numbers as the tfjs cpu reference.
//
// Why this exists: the wasm BatchMatMul wrapper (explicit transposes, per-batch XNNPACK on heap views), the
// scatter-add UnsortedSegmentSum and the buffer-sharing Identity replace tfjs kernels that every training
// step uses; a wrong offset or shape there would silently corrupt gradients.

import * as tf from "@tensorflow/tfjs";
import { afterAll, describe, expect, it } from "vitest";
import { initBackend } from "../../runtime/backend/index.js";
import { scatterAdd } from "../../runtime/backend/segment-sum.js";
import { maxAbsDiff } from "./fixture.js";

function filled(shape: number[], seed: number): tf.Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  return tf.tensor(Float32Array.from({ length: n }, (_, j) => Math.sin(j * 1.37 + seed)), shape);
}

/** Run `f` on the cpu backend and on wasm; return both results as host arrays. */
async function onBoth(f: () => tf.Tensor | tf.Tensor[]): Promise<{ cpu: Float32Array[]; wasm: Float32Array[] }> {
  const run = () => {
    const out = tf.tidy(f);
    const list = Array.isArray(out) ? out : [out];
    const data = list.map((t) => Float32Array.from(t.dataSync()));
    tf.dispose(list);
    return data;
  };
  await initBackend("cpu");
  const cpu = run();
  await initBackend("wasm");
  return { cpu, wasm: run() };
}

afterAll(async () => {
  await initBackend("wasm");
});

describe("initBackend", () => {
  it("wasm is the default and reports the kernel replacements", async () => {
    const info = await initBackend();
    expect(info.backend).toBe("wasm");
    expect(tf.getBackend()).toBe("wasm");
    expect(info.device).toMatch(/^wasm \(/);
    expect(info.notes.join("\n")).toMatch(/UnsortedSegmentSum/);
    expect(info.notes.join("\n")).toMatch(/BatchMatMul/);
  });

  it("tensorflow / gpu fail with a clear message when tfjs-node is not installed", async () => {
    await expect(initBackend("tensorflow")).rejects.toThrow(/@tensorflow\/tfjs-node.*npm install/s);
    await expect(initBackend("gpu")).rejects.toThrow(/@tensorflow\/tfjs-node-gpu/);
    expect(tf.getBackend()).toBe("wasm");
  });

  it("auto falls back to wasm and says why", async () => {
    const info = await initBackend("auto");
    expect(info.backend).toBe("wasm");
    expect(info.notes.some((n) => n.startsWith("auto: tensorflow unavailable"))).toBe(true);
  });

  it("cpu gets the scatter-add kernel too", async () => {
    const info = await initBackend("cpu");
    expect(info.backend).toBe("cpu");
    expect(info.notes.join("\n")).toMatch(/UnsortedSegmentSum/);
    await initBackend("wasm");
  });
});

describe("wasm BatchMatMul wrapper equals the cpu reference", () => {
  const cases: [string, number[], number[], boolean, boolean][] = [
    ["2-D plain", [5, 7], [7, 3], false, false],
    ["2-D transposeA", [7, 5], [7, 3], true, false],
    ["2-D transposeB", [5, 7], [3, 7], false, true],
    ["2-D both", [7, 5], [3, 7], true, true],
    ["batched", [4, 5, 7], [4, 7, 3], false, false],
    ["batched transposeA", [4, 7, 5], [4, 7, 3], true, false],
    ["batched transposeB (attention q·kᵀ)", [2, 2, 6, 8], [2, 2, 5, 8], false, true],
    ["broadcast a", [1, 5, 7], [4, 7, 3], false, false],
    ["broadcast b", [4, 5, 7], [1, 7, 3], false, false],
    ["rank-4 vs rank-3 broadcast", [2, 3, 5, 7], [3, 7, 4], false, false],
    ["empty inner dim", [3, 0], [0, 4], false, false],
  ];
  for (const [label, sa, sb, ta, tb] of cases) {
    it(label, async () => {
      const { cpu, wasm } = await onBoth(() => tf.matMul(filled(sa, 1), filled(sb, 2), ta, tb));
      expect(maxAbsDiff(wasm[0], cpu[0])).toBeLessThan(1e-5);
    });
  }

  it("gradients of a batched, transposed matmul", async () => {
    const f = () => tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(tf.matMul(a, b, true, true), filled([3, 6, 4], 5))))(
      [filled([3, 8, 6], 3), filled([3, 4, 8], 4)],
    );
    const { cpu, wasm } = await onBoth(f);
    expect(maxAbsDiff(wasm[0], cpu[0])).toBeLessThan(1e-5);
    expect(maxAbsDiff(wasm[1], cpu[1])).toBeLessThan(1e-5);
  });
});

describe("UnsortedSegmentSum scatter-add", () => {
  it("host loop adds rows into segments and drops out-of-range ids", () => {
    const out = new Float32Array(6);
    scatterAdd(Float32Array.from([1, 2, 3, 4, 5, 6, 7, 8]), Int32Array.from([2, 0, 2, -1]), out, 3);
    expect([...out]).toEqual([3, 4, 0, 0, 6, 8]);
  });

  it("wasm and cpu kernels equal the reference sum", async () => {
    const ids = tf.tensor1d([3, 1, 3, 0, 9, 1], "int32");
    const { cpu, wasm } = await onBoth(() => tf.unsortedSegmentSum(filled([6, 4], 7), ids, 10));
    const x = filled([6, 4], 7).dataSync();
    const want = new Float32Array(40);
    [3, 1, 3, 0, 9, 1].forEach((s, i) => {
      for (let j = 0; j < 4; j++) want[s * 4 + j] += x[i * 4 + j];
    });
    expect(maxAbsDiff(cpu[0], want)).toBeLessThan(1e-6);
    expect(maxAbsDiff(wasm[0], want)).toBeLessThan(1e-6);
  });

  it("gather (embedding) gradient works on wasm and matches cpu", async () => {
    const f = () => tf.grad((table: tf.Tensor) => tf.sum(tf.mul(tf.gather(table, tf.tensor1d([4, 1, 4, 0], "int32")), filled([4, 3], 2))))(
      filled([6, 3], 1),
    );
    const { cpu, wasm } = await onBoth(f);
    expect(maxAbsDiff(wasm[0], cpu[0])).toBe(0);
    expect(cpu[0].slice(6, 9).every((v) => v === 0)).toBe(true); // row 2 never gathered
  });

  it("a large-vocabulary gather gradient is fast (direct scatter-add, not per-segment loops)", async () => {
    await initBackend("wasm");
    const t0 = performance.now();
    tf.tidy(() => {
      const ids = tf.tensor1d(Int32Array.from({ length: 512 }, (_, i) => (i * 7919) % 32000), "int32");
      const g = tf.grad((table: tf.Tensor) => tf.sum(tf.gather(table, ids)))(tf.zeros([32000, 64]));
      g.dataSync();
    });
    expect(performance.now() - t0).toBeLessThan(2000);
  });
});

describe("GatherV2 row copy on wasm equals cpu", () => {
  const cases: [string, () => tf.Tensor][] = [
    ["embedding rows", () => tf.gather(filled([6, 3], 1), tf.tensor1d([5, 0, 5, 2], "int32"))],
    ["2-D indices, 3-D params", () => tf.gather(filled([4, 2, 3], 2), tf.tensor2d([[3, 1], [0, 0]], [2, 2], "int32"))],
    ["1-D params (picked logits)", () => tf.gather(filled([20], 3), tf.tensor1d([19, 0, 7], "int32"))],
    ["int32 params", () => tf.gather(tf.tensor2d([[1, 2], [3, 4]], [2, 2], "int32"), tf.tensor1d([1, 1, 0], "int32"))],
    ["axis 1 (falls back to the tfjs kernel)", () => tf.gather(filled([3, 5], 4), tf.tensor1d([4, 0], "int32"), 1)],
  ];
  for (const [label, f] of cases) {
    it(label, async () => {
      const { cpu, wasm } = await onBoth(f);
      expect(maxAbsDiff(wasm[0], cpu[0])).toBe(0);
    });
  }

  it("rejects an out-of-range index", async () => {
    await initBackend("wasm");
    expect(() => tf.tidy(() => tf.gather(filled([3, 2], 1), tf.tensor1d([3], "int32")))).toThrow(/outside/);
  });
});

describe("Identity on wasm shares buffers safely", () => {
  it("clone keeps its values after the source is disposed", async () => {
    await initBackend("wasm");
    const a = tf.tensor1d([1, 2, 3]);
    const b = tf.clone(a);
    a.dispose();
    expect([...b.dataSync()]).toEqual([1, 2, 3]);
    b.dispose();
  });
});

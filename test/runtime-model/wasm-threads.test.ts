// The multi-threaded wasm binary starts in Node (TUNE_WASM_THREADS) and computes what the single-threaded
// backend computes.
//
// Why this exists: wasm-threads.ts works around three places where tfjs 4.22 keeps its threaded build out of
// Node (a flag, blob-URL workers, a halved core count); a tfjs or Node upgrade may break any of them. Its own
// test file because the wasm module can start only once per process (vitest runs each file in its own fork).

import * as tf from "@tensorflow/tfjs";
import { describe, expect, it } from "vitest";
import { initBackend, wasmThreadsFromEnv } from "../../runtime/backend/index.js";
import { maxAbsDiff } from "./fixture.js";

function filled(shape: number[], seed: number): tf.Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  return tf.tensor(Float32Array.from({ length: n }, (_, j) => Math.sin(j * 0.37 + seed)), shape);
}

describe("TUNE_WASM_THREADS", () => {
  it("parses a count, 'auto' and rejects nonsense with a hint", () => {
    expect(wasmThreadsFromEnv({})).toBe(1);
    expect(wasmThreadsFromEnv({ TUNE_WASM_THREADS: "3" })).toBe(3);
    expect(wasmThreadsFromEnv({ TUNE_WASM_THREADS: "auto" })).toBeGreaterThanOrEqual(1);
    expect(() => wasmThreadsFromEnv({ TUNE_WASM_THREADS: "0" })).toThrow(/1 to 64.*unset it/);
    expect(() => wasmThreadsFromEnv({ TUNE_WASM_THREADS: "two" })).toThrow(/TUNE_WASM_THREADS/);
  });

  it("2 threads: the threaded binary starts and matmuls equal the cpu backend's", async () => {
    const cpuInfo = await initBackend("cpu");
    expect(cpuInfo.backend).toBe("cpu");
    const shapes: [number[], number[], boolean][] = [[[300, 70], [70, 90], false], [[2, 3, 64, 40], [2, 3, 50, 40], true]];
    const want = shapes.map(([a, b, tb]) => Float32Array.from(tf.tidy(() => tf.matMul(filled(a, 1), filled(b, 2), false, tb)).dataSync()));
    process.env["TUNE_WASM_THREADS"] = "2";
    try {
      const info = await initBackend("wasm");
      expect(info.device).toMatch(/2 threads/);
      shapes.forEach(([a, b, tb], i) => {
        const got = tf.tidy(() => tf.matMul(filled(a, 1), filled(b, 2), false, tb)).dataSync() as Float32Array;
        expect(maxAbsDiff(got, want[i]!)).toBeLessThan(1e-4);
      });
    } finally {
      delete process.env["TUNE_WASM_THREADS"];
    }
  });
});

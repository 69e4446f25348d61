// Choose and initialise the TensorFlow.js backend that runs tune's in-process model.
//
// Why this exists: the same model code runs on several engines (runtime-notes.md "What to use where"):
// wasm (default; installs from npm alone), the pure-JS cpu backend (last fallback), and libtensorflow through
// the optional `@tensorflow/tfjs-node` / `@tensorflow/tfjs-node-gpu` packages. wasm and cpu need kernel fixes
// (scatter-add gather gradient, pre-transposed matmul) before they are usable for training; this module
// applies them and reports which backend actually runs, for every run's log. It also registers tune's fused
// transformer kernels (fused-kernels.ts) and can start wasm's multi-threaded binary (wasm-threads.ts). When tune's
// optional native addon is built (native.ts), wasm products and the RMSNorm/SiLU kernels (native-kernels.ts) run
// there, and the device string says so ("… + native AVX2 matmul (1 thread)").

import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";
import * as tf from "@tensorflow/tfjs";
import * as tfWasm from "@tensorflow/tfjs-backend-wasm";
import { registerFusedKernels } from "./fused-kernels.js";
import { registerSegmentSum } from "./segment-sum.js";
import { registerRowGather } from "./wasm-gather.js";
import { registerSharedIdentity } from "./wasm-identity.js";
import { loadNativeKernels } from "./native.js";
import { registerNativeKernels } from "./native-kernels.js";
import { registerFastWasmMatMul } from "./wasm-matmul.js";
import { setThreadedWasmBackend } from "./wasm-threads.js";

export type DeviceRequest = "auto" | "wasm" | "cpu" | "tensorflow" | "gpu";

export interface BackendInfo {
  /** tfjs backend name now active: "wasm", "cpu" or "tensorflow". */
  backend: string;
  /** What it runs on, in words for the log ("wasm (SIMD, 1 thread)", "cpu (pure JS)", "tensorflow (GPU)"). */
  device: string;
  /** Kernel replacements applied, fallbacks taken, warnings. */
  notes: string[];
}

let current: { request: DeviceRequest; info: BackendInfo } | null = null;

/** Directory holding the wasm binaries, as a file-system path ending in a separator. */
export function wasmBinaryDir(): string {
  const require = createRequire(import.meta.url);
  const file = require.resolve("@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm");
  return path.dirname(file) + path.sep;
}

/**
 * XNNPACK threads for the wasm backend: `TUNE_WASM_THREADS` (a positive integer, or "auto" = one per CPU),
 * default 1. Read once, when the wasm backend starts; the wasm module cannot change its pool afterwards.
 */
export function wasmThreadsFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env["TUNE_WASM_THREADS"]?.trim();
  if (raw == null || raw === "") return 1;
  if (raw === "auto") return Math.max(1, os.availableParallelism());
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 64) {
    throw new Error(`TUNE_WASM_THREADS must be a whole number from 1 to 64 or "auto", got "${raw}" (hint: unset it for 1 thread)`);
  }
  return n;
}

let wasmStarted = false;

async function startWasm(threads: number, notes: string[]): Promise<void> {
  tfWasm.setWasmPaths(wasmBinaryDir());
  if (threads > 1 && !wasmStarted) {
    wasmStarted = true;
    if (await setThreadedWasmBackend(threads)) return;
    throw new Error(
      `the multi-threaded tfjs wasm backend (${threads} threads) did not start in this Node ${process.version}; ` +
        `unset TUNE_WASM_THREADS to run single-threaded`,
    );
  }
  wasmStarted = true;
  const ok = await tf.setBackend("wasm");
  if (!ok || tf.getBackend() !== "wasm") throw new Error("tfjs wasm backend failed to initialise");
  if (threads > 1 && tfWasm.getThreadsCount() !== threads) {
    notes.push(`wasm: already started with ${tfWasm.getThreadsCount()} thread(s); ${threads} requested`);
  }
}

async function initWasm(notes: string[], threads: number): Promise<BackendInfo> {
  await startWasm(threads, notes);
  const backend = tf.backend() as tfWasm.BackendWasm;
  registerSegmentSum("wasm");
  const native = loadNativeKernels();
  registerFastWasmMatMul(backend, native.kernels);
  registerSharedIdentity();
  registerRowGather();
  registerFusedKernels();
  if (registerNativeKernels()) notes.push("wasm, cpu: RMSNorm forward/backward and the SiLU gradient = native kernels (tune kernels)");
  notes.push("wasm: UnsortedSegmentSum = direct scatter-add (tune kernel)");
  notes.push("wasm: Identity and same-dtype Cast share the input buffer instead of copying (tune kernel)");
  notes.push("wasm: GatherV2 on axis 0 copies whole rows (tune kernel)");
  notes.push(native.kernels
    ? "wasm: BatchMatMul = tune's native AVX2/FMA SGEMM on the wasm heap (tune kernel)"
    : "wasm: BatchMatMul = explicit (cached for weights) transpose + per-batch XNNPACK (tune kernel)");
  notes.push(native.note);
  notes.push("wasm: fused RoPE + head transpose, softmax cross-entropy (tune kernels)");
  const simd = await tf.env().getAsync("WASM_HAS_SIMD_SUPPORT");
  const n = tfWasm.getThreadsCount();
  const matmul = native.kernels ? ` + native AVX2 matmul (${native.threads} thread${native.threads === 1 ? "" : "s"})` : "";
  return { backend: "wasm", device: `wasm (${simd ? "SIMD" : "no SIMD"}, ${n} thread${n === 1 ? "" : "s"})${matmul}`, notes };
}

async function initCpu(notes: string[]): Promise<BackendInfo> {
  const ok = await tf.setBackend("cpu");
  if (!ok) throw new Error("tfjs cpu backend failed to initialise");
  registerSegmentSum("cpu");
  registerFusedKernels();
  if (registerNativeKernels()) notes.push("cpu: RMSNorm forward/backward and the SiLU gradient = native kernels (tune kernels)");
  notes.push("cpu: UnsortedSegmentSum = direct scatter-add (tune kernel)");
  notes.push("cpu: fused RoPE + head transpose, softmax cross-entropy (tune kernels)");
  return { backend: "cpu", device: "cpu (pure JS)", notes };
}

/** Node ≥ 23 removed util.isNullOrUndefined, which tfjs-node 4.22 still calls. */
async function polyfillNodeUtil(): Promise<void> {
  const util = (await import("node:util")) as unknown as Record<string, unknown>;
  const target = (util["default"] ?? util) as Record<string, unknown>;
  if (typeof target["isNullOrUndefined"] !== "function") {
    target["isNullOrUndefined"] = (x: unknown) => x === null || x === undefined;
  }
}

async function initNative(gpu: boolean, notes: string[]): Promise<BackendInfo> {
  const pkg = gpu ? "@tensorflow/tfjs-node-gpu" : "@tensorflow/tfjs-node";
  await polyfillNodeUtil();
  try {
    // A variable specifier keeps TypeScript from resolving a package that is optional and usually absent.
    const specifier: string = pkg;
    await import(specifier);
  } catch (err) {
    const why = err instanceof Error ? err.message.split("\n")[0] : String(err);
    throw new Error(
      `device "${gpu ? "gpu" : "tensorflow"}" needs the optional package ${pkg}, which did not load (${why}). ` +
        `Install it with \`npm install ${pkg}\` (downloads libtensorflow 2.9.1${gpu ? "; needs CUDA 11.2 + cuDNN 8.1" : ""}), ` +
        `or use device "wasm".`,
    );
  }
  const ok = await tf.setBackend("tensorflow");
  if (!ok) throw new Error(`${pkg} loaded but the "tensorflow" backend failed to initialise`);
  // tfjs-node's backend exposes whether libtensorflow found a GPU; the GPU build silently falls back to CPU.
  const usingGpu = Boolean((tf.backend() as unknown as { isUsingGpuDevice?: boolean }).isUsingGpuDevice);
  if (gpu && !usingGpu) notes.push("tfjs-node-gpu loaded but no usable GPU was found: running on CPU");
  return { backend: "tensorflow", device: `tensorflow (${usingGpu ? "GPU" : "CPU"}, ${pkg})`, notes };
}

function firstLine(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).split("\n")[0];
}

/** auto: libtensorflow if an optional tfjs-node package is installed (GPU build first), else wasm, else cpu. */
async function initAuto(notes: string[]): Promise<BackendInfo> {
  for (const gpu of [true, false]) {
    try {
      return await initNative(gpu, notes);
    } catch (err) {
      notes.push(`auto: ${gpu ? "gpu" : "tensorflow"} unavailable (${firstLine(err).slice(0, 80)}...)`);
    }
  }
  try {
    return await initWasm(notes, wasmThreadsFromEnv());
  } catch (err) {
    notes.push(`auto: wasm failed (${firstLine(err)}); using cpu`);
    return initCpu(notes);
  }
}

/**
 * Initialise the backend for `device` (default wasm) and return what runs. "auto" tries tfjs-node-gpu,
 * tfjs-node, wasm, then cpu; "tensorflow"/"gpu" throw a clear error when the optional package is missing.
 * Calling again with the same request is free; a different request switches backend.
 */
export async function initBackend(device: DeviceRequest = "wasm"): Promise<BackendInfo> {
  if (current && current.request === device && tf.getBackend() === current.info.backend) return current.info;
  const notes: string[] = [];
  let info: BackendInfo;
  switch (device) {
    case "wasm":
      info = await initWasm(notes, wasmThreadsFromEnv());
      break;
    case "cpu":
      info = await initCpu(notes);
      break;
    case "tensorflow":
      info = await initNative(false, notes);
      break;
    case "gpu":
      info = await initNative(true, notes);
      break;
    case "auto":
      info = await initAuto(notes);
      break;
    default:
      throw new Error(`unknown device "${String(device)}" (expected auto, wasm, cpu, tensorflow or gpu)`);
  }
  current = { request: device, info };
  return info;
}

export { registerSegmentSum } from "./segment-sum.js";
export { registerFastWasmMatMul } from "./wasm-matmul.js";
export { registerSharedIdentity } from "./wasm-identity.js";
export { registerRowGather } from "./wasm-gather.js";

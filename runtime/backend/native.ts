// Load tune's optional native matrix-product addon (native/ (gemm.c, ops.c, binding.c)) and describe what it does.
//
// Why this exists: matrix products are 80–86% of in-process training time, and the addon computes them with
// AVX2 + FMA about 5× faster than the wasm backend's XNNPACK (BENCHMARKS.md). It is built at install time when a C
// compiler and Node's headers exist (scripts/build-native.mjs); when it is absent, disabled (`TUNE_NATIVE=0`), or
// the CPU lacks AVX2/FMA, the wasm kernels run as before and the run's log says so.

import { createHash } from "node:crypto";
import { createRequire } from "node:module";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

/** The addon's functions (native/ (gemm.c, ops.c, binding.c) documents each). */
export interface NativeKernels {
  sgemm(
    a: Float32Array, b: Float32Array, c: Float32Array, batch: number, m: number, n: number, k: number,
    transposeA: boolean, transposeB: boolean, strideA: number, strideB: number,
  ): void;
  setThreads(n: number): number;
  cpuSupported(): boolean;
  /** One torch AdamW update in place; the scalars as runtime/train/adamw.ts rounds them. */
  adamw(
    x: Float32Array, g: Float32Array, m: Float32Array, v: Float32Array, decay: number, beta1: number, oneMinusBeta1: number,
    beta2: number, oneMinusBeta2: number, stepSize: number, biasCorrection2Sqrt: number, eps: number,
  ): void;
  /** Σ g[i]² in double, in index order. */
  sumSquares(g: Float32Array): number;
  /** g[i] = float32(g[i] · c). */
  scale(g: Float32Array, c: number): void;
  /** acc[i] += x[i] in float32. */
  addInto(acc: Float32Array, x: Float32Array): void;
  /** RoPE + head transpose (grad false) or its gradient (true), bit-identical to fused-kernels.ts. */
  rope(
    grad: boolean, x: Float32Array, cos: Float32Array, sin: Float32Array, out: Float32Array,
    B: number, T: number, H: number, hd: number, scale: number, rotate: boolean,
  ): void;
  /** RMSNorm forward over rows of x [N, D]: y, x̂ [N, D] and r [N]. */
  rmsNorm(x: Float32Array, w: Float32Array, y: Float32Array, xhat: Float32Array, r: Float32Array, N: number, D: number, eps: number): void;
  /** Its gradient: out = dx [N, D] (wantDx) or dw [D]. */
  rmsNormGrad(wantDx: boolean, dy: Float32Array, xhat: Float32Array, r: Float32Array, w: Float32Array, out: Float32Array, N: number, D: number): void;
  /** dz = dy·(s·(1 + z·(1 − s))). */
  siluGrad(dy: Float32Array, z: Float32Array, s: Float32Array, dz: Float32Array): void;
}

export interface NativeStatus {
  kernels: NativeKernels | null;
  /** Threads the addon uses for large products. */
  threads: number;
  /** One line for the run log: what is used, or why not. */
  note: string;
}

/** Where the build script writes the addon, found from this module's location in the source tree or dist/. */
export function nativeAddonPath(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    if (fs.existsSync(path.join(dir, "package.json")) && fs.existsSync(path.join(dir, "native"))) break;
    dir = path.dirname(dir);
  }
  return path.join(dir, "native", "build", "tune_native.node");
}

/**
 * Threads for the addon: `TUNE_NATIVE_THREADS` (1–16 or "auto" = CPUs, capped at 16), default 1. Products
 * split rows across threads; every element is still summed in one order, so results do not depend on it.
 */
export function nativeThreadsFromEnv(env: NodeJS.ProcessEnv, cpus: number): number {
  const raw = env["TUNE_NATIVE_THREADS"]?.trim();
  if (raw == null || raw === "") return 1;
  if (raw === "auto") return Math.min(16, Math.max(1, cpus));
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 16) {
    throw new Error(`TUNE_NATIVE_THREADS must be a whole number from 1 to 16 or "auto", got "${raw}" (hint: unset it for 1 thread)`);
  }
  return n;
}

let loaded: NativeStatus | null = null;

/** Load the addon once per process; never throws for a missing or unusable addon (the note says why). */
export function loadNativeKernels(env: NodeJS.ProcessEnv = process.env, cpus = os.availableParallelism()): NativeStatus {
  if (loaded) return loaded;
  const file = nativeAddonPath();
  const off = env["TUNE_NATIVE"]?.trim();
  if (off === "0" || off === "false" || off === "off") {
    loaded = { kernels: null, threads: 1, note: "native matmul: off (TUNE_NATIVE=0)" };
  } else if (!fs.existsSync(file)) {
    loaded = {
      kernels: null, threads: 1,
      note: "native matmul: not built (run `npm run build:native`; needs a C compiler, x86-64 with AVX2)",
    };
  } else {
    loaded = loadFrom(file, nativeThreadsFromEnv(env, cpus));
  }
  return loaded;
}

/** Every function this version of tune calls on the addon. */
const REQUIRED: readonly (keyof NativeKernels)[] = [
  "sgemm", "setThreads", "cpuSupported", "adamw", "sumSquares", "scale", "addInto", "rope", "rmsNorm", "rmsNormGrad", "siluGrad",
];

/** Names of the functions `addon` lacks (an addon built from older sources, e.g. after `git pull` without install). */
export function missingNativeFunctions(addon: unknown): string[] {
  const obj = (addon ?? {}) as Record<string, unknown>;
  return REQUIRED.filter((name) => typeof obj[name] !== "function");
}

/**
 * sha256 over native/*.c and *.h (names and bytes, sorted) — what scripts/build-native.mjs records as `sources` in
 * native/build/stamp.json — so an addon built from other sources is recognised.
 */
export function nativeSourcesDigest(nativeDir: string): string {
  const hash = createHash("sha256");
  const files = fs.readdirSync(nativeDir).filter((f) => f.endsWith(".c") || f.endsWith(".h")).sort();
  for (const f of files) hash.update(f).update(fs.readFileSync(path.join(nativeDir, f)));
  return hash.digest("hex");
}

/** Why the addon next to `file` was built from other sources than the ones shipped beside it, or null. */
function staleReason(file: string): string | null {
  try {
    const stamp = JSON.parse(fs.readFileSync(path.join(path.dirname(file), "stamp.json"), "utf8")) as { sources?: string };
    if (stamp.sources == null) return "it has no source digest";
    return stamp.sources === nativeSourcesDigest(path.dirname(path.dirname(file))) ? null : "native/*.c changed since it was built";
  } catch {
    return "its stamp.json is missing or unreadable";
  }
}

function loadFrom(file: string, threads: number): NativeStatus {
  const stale = staleReason(file);
  if (stale) {
    return { kernels: null, threads: 1, note: `native matmul: the built addon is out of date (${stale}); rebuild with \`npm run build:native\`` };
  }
  try {
    const kernels = createRequire(import.meta.url)(file) as NativeKernels;
    const missing = missingNativeFunctions(kernels);
    if (missing.length > 0) {
      return {
        kernels: null, threads: 1,
        note: `native matmul: the built addon is out of date (no ${missing.join(", ")}); rebuild with \`npm run build:native\``,
      };
    }
    if (!kernels.cpuSupported()) return { kernels: null, threads: 1, note: "native matmul: this CPU lacks AVX2/FMA" };
    kernels.setThreads(threads);
    return { kernels, threads, note: `native matmul: AVX2/FMA, ${threads} thread${threads === 1 ? "" : "s"} (${file})` };
  } catch (err) {
    const why = (err instanceof Error ? err.message : String(err)).split("\n")[0];
    return { kernels: null, threads: 1, note: `native matmul: failed to load (${why}); rebuild with \`npm run build:native\`` };
  }
}

/** The addon's kernels when loaded and usable, else null (loads on first use). */
export function nativeKernels(): NativeKernels | null {
  return loadNativeKernels().kernels;
}

/** Forget the loaded state (tests). The library itself stays loaded in the process. */
export function resetNativeKernelsForTests(): void {
  loaded = null;
}

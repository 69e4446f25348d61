// bitsandbytes 4-bit blockwise quantization (NF4 / FP4) with optional double quantization of the statistics.
//
// Why this exists: QLoRA keeps the frozen base weights in NF4; tune's in-process runtime must produce and read the
// exact same packed bytes and scales as bitsandbytes (`functional.quantize_4bit` / `dequantize_4bit`, reference
// kernels in `backends/default/ops.py`, CUDA `kQuantizeBlockwise`) so that memory estimates, dequantized weights and
// saved checkpoints agree with the PyTorch path. Spec: /work/shared/reference/algorithms.md §2.
//
// Algorithm (per weight, flattened row-major; blocks of `blocksize`, the trailing partial block has its own absmax):
//   absmax_b = max|a| (fp32);  x = clamp(a · fp32(1/absmax_b), −1, 1)   (multiply by the reciprocal, as both kernels do)
//   idx = nearest code value by bucketizing on the midpoints of the sorted code, a tie going to the lower value
//   (CUDA's decision tree uses strict ">"); element 2i → high nibble, 2i+1 → low nibble; an odd count is padded
//   with the index of 0.0 (ops.py pads the scaled tensor with 0.0 before the lookup).
//   dequant: code[idx] · absmax_b in fp32. (CUDA rounds that fp32 product once to a bf16/fp16 output dtype; do the
//   same with float16.ts `roundTo16` if you need it.)
// Double quant (compress_statistics): offset = mean(absmax); absmax − offset quantized blockwise (256) with the
//   signed 8-bit dynamic map; absmax_b = dyn[q_b] · absmax2_{⌊b/256⌋} + offset.
// Deviation, on purpose: an all-zero block gets scale 0 and index of 0.0 (ops.py would compute 0·∞ = NaN there).
// Verified bit-exactly against test/fixtures/quant/make_nf4_fixture.py.

import { DYNAMIC_MAP, FP4_CODE, NF4_CODE } from "./codes.js";

export type QuantType = "nf4" | "fp4";
/** torch dtype name of the weight before quantization (recorded in the serialized quant state). */
export type OrigDtype = "float32" | "bfloat16" | "float16";

export interface NestedAbsmax {
  /** mean of the block absmax values, subtracted before quantizing them (fp32) */
  offset: number;
  /** one 8-bit dynamic-map index per 4-bit block */
  q: Uint8Array;
  /** one fp32 scale per 256 indices */
  absmax2: Float32Array;
  blocksize: 256;
  /** the 256-entry map `q` indexes: DYNAMIC_MAP when tune quantized, the checkpoint's own `nested_quant_map` when read */
  code: Float32Array;
}

export interface Quant4Bit {
  quantType: QuantType;
  blocksize: number;
  shape: number[];
  dtype: OrigDtype;
  /** ceil(n/2) bytes, two indices per byte */
  packed: Uint8Array;
  /** fp32 absmax per block; null when double-quantized (see `nested`) */
  absmax: Float32Array | null;
  nested: NestedAbsmax | null;
}

export interface Quant4BitOptions {
  quantType?: QuantType;
  blocksize?: number;
  doubleQuant?: boolean;
  dtype?: OrigDtype;
}

export class QuantError extends Error {
  code: string;
  hint: string;
  constructor(code: string, message: string, hint: string) {
    super(`${code}: ${message}`);
    this.name = "QuantError";
    this.code = code;
    this.hint = hint;
  }
}

const f = Math.fround;
export const NESTED_BLOCKSIZE = 256;

// ---- nearest-code lookup ---------------------------------------------------------------------------------

/** A code table prepared for nearest-value lookup: distinct sorted values, their table index, midpoints. */
export interface CodeLookup {
  table: Float32Array;
  sortedIndex: Uint8Array;
  mids: Float64Array;
}

/** Prepare a code table; equal values (FP4's ±0) keep the first table index, as `argmin` does. */
export function codeLookup(table: Float32Array): CodeLookup {
  const order = Array.from(table.keys()).sort((a, b) => table[a] - table[b] || a - b);
  const distinct = order.filter((idx, k) => k === 0 || table[idx] !== table[order[k - 1]]);
  const mids = new Float64Array(distinct.length - 1);
  for (let k = 0; k + 1 < distinct.length; k++) mids[k] = (table[distinct[k]] + table[distinct[k + 1]]) / 2;
  return { table, sortedIndex: Uint8Array.from(distinct), mids };
}

/** Index of the code value nearest to x; exactly on a midpoint → the lower value (midpoints exact in f64). */
export function nearestCode(x: number, lk: CodeLookup): number {
  let lo = 0;
  let hi = lk.mids.length;
  while (lo < hi) {
    const m = (lo + hi) >>> 1;
    if (lk.mids[m] < x) lo = m + 1;
    else hi = m;
  }
  return lk.sortedIndex[lo];
}

const LOOKUPS: Record<QuantType, CodeLookup> = { nf4: codeLookup(NF4_CODE), fp4: codeLookup(FP4_CODE) };
const DYNAMIC_LOOKUP = codeLookup(DYNAMIC_MAP);

export function codeFor(quantType: QuantType): Float32Array {
  return quantType === "nf4" ? NF4_CODE : FP4_CODE;
}

// ---- blockwise core (shared by 4-bit and the 8-bit absmax compression) -------------------------------------

function checkBlocksize(blocksize: number): void {
  if (!Number.isInteger(blocksize) || blocksize < 32 || blocksize > 4096 || (blocksize & (blocksize - 1)) !== 0) {
    throw new QuantError("T6050", `blocksize ${blocksize} is not supported`,
      "bitsandbytes allows powers of two from 32 to 4096 (default 64)");
  }
}

/** Per-block absmax (fp32) of x; throws on non-finite input (quantizing NaN/Inf weights is always a bug upstream). */
export function blockAbsmax(x: Float32Array, blocksize: number): Float32Array {
  const blocks = Math.ceil(x.length / blocksize);
  const out = new Float32Array(blocks);
  for (let b = 0; b < blocks; b++) {
    let m = 0;
    const end = Math.min(x.length, (b + 1) * blocksize);
    for (let i = b * blocksize; i < end; i++) {
      const a = Math.abs(x[i]);
      if (a > m) m = a;
      else if (a !== a) m = a; // NaN
    }
    if (!Number.isFinite(m)) {
      throw new QuantError("T6051", `block ${b} contains a non-finite value`, "check the weights for NaN/Inf before quantizing");
    }
    out[b] = m;
  }
  return out;
}

/** Indices of x in `lk`, blockwise-scaled by fp32(1/absmax_b) and clamped to [-1, 1]. */
function blockIndices(x: Float32Array, absmax: Float32Array, blocksize: number, lk: CodeLookup): Uint8Array {
  const out = new Uint8Array(x.length);
  const { mids, sortedIndex } = lk;
  const nm = mids.length;
  for (let b = 0; b < absmax.length; b++) {
    const inv = absmax[b] === 0 ? 0 : f(1 / absmax[b]);
    const end = Math.min(x.length, (b + 1) * blocksize);
    for (let i = b * blocksize; i < end; i++) {
      let s = f(x[i] * inv);
      s = s > 1 ? 1 : s < -1 ? -1 : s;
      let lo = 0; // inlined nearestCode: first midpoint >= s
      let hi = nm;
      while (lo < hi) {
        const m = (lo + hi) >>> 1;
        if (mids[m] < s) lo = m + 1;
        else hi = m;
      }
      out[i] = sortedIndex[lo];
    }
  }
  return out;
}

/** `quantize_blockwise(A, code, blocksize)`: 8-bit indices into a 256-entry sorted code plus fp32 absmax per block. */
export function quantizeBlockwise(x: Float32Array, code: Float32Array, blocksize: number): { q: Uint8Array; absmax: Float32Array } {
  const absmax = blockAbsmax(x, blocksize);
  const lk = code === DYNAMIC_MAP ? DYNAMIC_LOOKUP : codeLookup(code);
  return { q: blockIndices(x, absmax, blocksize, lk), absmax };
}

/** `dequantize_blockwise`: code[q] · absmax_block in fp32. */
export function dequantizeBlockwise(q: Uint8Array, absmax: Float32Array, code: Float32Array, blocksize: number): Float32Array {
  const out = new Float32Array(q.length);
  for (let i = 0; i < q.length; i++) out[i] = f(code[q[i]] * absmax[Math.floor(i / blocksize)]);
  return out;
}

// ---- double quantization of the absmax statistics --------------------------------------------------------

/** Compress fp32 block absmax values: subtract their mean, quantize blockwise (256) with the dynamic map. */
export function compressAbsmax(absmax: Float32Array): NestedAbsmax {
  let sum = 0;
  for (const v of absmax) sum += v;
  const offset = f(sum / absmax.length);
  const centered = absmax.map((v) => f(v - offset));
  const { q, absmax: absmax2 } = quantizeBlockwise(centered, DYNAMIC_MAP, NESTED_BLOCKSIZE);
  return { offset, q, absmax2, blocksize: NESTED_BLOCKSIZE, code: DYNAMIC_MAP };
}

/** absmax_b = dyn[q_b] · absmax2_{⌊b/256⌋} + offset (fp32). */
export function decompressAbsmax(n: NestedAbsmax): Float32Array {
  return dequantizeBlockwise(n.q, n.absmax2, n.code, n.blocksize).map((v) => f(v + n.offset));
}

/** The per-block scales a quantized weight dequantizes with. */
export function blockScales(q: Quant4Bit): Float32Array {
  if (q.nested) return decompressAbsmax(q.nested);
  if (!q.absmax) throw new QuantError("T6052", "quantized weight has neither absmax nor nested absmax", "the quant state is incomplete");
  return q.absmax;
}

// ---- 4-bit quantize / dequantize -----------------------------------------------------------------------

function pack(indices: Uint8Array, padIndex: number): Uint8Array {
  const out = new Uint8Array(Math.ceil(indices.length / 2));
  for (let i = 0; i < out.length; i++) {
    const lo = 2 * i + 1 < indices.length ? indices[2 * i + 1] : padIndex;
    out[i] = (indices[2 * i] << 4) | lo;
  }
  return out;
}

/** Quantize a weight (values as float32, shape as stored, e.g. Linear [out, in]) to 4 bits. */
export function quantize4bit(data: Float32Array, shape: number[], opts: Quant4BitOptions = {}): Quant4Bit {
  const quantType = opts.quantType ?? "nf4";
  const blocksize = opts.blocksize ?? 64;
  checkBlocksize(blocksize);
  const n = shape.reduce((a, b) => a * b, 1);
  if (n !== data.length) {
    throw new QuantError("T6053", `shape ${JSON.stringify(shape)} has ${n} elements but data has ${data.length}`, "pass the weight's own shape");
  }
  const lk = LOOKUPS[quantType];
  const absmax = blockAbsmax(data, blocksize);
  const packed = pack(blockIndices(data, absmax, blocksize, lk), nearestCode(0, lk));
  const nested = opts.doubleQuant ? compressAbsmax(absmax) : null;
  return {
    quantType, blocksize, shape: shape.slice(), dtype: opts.dtype ?? "float32", packed,
    absmax: nested ? null : absmax, nested,
  };
}

/** Dequantize to float32 values in the original shape's row-major order. */
export function dequantize4bit(q: Quant4Bit): Float32Array {
  const n = q.shape.reduce((a, b) => a * b, 1);
  const code = codeFor(q.quantType);
  const scales = blockScales(q);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const byte = q.packed[i >>> 1];
    const idx = (i & 1) === 0 ? byte >>> 4 : byte & 0x0f;
    out[i] = f(code[idx] * scales[Math.floor(i / q.blocksize)]);
  }
  return out;
}

// ---- memory accounting -------------------------------------------------------------------------------------

/**
 * Bytes a 4-bit weight of `count` elements occupies: packed nibbles + statistics (fp32 absmax per block, or with
 * double quant one byte per block + fp32 per 256 blocks + the fp32 offset). The shared code tables (16 and 256
 * fp32 values, copied into each HF checkpoint entry) are not counted.
 */
export function quantizedBytes(count: number, blocksize = 64, doubleQuant = false): number {
  const blocks = Math.ceil(count / blocksize);
  const stats = doubleQuant ? blocks + 4 * Math.ceil(blocks / NESTED_BLOCKSIZE) + 4 : 4 * blocks;
  return Math.ceil(count / 2) + stats;
}

/** Bytes used by a quantized weight (see `quantizedBytes`). */
export function quant4BitBytes(q: Quant4Bit): number {
  return quantizedBytes(q.shape.reduce((a, b) => a * b, 1), q.blocksize, q.nested !== null);
}

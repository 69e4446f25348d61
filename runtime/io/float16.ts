// 16-bit float conversions (IEEE half "F16" and bfloat16 "BF16") for safetensors I/O.
//
// Why this exists: Node 20 has no Float16Array and tfjs has no 16-bit dtypes, yet HF checkpoints are mostly
// BF16/F16. Rounding must match PyTorch's casts bit for bit (c10::Half / c10::BFloat16: round to nearest even,
// F16 with subnormals; non-finite values kept), because a re-saved checkpoint should be byte-identical to what
// `tensor.to(torch.bfloat16)` writes. Conversions work on the raw f32 bit patterns so NaN signs survive.
// Verified against torch-written bytes in test/fixtures/safetensors (make_st_fixture.py).

const scratchF32 = new Float32Array(1);
const scratchU32 = new Uint32Array(scratchF32.buffer);

/** Round-half-to-even right shift of a non-negative integer `v` (< 2^31) by `s` bits. */
function roundShiftRNE(v: number, s: number): number {
  if (s <= 0) return v;
  if (s > 31) return 0;
  const unit = 2 ** s;
  const q = Math.floor(v / unit);
  const rem = v - q * unit;
  const half = unit / 2;
  return rem > half || (rem === half && (q & 1) === 1) ? q + 1 : q;
}

/** f32 bit pattern → f16 bit pattern, round to nearest even (PyTorch `fp16_ieee_from_fp32_value`). */
export function f32BitsToF16Bits(bits: number): number {
  const sign = (bits >>> 16) & 0x8000;
  const exp = (bits >>> 23) & 0xff;
  const mant = bits & 0x7fffff;
  if (exp === 0xff) return sign | (mant !== 0 ? 0x7e00 : 0x7c00); // NaN → quiet NaN, Inf → Inf
  if (exp === 0) return sign; // f32 zero/subnormal (< 2^-126) is far below half the smallest f16 subnormal
  let e = exp - 127;
  if (e > 15) return sign | 0x7c00;
  if (e >= -14) {
    let m = roundShiftRNE(mant, 13);
    if (m === 0x400) {
      m = 0;
      e += 1;
      if (e > 15) return sign | 0x7c00;
    }
    return sign | ((e + 15) << 10) | m;
  }
  // f16 subnormal: value = sig · 2^(e-23) in units of 2^-24 is sig · 2^(e+1)
  const sig = mant | 0x800000;
  return sign | roundShiftRNE(sig, -(e + 1)); // a carry to 0x400 is the smallest normal, encoded correctly
}

/** f16 bit pattern → f32 bit pattern (exact; NaN payloads kept as PyTorch does). */
export function f16BitsToF32Bits(h: number): number {
  const sign = (h & 0x8000) << 16;
  const exp = (h >>> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0x1f) return (sign | 0x7f800000 | (mant << 13)) >>> 0;
  if (exp !== 0) return (sign | ((exp + 112) << 23) | (mant << 13)) >>> 0;
  if (mant === 0) return sign >>> 0;
  let s = 0;
  let m = mant;
  while ((m & 0x400) === 0) {
    m <<= 1;
    s += 1;
  }
  return (sign | ((113 - s) << 23) | ((m & 0x3ff) << 13)) >>> 0;
}

/** f32 bit pattern → bf16 bit pattern, round to nearest even; NaN → 0x7FC0 (c10::BFloat16). */
export function f32BitsToBf16Bits(bits: number): number {
  const u = bits >>> 0;
  if ((u & 0x7fffffff) > 0x7f800000) return 0x7fc0;
  const lsb = (u >>> 16) & 1;
  return ((u + 0x7fff + lsb) >>> 16) & 0xffff;
}

/** bf16 bit pattern → f32 bit pattern (`u32 = u16 << 16`). */
export function bf16BitsToF32Bits(h: number): number {
  return (h << 16) >>> 0;
}

// ---- number-level helpers ---------------------------------------------------------------------------

export function f32ToF16(x: number): number {
  scratchF32[0] = x;
  return f32BitsToF16Bits(scratchU32[0]);
}

export function f16ToF32(h: number): number {
  scratchU32[0] = f16BitsToF32Bits(h);
  return scratchF32[0];
}

export function f32ToBf16(x: number): number {
  scratchF32[0] = x;
  return f32BitsToBf16Bits(scratchU32[0]);
}

export function bf16ToF32(h: number): number {
  scratchU32[0] = bf16BitsToF32Bits(h);
  return scratchF32[0];
}

// ---- bulk conversions (little-endian byte buffers) ------------------------------------------------

function u32View(src: Float32Array): Uint32Array {
  return new Uint32Array(src.buffer, src.byteOffset, src.length);
}

/** Encode f32 values as little-endian F16 (`half`) or BF16 bytes. */
export function f32ArrayTo16Bytes(src: Float32Array, dtype: "F16" | "BF16"): Uint8Array {
  const bits = u32View(src);
  const out = new Uint8Array(src.length * 2);
  const conv = dtype === "F16" ? f32BitsToF16Bits : f32BitsToBf16Bits;
  for (let i = 0; i < bits.length; i++) {
    const h = conv(bits[i]);
    out[2 * i] = h & 0xff;
    out[2 * i + 1] = h >>> 8;
  }
  return out;
}

/** Decode little-endian F16 or BF16 bytes to f32 values. */
export function bytes16ToF32Array(bytes: Uint8Array, dtype: "F16" | "BF16"): Float32Array {
  const n = bytes.length >>> 1;
  const out = new Float32Array(n);
  const bits = u32View(out);
  const conv = dtype === "F16" ? f16BitsToF32Bits : bf16BitsToF32Bits;
  for (let i = 0; i < n; i++) bits[i] = conv(bytes[2 * i] | (bytes[2 * i + 1] << 8));
  return out;
}

/** Round f32 values through a 16-bit format and back (what storing as F16/BF16 would do to them). */
export function roundTo16(src: Float32Array, dtype: "F16" | "BF16"): Float32Array {
  return bytes16ToF32Array(f32ArrayTo16Bytes(src, dtype), dtype);
}

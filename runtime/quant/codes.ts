// Code tables of bitsandbytes' 4-bit (NF4, FP4) and 8-bit dynamic quantization, and their derivations.
//
// Why this exists: QLoRA checkpoints store indices into these tables; tune must use the very same float32 values
// or dequantized weights drift from what bitsandbytes computes. The tables are copied from
// `bitsandbytes/functional.py` (`get_4bit_type`) and re-derived here (`create_normal_map`, `create_dynamic_map`)
// with float32 arithmetic mirroring torch's, so a test can prove the constants (test/runtime/nf4.test.ts,
// fixture test/fixtures/quant/make_nf4_fixture.py).

const f = Math.fround;

/** NF4 code, index 0..15 (sorted, in [-1, 1]); `get_4bit_type("nf4")`. */
export const NF4_CODE: Float32Array = new Float32Array([
  -1.0, -0.6961928009986877, -0.5250730514526367, -0.39491748809814453,
  -0.28444138169288635, -0.18477343022823334, -0.09105003625154495, 0.0,
  0.07958029955625534, 0.16093020141124725, 0.24611230194568634, 0.33791524171829224,
  0.44070982933044434, 0.5626170039176941, 0.7229568362236023, 1.0,
]);

/**
 * FP4 (sign, 2-bit exponent, 1-bit mantissa) indexed by bit pattern, divided by 12; `get_4bit_type("fp4")`.
 * Entry 8 is +0.0: bitsandbytes writes `-0` in a Python list, which is the integer 0.
 */
export const FP4_CODE: Float32Array = new Float32Array(
  [0, 0.0625, 8, 12, 4, 6, 2, 3, 0, -0.0625, -8, -12, -4, -6, -2, -3].map((v) => v / 12),
);

// ---- torch-style float32 helpers ----------------------------------------------------------------------

/**
 * `torch.linspace(start, end, steps)` in float32, as PyTorch's CPU kernel computes it (RangeFactoriesKernel.cpp,
 * AVX2 build): step = fp32((end − start) / (steps − 1)); element idx = start + step·idx (first half) or
 * end − step·(steps − 1 − idx) (second half), compiled to a fused multiply-add; but chunks of 2×`vectorWidth`
 * elements are filled as `arange(base, step)` = base + fp32(i·step) from the chunk's first element, whose half decides
 * the direction. Verified against torch 1.13 (x86-64, 8 float lanes) for every count the dynamic map uses; other SIMD
 * widths give other last bits, which is why checkpoints carry their own `nested_quant_map`.
 * (The fused product step·idx is exact in f64 here — ≤ 24 + 7 bits — so f64 arithmetic + one rounding equals FMA.)
 */
export function linspaceF32(start: number, end: number, steps: number, vectorWidth = 8): Float32Array {
  const out = new Float32Array(steps);
  const s = f(start);
  const e = f(end);
  if (steps === 1) {
    out[0] = s;
    return out;
  }
  const step = f(f(e - s) / (steps - 1));
  const halfway = Math.floor(steps / 2);
  const scalar = (idx: number): number => (idx < halfway ? f(s + step * idx) : f(e - step * (steps - idx - 1)));
  let idx = 0;
  for (; steps - idx >= 2 * vectorWidth; ) {
    for (let v = 0; v < 2; v++, idx += vectorWidth) {
      const base = scalar(idx);
      for (let i = 0; i < vectorWidth; i++) out[idx + i] = f(base + f(i * step));
    }
  }
  for (; idx < steps; idx++) out[idx] = scalar(idx);
  return out;
}

/**
 * Inverse standard normal CDF (Wichura, AS 241 "PPND16", ~1e-16 relative accuracy) — stands in for
 * `scipy.stats.norm.ppf`. Only the two regions needed here (1e-11 < p < 1 - 1e-11) are implemented.
 */
export function normPpf(p: number): number {
  const q = p - 0.5;
  if (Math.abs(q) <= 0.425) {
    const r = 0.180625 - q * q;
    const num = (((((((2509.0809287301226727 * r + 33430.575583588128105) * r + 67265.770927008700853) * r
      + 45921.953931549871457) * r + 13731.693765509461125) * r + 1971.5909503065514427) * r
      + 133.14166789178437745) * r + 3.387132872796366608);
    const den = (((((((5226.495278852854561 * r + 28729.085735721942674) * r + 39307.89580009271061) * r
      + 21213.794301586595867) * r + 5394.1960214247511077) * r + 687.1870074920579083) * r
      + 42.313330701600911252) * r + 1.0);
    return (q * num) / den;
  }
  let r = Math.sqrt(-Math.log(q < 0 ? p : 1 - p));
  if (!(r <= 5)) throw new RangeError(`normPpf: p=${p} is outside the supported range`);
  r -= 1.6;
  const num = (((((((7.7454501427834140764e-4 * r + 0.0227238449892691845833) * r + 0.24178072517745061177) * r
    + 1.27045825245236838258) * r + 3.64784832476320460504) * r + 5.7694972214606914055) * r
    + 4.6303378461565452959) * r + 1.42343711074968357734);
  const den = (((((((1.05075007164441684324e-9 * r + 5.475938084995344946e-4) * r + 0.0151986665636164571966) * r
    + 0.14810397642748007459) * r + 0.68976733498510000455) * r + 1.6763848301838038494) * r
    + 2.05319162663775882187) * r + 1.0);
  const val = num / den;
  return q < 0 ? -val : val;
}

// ---- derivations ---------------------------------------------------------------------------------------

/**
 * `create_normal_map(offset=0.9677083, use_extra_value=True)`: 8 positive quantiles Φ⁻¹(linspace(offset, 0.5, 9)[:-1]),
 * 7 negative −Φ⁻¹(linspace(offset, 0.5, 8)[:-1]), zeros, sorted, divided by the max (float32). Returns the 256
 * values; the 16 distinct ones are the NF4 code.
 */
export function createNormalMap(offset = 0.9677083, useExtraValue = true): Float32Array {
  const pos = Array.from(linspaceF32(offset, 0.5, useExtraValue ? 9 : 8)).slice(0, -1).map(normPpf);
  const neg = Array.from(linspaceF32(offset, 0.5, 8)).slice(0, -1).map((p) => -normPpf(p));
  const zeros = new Array<number>(256 - pos.length - neg.length).fill(0);
  const values = Float32Array.from([...pos, ...zeros, ...neg]).sort();
  const max = values[values.length - 1];
  return values.map((v) => f(v / max));
}

/**
 * `create_dynamic_map(signed=True, max_exponent_bits=7, total_bits=8)`: the 256-entry signed 8-bit dynamic map used
 * for double quantization of the absmax statistics. For exponent i = 0..6, 2^i fraction values
 * 10^(i-6) · midpoints(linspace(0.1, 1, 2^i + 1)) and their negatives, plus 0 and 1; sorted.
 */
export function createDynamicMap(): Float32Array {
  const decades = [1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1];
  const data: number[] = [];
  for (let i = 0; i < 7; i++) {
    const b = linspaceF32(0.1, 1, 2 ** i + 1);
    const scale = f(decades[i]);
    for (let j = 0; j + 1 < b.length; j++) {
      const mean = f(f(b[j] + b[j + 1]) / 2);
      data.push(f(scale * mean), f(-scale * mean));
    }
  }
  data.push(0, 1);
  return Float32Array.from(data).sort();
}

/** The dynamic map, computed once. */
export const DYNAMIC_MAP: Float32Array = createDynamicMap();

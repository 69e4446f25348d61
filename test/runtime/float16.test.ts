// F16/BF16 conversions: exhaustive round trips, rounding ties, NaN/Inf, and PyTorch's own cast bytes
// (test/fixtures/safetensors/make_st_fixture.py).
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import {
  bf16ToF32, bytes16ToF32Array, f16BitsToF32Bits, f16ToF32, f32ArrayTo16Bytes, f32BitsToBf16Bits, f32BitsToF16Bits,
  f32ToBf16, f32ToF16, roundTo16,
} from "../../runtime/io/float16.js";

const expected = JSON.parse(readFileSync(new URL("../fixtures/safetensors/expected.json", import.meta.url), "utf8")) as {
  sources: Record<string, number[]>;
  f16_bytes_hex: string;
  bf16_bytes_hex: string;
};
const fromBits = (bits: number[]): Float32Array => new Float32Array(Uint32Array.from(bits).buffer);
const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex");

/** Independent reference: value of an f16 bit pattern computed with powers of two. */
function f16Value(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0x1f) return m ? NaN : s * Infinity;
  return e === 0 ? s * m * 2 ** -24 : s * (1 + m / 1024) * 2 ** (e - 15);
}

describe("F16", () => {
  it("decodes every bit pattern to its exact value and encodes it back unchanged", () => {
    const bad: number[] = [];
    for (let h = 0; h < 0x10000; h++) {
      const v = f16ToF32(h);
      const want = f16Value(h);
      const ok = Number.isNaN(want)
        ? Number.isNaN(v) && (f32ToF16(v) & 0x7e00) === 0x7e00 // stays a quiet NaN
        : Object.is(v, want) && f32ToF16(v) === h;
      if (!ok) bad.push(h);
    }
    expect(bad).toEqual([]);
  });

  it("rounds to nearest even, with subnormals, overflow and signed zero", () => {
    expect(f32ToF16(1 + 2 ** -11)).toBe(0x3c00); // tie → even (1.0)
    expect(f32ToF16(1 + 3 * 2 ** -11)).toBe(0x3c02); // tie → even (up)
    expect(f32ToF16(1 + 2 ** -11 + 2 ** -20)).toBe(0x3c01); // just above the tie
    expect(f32ToF16(65504)).toBe(0x7bff);
    expect(f32ToF16(65519.99)).toBe(0x7bff);
    expect(f32ToF16(65520)).toBe(0x7c00); // tie with 65536 → even → Inf
    expect(f32ToF16(-1e6)).toBe(0xfc00);
    expect(f32ToF16(2 ** -24)).toBe(0x0001);
    expect(f32ToF16(2 ** -25)).toBe(0x0000); // tie → even (0)
    expect(f32ToF16(3 * 2 ** -25)).toBe(0x0002); // tie → even (2)
    expect(f32ToF16(2 ** -14 - 2 ** -25)).toBe(0x0400); // rounds up into the smallest normal
    expect(f32ToF16(-0)).toBe(0x8000);
    expect(f32ToF16(1e-30)).toBe(0);
    expect(f32ToF16(Infinity)).toBe(0x7c00);
    expect(f32ToF16(NaN)).toBe(0x7e00);
  });

  it("matches torch's float16 cast bytes for the fixture values", () => {
    const src = fromBits(expected.sources["model.w.f16"]);
    expect(hex(f32ArrayTo16Bytes(src, "F16"))).toBe(expected.f16_bytes_hex);
  });
});

describe("BF16", () => {
  it("round-trips every bit pattern (NaN stays NaN)", () => {
    const bad: number[] = [];
    for (let h = 0; h < 0x10000; h++) {
      const v = bf16ToF32(h);
      if (f32ToBf16(v) !== (Number.isNaN(v) ? 0x7fc0 : h)) bad.push(h);
    }
    expect(bad).toEqual([]);
  });

  it("rounds to nearest even on the f32 bits", () => {
    expect(f32BitsToBf16Bits(0x3f808000)).toBe(0x3f80); // tie → even (down)
    expect(f32BitsToBf16Bits(0x3f818000)).toBe(0x3f82); // tie → even (up)
    expect(f32BitsToBf16Bits(0x3f808001)).toBe(0x3f81);
    expect(f32BitsToBf16Bits(0x7f7fffff)).toBe(0x7f80); // f32 max rounds to +Inf, as torch does
    expect(f32BitsToBf16Bits(0xff800000)).toBe(0xff80);
    expect(f32BitsToBf16Bits(0x807fffff)).toBe(0x8080); // negative subnormal rounds up to -2^-126
    expect(f32BitsToBf16Bits(0xffc00000)).toBe(0x7fc0); // NaN → canonical (c10::BFloat16)
    expect(bf16ToF32(0x3f80)).toBe(1);
  });

  it("matches torch's bfloat16 cast bytes for the fixture values", () => {
    const src = fromBits(expected.sources["model.w.bf16"]);
    expect(hex(f32ArrayTo16Bytes(src, "BF16"))).toBe(expected.bf16_bytes_hex);
  });
});

describe("bulk helpers", () => {
  it("keep NaN sign bits in F16 and decode both formats", () => {
    const bits = f32BitsToF16Bits(0xffc00000);
    expect(bits).toBe(0xfe00);
    expect(f16BitsToF32Bits(bits)).toBe(0xffc00000);
    const src = new Float32Array([1.5, -2, 0.1]);
    expect(Array.from(bytes16ToF32Array(f32ArrayTo16Bytes(src, "BF16"), "BF16"))).toEqual([1.5, -2, bf16ToF32(f32ToBf16(0.1))]);
    expect(roundTo16(src, "F16")[2]).toBe(f16ToF32(f32ToF16(0.1)));
  });
});

// NF4/FP4 quantization against the bitsandbytes reference algorithm run in PyTorch
// (test/fixtures/quant/make_nf4_fixture.py → nf4_fixture.json).
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { DYNAMIC_MAP, FP4_CODE, NF4_CODE, createDynamicMap, createNormalMap, linspaceF32 } from "../../runtime/quant/codes.js";
import {
  blockScales, codeLookup, compressAbsmax, decompressAbsmax, dequantize4bit, nearestCode, quant4BitBytes, quantize4bit,
  quantizedBytes, type QuantType,
} from "../../runtime/quant/nf4.js";
import { packedQuantStateJson, quant4BitFromTensors, quant4BitToSafetensors } from "../../runtime/quant/nf4-state.js";
import { pyFloatRepr } from "../../runtime/io/py-repr.js";

interface Fixture {
  nf4_code: number[];
  nf4_derived_from_create_normal_map: number[];
  fp4_code: number[];
  dynamic_map: number[];
  linspace_checks: Record<string, number[]>;
  cases: Array<{ name: string; quant_type: QuantType; blocksize: number; shape: number[]; input_bits: number[]; packed_hex: string; absmax: number[]; dequant_bits: number[] }>;
  nested: Array<{ name: string; absmax: number[]; offset: number; qabsmax: number[]; absmax2: number[]; dequant_absmax: number[] }>;
  double_quant_small: { dequant_bits: number[]; packed_state_json: string };
}
const fx = JSON.parse(readFileSync(new URL("../fixtures/quant/nf4_fixture.json", import.meta.url), "utf8")) as Fixture;
const fromBits = (bits: number[]): Float32Array => new Float32Array(Uint32Array.from(bits).buffer);
const bitsOf = (a: Float32Array): number[] => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));
const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex");
const maxAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
};

describe("code tables", () => {
  it("NF4 and FP4 constants equal bitsandbytes' get_4bit_type", () => {
    expect(Array.from(NF4_CODE)).toEqual(fx.nf4_code);
    expect(Array.from(FP4_CODE)).toEqual(fx.fp4_code);
    expect(FP4_CODE[3]).toBe(1);
    expect(FP4_CODE[1]).toBe(Math.fround(0.0625 / 12));
  });

  it("NF4 is what create_normal_map derives (in torch and in TS)", () => {
    expect(fx.nf4_derived_from_create_normal_map).toEqual(fx.nf4_code);
    const derived = [...new Set(createNormalMap())].sort((a, b) => a - b);
    expect(derived).toEqual(Array.from(NF4_CODE));
  });

  it("the dynamic map equals create_dynamic_map(signed=True, 7, 8) exactly", () => {
    for (const [k, vals] of Object.entries(fx.linspace_checks)) expect(Array.from(linspaceF32(0.1, 1, Number(k)))).toEqual(vals);
    expect(Array.from(createDynamicMap())).toEqual(fx.dynamic_map);
    expect(DYNAMIC_MAP.length).toBe(256);
  });

  it("bucketizes on midpoints with ties to the lower value; FP4's ±0 maps to pattern 0", () => {
    const nf4 = codeLookup(NF4_CODE);
    expect(nearestCode(NF4_CODE[8] / 2, nf4)).toBe(7); // exactly on the midpoint of 0 and code[8]
    expect(nearestCode(Math.fround(NF4_CODE[8] / 2 + 1e-8), nf4)).toBe(8);
    expect(nearestCode(-1, nf4)).toBe(0);
    expect(nearestCode(1, nf4)).toBe(15);
    const fp4 = codeLookup(FP4_CODE);
    expect(nearestCode(-0.001, fp4)).toBe(0);
    expect(nearestCode(-1, fp4)).toBe(11);
    expect(nearestCode(0.4, fp4)).toBe(4);
  });
});

describe("quantize_4bit / dequantize_4bit", () => {
  it.each(fx.cases.map((c) => [c.name, c] as const))("%s equals the torch reference bit for bit", (_n, c) => {
    const q = quantize4bit(fromBits(c.input_bits), c.shape, { quantType: c.quant_type, blocksize: c.blocksize });
    expect(Array.from(q.absmax!)).toEqual(c.absmax);
    expect(hex(q.packed)).toBe(c.packed_hex);
    expect(bitsOf(dequantize4bit(q))).toEqual(c.dequant_bits);
  });

  it("packs element 2i in the high nibble and pads an odd count with the index of 0", () => {
    const q = quantize4bit(new Float32Array([1, -1, 0]), [3], { blocksize: 64 });
    expect(Array.from(q.packed)).toEqual([0xf0, 0x77]);
    expect(Array.from(dequantize4bit(q))).toEqual([1, -1, 0]);
  });

  it("handles all-zero blocks and rejects bad input", () => {
    const q = quantize4bit(new Float32Array(64), [64]);
    expect(Array.from(dequantize4bit(q)).every((v) => v === 0)).toBe(true);
    expect(() => quantize4bit(new Float32Array(64), [64], { blocksize: 48 })).toThrowError(/T6050/);
    expect(() => quantize4bit(new Float32Array(64), [64], { blocksize: 8192 })).toThrowError(/T6050/);
    expect(() => quantize4bit(new Float32Array([NaN, 1]), [2])).toThrowError(/T6051/);
    expect(() => quantize4bit(new Float32Array(3), [2, 2])).toThrowError(/T6053/);
  });
});

describe("double quantization", () => {
  it.each(fx.nested.map((n) => [n.name, n] as const))("%s matches the reference within 1e-6", (_n, n) => {
    const c = compressAbsmax(Float32Array.from(n.absmax));
    expect(Math.abs(c.offset - n.offset)).toBeLessThanOrEqual(1e-6);
    expect(Array.from(c.q)).toEqual(n.qabsmax);
    expect(maxAbsDiff(c.absmax2, n.absmax2)).toBeLessThanOrEqual(1e-6);
    expect(maxAbsDiff(decompressAbsmax(c), n.dequant_absmax)).toBeLessThanOrEqual(1e-6);
  });

  it("dequantizes a double-quantized weight like the reference", () => {
    const c = fx.cases[0];
    const q = quantize4bit(fromBits(c.input_bits), c.shape, { doubleQuant: true });
    expect(q.absmax).toBeNull();
    expect(maxAbsDiff(blockScales(q), fx.nested[0].dequant_absmax)).toBeLessThanOrEqual(1e-6);
    expect(maxAbsDiff(dequantize4bit(q), fromBits(fx.double_quant_small.dequant_bits))).toBeLessThanOrEqual(1e-6);
  });
});

describe("memory accounting and serialization", () => {
  it("reports bytes used", () => {
    expect(quantizedBytes(4096 * 4096)).toBe(8_388_608 + 4 * 262_144);
    expect(quantizedBytes(4096 * 4096, 64, true)).toBe(8_388_608 + 262_144 + 4 * 1024 + 4);
    expect(quantizedBytes(303, 64, false)).toBe(152 + 5 * 4);
    const q = quantize4bit(new Float32Array(303).fill(0.5), [3, 101], { doubleQuant: true });
    expect(quant4BitBytes(q)).toBe(152 + 5 + 4 + 4);
  });

  it("writes the HF key layout and bitsandbytes' packed quant-state JSON, and reads it back", () => {
    const c = fx.cases[0];
    const q = quantize4bit(fromBits(c.input_bits), c.shape, { doubleQuant: true });
    expect(packedQuantStateJson(q)).toBe(fx.double_quant_small.packed_state_json);
    const w = "model.layers.0.mlp.down_proj.weight";
    const tensors = quant4BitToSafetensors(w, q);
    expect(tensors.map((t) => [t.name, t.dtype, t.shape])).toEqual([
      [w, "U8", [152, 1]],
      [`${w}.quant_map`, "F32", [16]],
      [`${w}.quant_state.bitsandbytes__nf4`, "U8", [fx.double_quant_small.packed_state_json.length]],
      [`${w}.absmax`, "U8", [5]],
      [`${w}.nested_absmax`, "F32", [1]],
      [`${w}.nested_quant_map`, "F32", [256]],
    ]);
    const loaded = new Map(tensors.map((t) => [t.name, { shape: t.shape, data: Float32Array.from(t.data as ArrayLike<number>) }]));
    const back = quant4BitFromTensors(w, loaded);
    expect(back.shape).toEqual([3, 101]);
    expect(Array.from(dequantize4bit(back))).toEqual(Array.from(dequantize4bit(q)));
    const plain = quantize4bit(fromBits(c.input_bits), c.shape, { quantType: "fp4" });
    const names = quant4BitToSafetensors(w, plain).map((t) => `${t.name}:${t.dtype}`);
    expect(names).toContain(`${w}.absmax:F32`);
    expect(names).toContain(`${w}.quant_state.bitsandbytes__fp4:U8`);
  });

  it("prints floats like Python's repr", () => {
    expect([0.21294665336608887, 1e-5, 0, 5, 1e16, 1.5e-7, -2.5, 123456.789].map(pyFloatRepr))
      .toEqual(["0.21294665336608887", "1e-05", "0.0", "5.0", "1e+16", "1.5e-07", "-2.5", "123456.789"]);
  });
});

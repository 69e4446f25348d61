// safetensors reader/writer: reference bytes (the Rust crate's own test vectors and files packed by
// test/fixtures/safetensors/make_st_fixture.py with torch's casts), round trips, and every validation error.
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  SafetensorsError, encodeSafetensors, parseSafetensorsHeader, readAllF32, readSafetensorsHeader, readTensorF32,
  writeSafetensors, type StWriteTensor,
} from "../../runtime/io/safetensors.js";

const FIX = new URL("../fixtures/safetensors/", import.meta.url);
const fixturePath = (name: string): string => new URL(name, FIX).pathname;
const expected = JSON.parse(await readFile(fixturePath("expected.json"), "utf8")) as {
  sources: Record<string, number[]>;
  decoded_bits: Record<string, number[]>;
  shapes: Record<string, number[]>;
  dtypes: Record<string, string>;
};
const bitsF32 = (bits: number[]): Float32Array => new Float32Array(Uint32Array.from(bits).buffer);
const bitsOf = (a: Float32Array): number[] => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));

let dir = "";
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "tune-st-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("reference bytes", () => {
  it("reproduces the Rust crate's serialize test vectors", () => {
    const t: StWriteTensor = { name: "attn.0", dtype: "F32", shape: [1, 2, 3], data: new Float32Array([0, 1, 2, 3, 4, 5]) };
    expect(Array.from(encodeSafetensors([t], {}))).toEqual([
      64, 0, 0, 0, 0, 0, 0, 0, 123, 34, 97, 116, 116, 110, 46, 48, 34, 58, 123, 34, 100, 116, 121, 112, 101, 34, 58, 34,
      70, 51, 50, 34, 44, 34, 115, 104, 97, 112, 101, 34, 58, 91, 49, 44, 50, 44, 51, 93, 44, 34, 100, 97, 116, 97, 95,
      111, 102, 102, 115, 101, 116, 115, 34, 58, 91, 48, 44, 50, 52, 93, 125, 125, 0, 0, 0, 0, 0, 0, 128, 63, 0, 0, 0, 64,
      0, 0, 64, 64, 0, 0, 128, 64, 0, 0, 160, 64,
    ]);
    expect(Array.from(encodeSafetensors([], {}))).toEqual([8, 0, 0, 0, 0, 0, 0, 0, 123, 125, 32, 32, 32, 32, 32, 32]);
    expect(encodeSafetensors([], { framework: "pt" })[0]).toBe(40);
    const aligned = encodeSafetensors([{ ...t, name: "attn0", shape: [1, 1, 2, 3] }], {});
    expect(aligned[0]).toBe(72); // header padded with spaces to a multiple of 8
    expect(Array.from(aligned.subarray(8 + 65, 8 + 72))).toEqual([32, 32, 32, 32, 32, 32, 32]);
  });

  it("writes mixed.safetensors byte for byte as the reference layout (dtype order, padding, torch casts)", async () => {
    const want = await readFile(fixturePath("mixed.safetensors"));
    const s = expected.sources;
    const tensors: StWriteTensor[] = [
      { name: "z.u8", dtype: "U8", shape: [2, 3], data: Uint8Array.from(s["z.u8"]) },
      { name: "model.w.f16", dtype: "F16", shape: [4, 5], data: bitsF32(s["model.w.f16"]) },
      { name: "a.i64", dtype: "I64", shape: [3], data: BigInt64Array.from(s["a.i64"].map(BigInt)) },
      { name: "model.w.bf16", dtype: "BF16", shape: [18], data: bitsF32(s["model.w.bf16"]) },
      { name: "empty", dtype: "F32", shape: [0, 4], data: new Float32Array(0) },
      { name: "a.i32", dtype: "I32", shape: [5], data: Int32Array.from(s["a.i32"]) },
      { name: "model.w.f32", dtype: "F32", shape: [2, 3], data: bitsF32(s["model.w.f32"]) },
    ];
    expect(Buffer.from(encodeSafetensors(tensors)).equals(want)).toBe(true);
  });

  it("reads the python-written files exactly (all dtypes, NaN, scalars, empty tensors)", async () => {
    for (const file of ["mixed.safetensors", "alltypes.safetensors"]) {
      const all = await readAllF32(fixturePath(file));
      for (const [name, t] of all) {
        expect(t.shape, name).toEqual(expected.shapes[name]);
        const got = bitsOf(t.data);
        const want = expected.decoded_bits[name];
        const nan = (b: number): boolean => (b & 0x7fffffff) > 0x7f800000;
        expect(got.map((b) => (nan(b) ? "NaN" : b)), name).toEqual(want.map((b) => (nan(b) ? "NaN" : b)));
      }
    }
    const header = await readSafetensorsHeader(fixturePath("alltypes.safetensors"));
    expect(header.metadata).toEqual({ format: "pt", note: "tune fixture" });
    expect(header.tensors.map((t) => t.dtype)).toEqual(["F64", "F32", "F32", "BF16", "F16", "I16", "I8", "BOOL"]);
  });
});

describe("round trip", () => {
  it("writes atomically and reads back tensors and metadata", async () => {
    const path = join(dir, "rt.safetensors");
    const w = new Float32Array(6 * 7).map((_, i) => Math.sin(i) * 3);
    const tensors: StWriteTensor[] = [
      { name: "w", dtype: "F32", shape: [6, 7], data: w },
      { name: "w16", dtype: "BF16", shape: [6, 7], data: w },
      { name: "idx", dtype: "I32", shape: [3], data: new Int32Array([1, -2, 3]) },
    ];
    await writeSafetensors(path, tensors, { format: "pt", step: "12" });
    expect((await readdir(dir)).filter((n) => n.includes(".tmp-"))).toEqual([]);
    const header = await readSafetensorsHeader(path);
    expect(header.metadata).toEqual({ format: "pt", step: "12" });
    expect(header.dataStart % 8).toBe(0);
    const back = await readTensorF32(path, header, "w");
    expect(back.shape).toEqual([6, 7]);
    expect(Array.from(back.data)).toEqual(Array.from(w));
    const all = await readAllF32(path);
    expect(Array.from(all.get("idx")!.data)).toEqual([1, -2, 3]);
    const w16 = all.get("w16")!.data;
    for (let i = 0; i < w.length; i++) expect(Math.abs(w16[i] - w[i])).toBeLessThanOrEqual(Math.abs(w[i]) * 2 ** -8);
  });

  it("rejects bad writer input", () => {
    const bad = (t: Partial<StWriteTensor>): unknown =>
      encodeSafetensors([{ name: "x", dtype: "F32", shape: [2], data: new Float32Array(2), ...t } as StWriteTensor]);
    expect(() => bad({ shape: [3] })).toThrowError(/T6012.*3 elements/);
    expect(() => bad({ dtype: "I32" })).toThrowError(/T6012.*Int32Array/);
    expect(() => bad({ shape: [-2] })).toThrowError(/T6012/);
  });
});

// ---- corrupt files --------------------------------------------------------------------------------------

function fileWith(header: string | object, dataBytes: number, opts: { declaredLen?: bigint; pad?: boolean } = {}): Uint8Array {
  const json = typeof header === "string" ? header : JSON.stringify(header);
  const hb = Buffer.from(json, "utf8");
  const out = Buffer.alloc(8 + hb.length + dataBytes);
  out.writeBigUInt64LE(opts.declaredLen ?? BigInt(hb.length), 0);
  hb.copy(out, 8);
  return out;
}

function errorOf(fn: () => unknown): SafetensorsError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(SafetensorsError);
    return e as SafetensorsError;
  }
  throw new Error("expected a SafetensorsError");
}

const entry = (dtype: string, shape: number[], b: number, e: number): object => ({ dtype, shape, data_offsets: [b, e] });

describe("validation errors", () => {
  const cases: Array<[string, string, Uint8Array, RegExp]> = [
    ["header too large", "T6001", fileWith("{}", 0, { declaredLen: 100_000_001n }), /exceeds/],
    ["file shorter than 8 bytes", "T6002", new Uint8Array(5), /too small/],
    ["header longer than the file", "T6002", fileWith("{}", 0, { declaredLen: 50n }), /claims 50 bytes/],
    ["not starting with {", "T6003", fileWith(' {"a":1}', 0), /start with/],
    ["invalid JSON", "T6003", fileWith('{"a":', 0), /not valid JSON/],
    ["invalid UTF-8", "T6003", Buffer.concat([fileWith("{}", 0, { declaredLen: 3n }).subarray(0, 8), Buffer.from([0x7b, 0xff, 0x7d])]), /UTF-8/],
    ["duplicate name", "T6004", fileWith(`{"w":${JSON.stringify(entry("F32", [1], 0, 4))},"w":${JSON.stringify(entry("F32", [1], 4, 8))}}`, 8), /`w` appears twice/],
    ["unknown dtype", "T6005", fileWith({ w: entry("F8_E4M3", [4], 0, 4) }, 4), /`w` has unsupported dtype `F8_E4M3`/],
    ["malformed entry", "T6006", fileWith({ w: { dtype: "F32", shape: [1] } }, 4), /`w`: data_offsets/],
    ["negative shape", "T6006", fileWith({ w: entry("F32", [-1], 0, 4) }, 4), /`w`: shape/],
    ["size mismatch", "T6007", fileWith({ w: entry("F32", [2, 2], 0, 12) }, 12), /`w` \(F32 \[2,2\]\) spans 12 bytes, expected 16/],
    ["overlap", "T6008", fileWith({ a: entry("F32", [2], 0, 8), b: entry("F32", [2], 4, 12) }, 12), /`b` at \[4, 12\) overlaps `a`/],
    ["gap", "T6008", fileWith({ a: entry("F32", [1], 0, 4), b: entry("F32", [1], 8, 12) }, 12), /4-byte gap after `a`/],
    ["hole at start", "T6008", fileWith({ a: entry("F32", [1], 4, 8) }, 8), /gap/],
    ["truncated data", "T6009", fileWith({ a: entry("F32", [4], 0, 16) }, 12), /16 data bytes but the file has 12/],
    ["trailing bytes", "T6009", fileWith({ a: entry("F32", [1], 0, 4) }, 8), /describes 4 data bytes but the file has 8/],
    ["bad metadata", "T6011", fileWith({ __metadata__: { step: 3 } }, 0), /metadata value `step`/],
  ];

  it.each(cases)("%s → %s", (_label, code, bytes, message) => {
    const err = errorOf(() => parseSafetensorsHeader(bytes, "bad.safetensors"));
    expect(err.code).toBe(code);
    expect(err.message).toMatch(message);
    expect(err.message).toContain("bad.safetensors");
    expect(err.file).toBe("bad.safetensors");
    expect(err.hint.length).toBeGreaterThan(5);
  });

  it("reports the same errors for files on disk, and missing tensors/files", async () => {
    const path = join(dir, "overlap.safetensors");
    await writeFile(path, cases[11][2]);
    await expect(readSafetensorsHeader(path)).rejects.toMatchObject({ code: "T6008", file: path });
    await expect(readAllF32(join(dir, "nope.safetensors"))).rejects.toMatchObject({ code: "T6013" });
    const ok = join(dir, "ok.safetensors");
    await writeSafetensors(ok, [{ name: "model.layers.0.mlp.up_proj.weight", dtype: "F32", shape: [1], data: new Float32Array(1) }]);
    const header = await readSafetensorsHeader(ok);
    await expect(readTensorF32(ok, header, "model.layers.1.mlp.up_proj.weight")).rejects.toMatchObject({
      code: "T6010",
      message: expect.stringMatching(/no tensor named `model.layers.1.mlp.up_proj.weight`/),
      hint: expect.stringMatching(/similar names: model.layers.0/),
    });
  });
});

// safetensors reader and writer, owned by tune (no maintained npm package reads/writes local files).
//
// Why this exists: every model tune loads and every adapter it saves is a safetensors file; the format is small
// (u64 LE header length N, N bytes of JSON, raw little-endian row-major data) but a loader that trusts a corrupt
// header reads garbage weights silently. So the header is validated with the rules of the reference crate
// (safetensors/src/tensor.rs `read_metadata` + `validate`): header ≤ 100 MB, JSON starting with "{", no duplicate
// names, known dtypes, `end - begin == numel · size`, the buffer covered exactly (no holes, no overlaps), and the
// file length matching. Tensors are read with positioned reads, one at a time (Node has no mmap).
// The writer reproduces the crate's `serialize` byte for byte (compact JSON, "__metadata__" first, tensors ordered
// by descending dtype alignment then name, header padded with spaces to 8 bytes); see test/runtime/safetensors.
//
// Error codes (SafetensorsError.code): T6001 header too large · T6002 file truncated/too small ·
// T6003 header not UTF-8/JSON/object · T6004 duplicate tensor name · T6005 unknown dtype · T6006 malformed entry ·
// T6007 byte size ≠ numel·dtype size · T6008 gap or overlap in the data buffer · T6009 file length mismatch ·
// T6010 tensor not found · T6011 bad __metadata__ · T6012 invalid tensor given to the writer · T6013 I/O error.

import { open } from "node:fs/promises";
import { writeFileAtomic } from "./atomic.js";
import { bytes16ToF32Array, f32ArrayTo16Bytes } from "./float16.js";
import {
  DTYPES, SafetensorsError, isCount, numel, parseHeaderJson, readHeaderLength,
  type StDtype, type StHeader, type StTensorInfo, type StWriteTensor,
} from "./safetensors-header.js";

export {
  MAX_HEADER_BYTES, SafetensorsError, dtypeSize, numel, parseSafetensorsHeader,
  type StDtype, type StHeader, type StTensorInfo, type StWriteTensor,
} from "./safetensors-header.js";

// ---- reading from disk -----------------------------------------------------------------------------------

type Handle = Awaited<ReturnType<typeof open>>;

async function openFile(path: string): Promise<Handle> {
  try {
    return await open(path, "r");
  } catch (err) {
    throw new SafetensorsError("T6013", `${path}: cannot open (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`,
      "check the path and permissions", path);
  }
}

async function readAt(fh: Handle, length: number, position: number, path: string): Promise<Uint8Array> {
  const buf = new Uint8Array(length);
  let off = 0;
  while (off < length) {
    const { bytesRead } = await fh.read(buf, off, length - off, position + off);
    if (bytesRead === 0) {
      throw new SafetensorsError("T6002", `${path}: unexpected end of file at byte ${position + off}`,
        "the file changed or is truncated", path);
    }
    off += bytesRead;
  }
  return buf;
}

async function readHeaderFrom(fh: Handle, path: string): Promise<StHeader> {
  const size = (await fh.stat()).size;
  const first = size >= 8 ? await readAt(fh, 8, 0, path) : new Uint8Array(0);
  const n = readHeaderLength(first, size, path);
  const json = await readAt(fh, n, 8, path);
  return parseHeaderJson(json, size, path);
}

/** Read and validate only the header of a safetensors file (positioned reads; the data is not touched). */
export async function readSafetensorsHeader(path: string): Promise<StHeader> {
  const fh = await openFile(path);
  try {
    return await readHeaderFrom(fh, path);
  } finally {
    await fh.close();
  }
}

function findTensor(header: StHeader, name: string, path: string): StTensorInfo {
  const info = header.tensors.find((t) => t.name === name);
  if (!info) {
    const near = header.tensors.map((t) => t.name).filter((n) => n.endsWith(name.split(".").slice(-2).join("."))).slice(0, 4);
    throw new SafetensorsError("T6010", `${path}: no tensor named \`${name}\``,
      near.length ? `similar names: ${near.join(", ")}` : `the file has ${header.tensors.length} tensors`, path);
  }
  return info;
}

async function readTensorWith(fh: Handle, path: string, header: StHeader, info: StTensorInfo) {
  const raw = await readAt(fh, info.end - info.begin, header.dataStart + info.begin, path);
  return { shape: info.shape.slice(), data: decodeToF32(raw, info.dtype) };
}

/** Read one tensor as float32 (F16/BF16/F64 and integer dtypes are converted). */
export async function readTensorF32(path: string, header: StHeader, name: string): Promise<{ shape: number[]; data: Float32Array }> {
  const info = findTensor(header, name, path);
  const fh = await openFile(path);
  try {
    return await readTensorWith(fh, path, header, info);
  } finally {
    await fh.close();
  }
}

/** Read every tensor of a file as float32, one positioned read per tensor. */
export async function readAllF32(path: string): Promise<Map<string, { shape: number[]; data: Float32Array }>> {
  const fh = await openFile(path);
  try {
    const header = await readHeaderFrom(fh, path);
    const out = new Map<string, { shape: number[]; data: Float32Array }>();
    for (const info of header.tensors) out.set(info.name, await readTensorWith(fh, path, header, info));
    return out;
  } finally {
    await fh.close();
  }
}

/** Decode little-endian tensor bytes of any supported dtype to float32. */
export function decodeToF32(raw: Uint8Array, dtype: StDtype): Float32Array {
  if (dtype === "F16" || dtype === "BF16") return bytes16ToF32Array(raw, dtype);
  const size = DTYPES[dtype].size;
  const n = raw.length / size;
  if (dtype === "F32" && LITTLE_ENDIAN) return new Float32Array(raw.slice().buffer, 0, n);
  const dv = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const out = new Float32Array(n);
  const get = ELEMENT_GETTERS[dtype];
  for (let i = 0; i < n; i++) out[i] = get(dv, i * size);
  return out;
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

const ELEMENT_GETTERS: Record<Exclude<StDtype, "F16" | "BF16">, (dv: DataView, o: number) => number> = {
  F64: (dv, o) => dv.getFloat64(o, true),
  F32: (dv, o) => dv.getFloat32(o, true),
  I64: (dv, o) => Number(dv.getBigInt64(o, true)),
  I32: (dv, o) => dv.getInt32(o, true),
  I16: (dv, o) => dv.getInt16(o, true),
  I8: (dv, o) => dv.getInt8(o),
  U8: (dv, o) => dv.getUint8(o),
  BOOL: (dv, o) => (dv.getUint8(o) !== 0 ? 1 : 0),
};

// ---- writing ---------------------------------------------------------------------------------------------

type ArrayCtor = Float32ArrayConstructor | Int32ArrayConstructor | Uint8ArrayConstructor | BigInt64ArrayConstructor;
const WRITE_ARRAYS: Record<StWriteTensor["dtype"], ArrayCtor> = {
  F32: Float32Array, F16: Float32Array, BF16: Float32Array, I32: Int32Array, U8: Uint8Array, I64: BigInt64Array,
};

function checkWriteTensor(t: StWriteTensor): void {
  const fail = (what: string, hint: string): SafetensorsError =>
    new SafetensorsError("T6012", `tensor \`${t.name}\`: ${what}`, hint, "<writer>");
  if (!Object.hasOwn(WRITE_ARRAYS, t.dtype)) throw fail(`cannot write dtype ${t.dtype}`, "write F32, F16, BF16, I32, U8 or I64");
  if (!t.shape.every(isCount)) throw fail(`invalid shape ${JSON.stringify(t.shape)}`, "dimensions are non-negative integers");
  const want = WRITE_ARRAYS[t.dtype];
  if (!(t.data instanceof want)) {
    throw fail(`${t.dtype} data must be a ${want.name}, got ${t.data.constructor.name}`,
      "F16/BF16 take Float32Array input and are converted on write");
  }
  if (t.data.length !== numel(t.shape)) {
    throw fail(`shape ${JSON.stringify(t.shape)} has ${numel(t.shape)} elements but data has ${t.data.length}`, "reshape or fix the data");
  }
  if (t.name === "__metadata__" || t.name.length === 0) throw fail("reserved or empty name", "rename the tensor");
}

function utf8Compare(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, "utf8"), Buffer.from(b, "utf8"));
}

/** Order tensors as the reference writer does (descending dtype alignment, then name) and build the header. */
function planSafetensors(tensors: StWriteTensor[], metadata: Record<string, string>): { head: Uint8Array; order: StWriteTensor[] } {
  const seen = new Set<string>();
  for (const t of tensors) {
    checkWriteTensor(t);
    if (seen.has(t.name)) throw new SafetensorsError("T6004", `tensor \`${t.name}\` given twice`, "names must be unique", "<writer>");
    seen.add(t.name);
  }
  const order = tensors.slice().sort((a, b) => DTYPES[b.dtype].rank - DTYPES[a.dtype].rank || utf8Compare(a.name, b.name));
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length > 0) header.__metadata__ = metadata;
  let offset = 0;
  for (const t of order) {
    const len = numel(t.shape) * DTYPES[t.dtype].size;
    header[t.name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + len] };
    offset += len;
  }
  const json = new TextEncoder().encode(JSON.stringify(header));
  const padded = Math.ceil(json.length / 8) * 8;
  const head = new Uint8Array(8 + padded).fill(0x20, 8 + json.length);
  new DataView(head.buffer).setBigUint64(0, BigInt(padded), true);
  head.set(json, 8);
  return { head, order };
}

/** Little-endian bytes of one tensor in its file dtype. */
export function tensorBytes(t: StWriteTensor): Uint8Array {
  if (t.dtype === "F16" || t.dtype === "BF16") return f32ArrayTo16Bytes(t.data as Float32Array, t.dtype);
  if (LITTLE_ENDIAN) return new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
  const size = DTYPES[t.dtype].size;
  const out = new Uint8Array(t.data.length * size);
  const dv = new DataView(out.buffer);
  for (let i = 0; i < t.data.length; i++) {
    const v = t.data[i];
    if (t.dtype === "F32") dv.setFloat32(i * 4, v as number, true);
    else if (t.dtype === "I32") dv.setInt32(i * 4, v as number, true);
    else if (t.dtype === "I64") dv.setBigInt64(i * 8, v as bigint, true);
    else dv.setUint8(i, v as number);
  }
  return out;
}

/**
 * Serialize tensors to safetensors bytes. `metadata` defaults to {"format": "pt"} (what HF writes); pass `{}` to
 * write no "__metadata__" entry at all.
 */
export function encodeSafetensors(tensors: StWriteTensor[], metadata: Record<string, string> = { format: "pt" }): Uint8Array {
  const { head, order } = planSafetensors(tensors, metadata);
  const parts = order.map(tensorBytes);
  const out = new Uint8Array(head.length + parts.reduce((s, p) => s + p.length, 0));
  out.set(head, 0);
  let pos = head.length;
  for (const p of parts) {
    out.set(p, pos);
    pos += p.length;
  }
  return out;
}

/** Write a safetensors file atomically (temp file + fsync + rename), streaming one tensor at a time. */
export async function writeSafetensors(path: string, tensors: StWriteTensor[], metadata: Record<string, string> = { format: "pt" }): Promise<void> {
  const { head, order } = planSafetensors(tensors, metadata);
  function* chunks(): Generator<Uint8Array> {
    yield head;
    for (const t of order) yield tensorBytes(t);
  }
  await writeFileAtomic(path, chunks());
}

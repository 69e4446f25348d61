// safetensors header model and validation: types, error class, dtype table and the header parser.
//
// Why this exists: split from safetensors.ts (which re-exports everything here) so the validation rules sit in one
// place, testable on in-memory bytes. Rules follow the reference crate (safetensors/src/tensor.rs `read_metadata` +
// `Metadata::validate`), see safetensors.ts for the error-code table.

export type StDtype = "F64" | "F32" | "F16" | "BF16" | "I64" | "I32" | "I16" | "I8" | "U8" | "BOOL";
export interface StTensorInfo { name: string; dtype: StDtype; shape: number[]; begin: number; end: number }
export interface StHeader { tensors: StTensorInfo[]; metadata: Record<string, string>; dataStart: number }
export interface StWriteTensor {
  name: string;
  dtype: "F32" | "F16" | "BF16" | "I32" | "U8" | "I64";
  shape: number[];
  data: Float32Array | Int32Array | Uint8Array | BigInt64Array;
}

export class SafetensorsError extends Error {
  code: string;
  hint: string;
  file: string;
  constructor(code: string, message: string, hint: string, file: string) {
    super(`${code}: ${message}`);
    this.name = "SafetensorsError";
    this.code = code;
    this.hint = hint;
    this.file = file;
  }
}

export const MAX_HEADER_BYTES = 100_000_000;

/** Bytes per element, and the rank of the dtype in the reference `Dtype` enum (= alignment order). */
export const DTYPES: Record<StDtype, { size: number; rank: number }> = {
  BOOL: { size: 1, rank: 0 }, U8: { size: 1, rank: 1 }, I8: { size: 1, rank: 2 }, I16: { size: 2, rank: 5 },
  F16: { size: 2, rank: 7 }, BF16: { size: 2, rank: 8 }, I32: { size: 4, rank: 9 }, F32: { size: 4, rank: 11 },
  F64: { size: 8, rank: 12 }, I64: { size: 8, rank: 13 },
};

export function dtypeSize(dtype: StDtype): number {
  return DTYPES[dtype].size;
}

export function numel(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

// ---- header parsing ------------------------------------------------------------------------------------

/** Parse and validate the header of a whole safetensors file held in memory. */
export function parseSafetensorsHeader(bytes: Uint8Array, file = "<memory>"): StHeader {
  const n = readHeaderLength(bytes, bytes.length, file);
  return parseHeaderJson(bytes.subarray(8, 8 + n), bytes.length, file);
}

/** Read the u64 header length from the first 8 bytes and check it against the limit and the file size. */
export function readHeaderLength(first8: Uint8Array, fileLength: number, file: string): number {
  if (fileLength < 8 || first8.length < 8) {
    throw new SafetensorsError("T6002", `${file}: file is ${fileLength} bytes, too small for a safetensors header`,
      "the file is truncated or not a safetensors file; download or save it again", file);
  }
  const view = new DataView(first8.buffer, first8.byteOffset, 8);
  const n = Number(view.getBigUint64(0, true));
  if (n > MAX_HEADER_BYTES) {
    throw new SafetensorsError("T6001", `${file}: header length ${n} exceeds the ${MAX_HEADER_BYTES}-byte limit`,
      "this is not a safetensors file (or its first 8 bytes are corrupt)", file);
  }
  if (8 + n > fileLength) {
    throw new SafetensorsError("T6002", `${file}: header claims ${n} bytes but the file has only ${fileLength - 8} after the length`,
      "the file is truncated; download or save it again", file);
  }
  return n;
}

function decodeHeaderText(jsonBytes: Uint8Array, file: string): unknown {
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(jsonBytes);
  } catch {
    throw new SafetensorsError("T6003", `${file}: header is not valid UTF-8`, "the file is corrupt or not a safetensors file", file);
  }
  if (!text.startsWith("{")) {
    throw new SafetensorsError("T6003", `${file}: header does not start with "{"`, "the file is corrupt or not a safetensors file", file);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new SafetensorsError("T6003", `${file}: header is not valid JSON (${(err as Error).message})`,
      "the file is corrupt or was written by a broken tool", file);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new SafetensorsError("T6003", `${file}: header is not a JSON object`, "the file is corrupt", file);
  }
  const dup = duplicateTopLevelKey(text);
  if (dup !== null) {
    throw new SafetensorsError("T6004", `${file}: tensor \`${dup}\` appears twice in the header`,
      "each tensor name must be unique; re-save the checkpoint with a correct writer", file);
  }
  return value;
}

/** JSON.parse keeps the last of duplicate keys silently; scan the (already valid) text for top-level repeats. */
function duplicateTopLevelKey(text: string): string | null {
  const seen = new Set<string>();
  let depth = 0;
  let expectKey = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"') {
      let j = i + 1;
      while (text[j] !== '"') j += text[j] === "\\" ? 2 : 1;
      if (depth === 1 && expectKey) {
        const key = JSON.parse(text.slice(i, j + 1)) as string;
        if (seen.has(key)) return key;
        seen.add(key);
        expectKey = false;
      }
      i = j;
    } else if (c === "{" || c === "[") {
      depth++;
      if (depth === 1) expectKey = true;
    } else if (c === "}" || c === "]") {
      depth--;
    } else if (c === "," && depth === 1) {
      expectKey = true;
    }
  }
  return null;
}

export function parseHeaderJson(jsonBytes: Uint8Array, fileLength: number, file: string): StHeader {
  const obj = decodeHeaderText(jsonBytes, file) as Record<string, unknown>;
  let metadata: Record<string, string> = {};
  const tensors: StTensorInfo[] = [];
  for (const [name, entry] of Object.entries(obj)) {
    if (name === "__metadata__") metadata = parseMetadata(entry, file);
    else tensors.push(parseEntry(name, entry, file));
  }
  tensors.sort((a, b) => a.begin - b.begin || a.end - b.end);
  const dataStart = 8 + jsonBytes.length;
  checkCoverage(tensors, dataStart, fileLength, file);
  return { tensors, metadata, dataStart };
}

function parseMetadata(entry: unknown, file: string): Record<string, string> {
  if (entry === null) return {};
  if (typeof entry !== "object" || Array.isArray(entry)) {
    throw new SafetensorsError("T6011", `${file}: "__metadata__" is not an object`, "metadata must map strings to strings", file);
  }
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(entry as Record<string, unknown>)) {
    if (typeof v !== "string") {
      throw new SafetensorsError("T6011", `${file}: metadata value \`${k}\` is not a string`,
        "safetensors metadata maps strings to strings; encode other values as JSON text", file);
    }
    out[k] = v;
  }
  return out;
}

export function isCount(x: unknown): x is number {
  return typeof x === "number" && Number.isSafeInteger(x) && x >= 0;
}

function parseEntry(name: string, entry: unknown, file: string): StTensorInfo {
  const bad = (what: string): SafetensorsError =>
    new SafetensorsError("T6006", `${file}: tensor \`${name}\`: ${what}`,
      'each entry must be {"dtype": str, "shape": [int...], "data_offsets": [begin, end]}', file);
  if (typeof entry !== "object" || entry === null || Array.isArray(entry)) throw bad("entry is not an object");
  const e = entry as Record<string, unknown>;
  if (typeof e.dtype !== "string") throw bad("missing dtype");
  if (!Object.hasOwn(DTYPES, e.dtype)) {
    throw new SafetensorsError("T6005", `${file}: tensor \`${name}\` has unsupported dtype \`${e.dtype}\``,
      `tune reads ${Object.keys(DTYPES).join(", ")}; convert the checkpoint (e.g. FP8 → BF16) first`, file);
  }
  const dtype = e.dtype as StDtype;
  if (!Array.isArray(e.shape) || !e.shape.every(isCount)) throw bad("shape is not a list of non-negative integers");
  const off = e.data_offsets;
  if (!Array.isArray(off) || off.length !== 2 || !isCount(off[0]) || !isCount(off[1])) {
    throw bad("data_offsets is not [begin, end] with non-negative integers");
  }
  const [begin, end] = off as [number, number];
  if (end < begin) throw bad(`data_offsets end ${end} is before begin ${begin}`);
  const shape = e.shape as number[];
  const expected = numel(shape) * DTYPES[dtype].size;
  if (end - begin !== expected) {
    throw new SafetensorsError("T6007",
      `${file}: tensor \`${name}\` (${dtype} ${JSON.stringify(shape)}) spans ${end - begin} bytes, expected ${expected}`,
      "shape, dtype and data_offsets disagree; the file is corrupt", file);
  }
  return { name, dtype, shape, begin, end };
}

function checkCoverage(sorted: StTensorInfo[], dataStart: number, fileLength: number, file: string): void {
  let pos = 0;
  let prev = "<start of data>";
  for (const t of sorted) {
    if (t.begin !== pos) {
      const what = t.begin < pos ? `overlaps \`${prev}\`` : `leaves a ${t.begin - pos}-byte gap after \`${prev}\``;
      throw new SafetensorsError("T6008", `${file}: tensor \`${t.name}\` at [${t.begin}, ${t.end}) ${what}`,
        "tensors must tile the data buffer exactly (no holes, no overlaps); the file is corrupt", file);
    }
    pos = t.end;
    prev = t.name;
  }
  if (dataStart + pos !== fileLength) {
    throw new SafetensorsError("T6009",
      `${file}: header describes ${pos} data bytes but the file has ${fileLength - dataStart}`,
      fileLength < dataStart + pos ? "the file is truncated; download or save it again"
        : "the file has trailing bytes after the last tensor; it is corrupt", file);
  }
}


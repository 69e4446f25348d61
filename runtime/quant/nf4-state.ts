// Serialize 4-bit quantized weights in the Hugging Face / bitsandbytes checkpoint layout, and read them back.
//
// Why this exists: a model saved by `model.save_pretrained()` after `load_in_4bit` stores, per Linear weight `<w>`
// (e.g. `model.layers.0.mlp.down_proj.weight`): `<w>` (U8 [ceil(n/2), 1] packed nibbles), `<w>.absmax`,
// `<w>.quant_map`, with double quant `<w>.nested_absmax` and `<w>.nested_quant_map`, and
// `<w>.quant_state.bitsandbytes__<nf4|fp4>`: the non-tensor fields as `json.dumps(...)` UTF-8 bytes in a U8 tensor
// (`QuantState.as_dict(packed=True)`, `utils.pack_dict_to_tensor`). Writing the same keys and the same JSON text lets
// transformers load tune's 4-bit checkpoints, and lets tune load theirs.

import { pyFloatRepr } from "../io/py-repr.js";
import type { StWriteTensor } from "../io/safetensors.js";
import { DYNAMIC_MAP } from "./codes.js";
import { NESTED_BLOCKSIZE, QuantError, codeFor, type OrigDtype, type Quant4Bit, type QuantType } from "./nf4.js";

/** The `json.dumps` text of the non-tensor quant-state fields, in bitsandbytes' key order. */
export function packedQuantStateJson(q: Quant4Bit): string {
  const parts = [
    `"quant_type": "${q.quantType}"`,
    `"blocksize": ${q.blocksize}`,
    `"dtype": "${q.dtype}"`,
    `"shape": [${q.shape.join(", ")}]`,
  ];
  if (q.nested) {
    parts.push(`"nested_blocksize": ${q.nested.blocksize}`, `"nested_dtype": "float32"`, `"nested_offset": ${pyFloatRepr(q.nested.offset)}`);
  }
  return `{${parts.join(", ")}}`;
}

export function quantStateKey(weightName: string, quantType: QuantType): string {
  return `${weightName}.quant_state.bitsandbytes__${quantType}`;
}

/** The tensors a 4-bit weight contributes to a HF checkpoint, keyed as bitsandbytes writes them. */
export function quant4BitToSafetensors(weightName: string, q: Quant4Bit): StWriteTensor[] {
  const code = Float32Array.from(codeFor(q.quantType));
  const json = new TextEncoder().encode(packedQuantStateJson(q));
  const out: StWriteTensor[] = [
    { name: weightName, dtype: "U8", shape: [q.packed.length, 1], data: q.packed },
    { name: `${weightName}.quant_map`, dtype: "F32", shape: [code.length], data: code },
    { name: quantStateKey(weightName, q.quantType), dtype: "U8", shape: [json.length], data: json },
  ];
  if (q.nested) {
    out.push(
      { name: `${weightName}.absmax`, dtype: "U8", shape: [q.nested.q.length], data: q.nested.q },
      { name: `${weightName}.nested_absmax`, dtype: "F32", shape: [q.nested.absmax2.length], data: q.nested.absmax2 },
      { name: `${weightName}.nested_quant_map`, dtype: "F32", shape: [q.nested.code.length], data: Float32Array.from(q.nested.code) },
    );
  } else if (q.absmax) {
    out.push({ name: `${weightName}.absmax`, dtype: "F32", shape: [q.absmax.length], data: q.absmax });
  }
  return out;
}

type Loaded = { shape: number[]; data: Float32Array };

function need(tensors: Map<string, Loaded>, name: string): Loaded {
  const t = tensors.get(name);
  if (!t) throw new QuantError("T6054", `missing quantization tensor \`${name}\``, "the checkpoint's 4-bit state is incomplete");
  return t;
}

function toBytes(t: Loaded, name: string): Uint8Array {
  const out = new Uint8Array(t.data.length);
  for (let i = 0; i < t.data.length; i++) {
    const v = t.data[i];
    if (!Number.isInteger(v) || v < 0 || v > 255) throw new QuantError("T6055", `\`${name}\` is not a U8 tensor`, "expected uint8 data");
    out[i] = v;
  }
  return out;
}

function sameTable(got: Float32Array, want: Float32Array): boolean {
  return got.length === want.length && got.every((v, i) => v === want[i]);
}

/** Rebuild a quantized weight from checkpoint tensors (as loaded by `readAllF32`: U8 values arrive as exact floats). */
export function quant4BitFromTensors(weightName: string, tensors: Map<string, Loaded>): Quant4Bit {
  const quantType: QuantType = tensors.has(quantStateKey(weightName, "nf4")) ? "nf4" : "fp4";
  const stateName = quantStateKey(weightName, quantType);
  const state = JSON.parse(new TextDecoder().decode(toBytes(need(tensors, stateName), stateName))) as {
    quant_type: QuantType; blocksize: number; dtype: OrigDtype; shape: number[]; nested_offset?: number; nested_blocksize?: number;
  };
  if (!sameTable(need(tensors, `${weightName}.quant_map`).data, codeFor(quantType))) {
    throw new QuantError("T6056", `\`${weightName}.quant_map\` differs from the ${quantType} code`, "custom code tables are not supported");
  }
  const packed = toBytes(need(tensors, weightName), weightName);
  const absmaxT = need(tensors, `${weightName}.absmax`);
  const base = { quantType, blocksize: state.blocksize, shape: state.shape, dtype: state.dtype, packed };
  if (state.nested_offset === undefined) return { ...base, absmax: Float32Array.from(absmaxT.data), nested: null };
  // The stored map is used as is: create_dynamic_map's last bits depend on the CPU that built it (see codes.ts).
  const nestedCode = Float32Array.from(need(tensors, `${weightName}.nested_quant_map`).data);
  if (state.nested_blocksize !== NESTED_BLOCKSIZE || nestedCode.length !== DYNAMIC_MAP.length) {
    throw new QuantError("T6056", `\`${weightName}\` uses an unsupported nested quantization`, "expected blocksize 256 with a 256-entry map");
  }
  const nested = {
    offset: Math.fround(state.nested_offset), q: toBytes(absmaxT, `${weightName}.absmax`),
    absmax2: Float32Array.from(need(tensors, `${weightName}.nested_absmax`).data), blocksize: NESTED_BLOCKSIZE, code: nestedCode,
  } as const;
  return { ...base, absmax: null, nested };
}

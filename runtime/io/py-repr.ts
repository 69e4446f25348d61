// Python-compatible text for numbers and JSON, for files that Python tools write and diff against.
//
// Why this exists: PEFT writes adapter_config.json with `json.dumps(indent=2, sort_keys=True)` and bitsandbytes packs
// its quant state with `json.dumps`; Python prints floats with `repr` (0.0, 1e-05) where JavaScript prints 0 and
// 0.00001, and escapes non-ASCII. Matching the text keeps tune's files byte-identical to the reference tools'.

/** Python `repr(float)` (what `json.dumps` writes for a float): shortest round-trip digits, Python's exponent rules. */
export function pyFloatRepr(x: number): string {
  if (Number.isNaN(x)) return "NaN";
  if (!Number.isFinite(x)) return x > 0 ? "Infinity" : "-Infinity";
  if (x === 0) return Object.is(x, -0) ? "-0.0" : "0.0";
  const [mant, expText] = x.toExponential().split("e");
  const exp = Number(expText);
  if (exp < -4 || exp >= 16) return `${mant}e${exp < 0 ? "-" : "+"}${String(Math.abs(exp)).padStart(2, "0")}`;
  const digits = mant.replace("-", "").replace(".", "");
  let body: string;
  if (exp < 0) body = `0.${"0".repeat(-exp - 1)}${digits}`;
  else if (digits.length > exp + 1) body = `${digits.slice(0, exp + 1)}.${digits.slice(exp + 1)}`;
  else body = `${digits}${"0".repeat(exp + 1 - digits.length)}.0`;
  return x < 0 ? `-${body}` : body;
}

/** Marks a number that Python holds as a float (so 0 prints as 0.0). */
export class PyFloat {
  constructor(readonly value: number) {}
}

function escapeNonAscii(text: string): string {
  return text.replace(/[\u0080-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

/**
 * `json.dumps(value, indent=indent, sort_keys=sortKeys)` as Python writes it (ensure_ascii on). Plain JS numbers
 * print as JavaScript does (right for ints); wrap floats in `PyFloat`.
 */
export function pyJsonDumps(value: unknown, opts: { indent: number; sortKeys?: boolean }): string {
  const floats: string[] = [];
  const replacer = function (this: unknown, _key: string, v: unknown): unknown {
    if (v instanceof PyFloat) {
      floats.push(pyFloatRepr(v.value));
      return `\u0000PYFLOAT${floats.length - 1}\u0000`;
    }
    if (opts.sortKeys && v !== null && typeof v === "object" && !Array.isArray(v)) {
      return Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
    }
    return v;
  };
  const text = JSON.stringify(value, replacer, opts.indent);
  return escapeNonAscii(text).replace(/"\\u0000PYFLOAT(\d+)\\u0000"/g, (_m, i: string) => floats[Number(i)]);
}

// Literal decoding shared by the AST builder and the formatter: numbers with
// units (5%, 2k, 256 tokens) and string escapes. Pure functions, no diagnostics:
// the lexer only admits well-formed literals, bad escapes are kept verbatim.
import type { Unit } from "./ast.js";

const SCALE: Record<string, number> = { k: 1e3, K: 1e3, M: 1e6, B: 1e9, T: 1e12 };

export function parseNumberLiteral(raw: string): { value: number; unit: Unit | null } {
  const m = /^([0-9_.]+(?:[eE][+-]?\d+)?)(%|[kKMBT])?(?:[ \t]+([A-Za-z]+))?$/.exec(raw);
  if (!m) return { value: Number.NaN, unit: null };
  const base = Number(m[1]!.replace(/_/g, ""));
  const suffix = m[2];
  const word = m[3];
  if (suffix === "%") return { value: base, unit: "%" };
  if (suffix) {
    const unit = (suffix === "K" ? "k" : suffix) as Unit;
    return { value: base * SCALE[suffix]!, unit };
  }
  if (word) return { value: base, unit: word as Unit };
  return { value: base, unit: null };
}

const ESCAPES: Record<string, string> = { n: "\n", t: "\t", r: "\r", '"': '"', "\\": "\\", "0": "\0" };

export function unescapeString(body: string): string {
  return body.replace(/\\(u\{[0-9a-fA-F]{1,6}\}|.)/g, (whole, esc: string) => {
    if (esc.startsWith("u{")) {
      const cp = parseInt(esc.slice(2, -1), 16);
      return cp <= 0x10ffff ? String.fromCodePoint(cp) : whole;
    }
    return ESCAPES[esc] ?? whole;
  });
}

/** Inverse of unescapeString for the formatter and for generated recipes. */
export function quoteString(value: string): string {
  return (
    '"' +
    value.replace(/[\\"\n\t\r\0]/g, (c) =>
      c === "\n" ? "\\n" : c === "\t" ? "\\t" : c === "\r" ? "\\r" : c === "\0" ? "\\0" : "\\" + c,
    ) +
    '"'
  );
}

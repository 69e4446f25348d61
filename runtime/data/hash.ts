// Text normalisation and hashing shared by the dedup ops.
//
// Why this exists: "exact duplicate" in tune means equal after one documented normalisation, and both dedup
// ops (exact and MinHash) must see the same normalised text, so the rule lives in one place.

import { createHash } from "node:crypto";
import type { Row } from "./row.js";

/**
 * The normalisation used by dedup: Unicode NFKC, lower case, every run of whitespace collapsed to one space,
 * leading/trailing whitespace removed. (Punctuation is kept: "Hello!" and "hello" differ.)
 */
export function normaliseText(s: string): string {
  return s.normalize("NFKC").toLowerCase().replace(/\s+/gu, " ").trim();
}

/** Field separator when several fields form one dedup text (U+241F SYMBOL FOR UNIT SEPARATOR, rare in data). */
export const FIELD_SEPARATOR = "\u241f";

/** The text of `fields` of a row, joined by " ␟ " (a word of its own for n-grams); missing/null fields count as "". */
export function fieldsText(row: Row, fields: readonly string[]): string {
  return fields.map((f) => valueText(row.values[f])).join(` ${FIELD_SEPARATOR} `);
}

function valueText(v: unknown): string {
  if (v === undefined || v === null) return "";
  return typeof v === "string" ? v : JSON.stringify(v);
}

/** SHA-256 of the normalised text, first 16 bytes in hex: the exact-dedup key. */
export function textKey(text: string): string {
  return createHash("sha256").update(normaliseText(text), "utf8").digest("hex").slice(0, 32);
}

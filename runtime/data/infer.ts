// Schema inference from a sample of rows, for `tune data --source FILE`.
//
// Why this exists: writing a source's field list by hand is the first step of every recipe; inferring it from
// the first rows (and saying where the guess is shaky) makes that step a copy-paste.

import { checkValue, FIELD_TYPES, type FieldSpec, type FieldType } from "./schema.js";
import type { Row, RowStream } from "./row.js";

export interface InferredField extends Omit<FieldSpec, "type"> {
  /** Best declared type, or "unknown" when the values fit no single declared type (see `note`). */
  type: FieldType | "unknown";
  /** Rows of the sample in which the field was present and not null. */
  present: number;
  note?: string;
}

export interface InferredSchema {
  sampled: number;
  fields: InferredField[];
}

/** Candidate types in order of preference: the first that accepts every present value wins. */
const PREFERENCE: readonly FieldType[] = ["int", "float", "bool", "messages", "list<string>", "string"];

/** Infer field types from the first `limit` rows (default 1,000) of `input`. CSV strings are read as CSV. */
export async function inferSchema(input: RowStream | readonly Row[], limit = 1000): Promise<InferredSchema> {
  const values = new Map<string, unknown[]>();
  let sampled = 0;
  let fromCsv = false;
  for await (const row of input) {
    if (sampled >= limit) break;
    sampled++;
    fromCsv ||= row.origin.format === "csv";
    for (const [k, v] of Object.entries(row.values)) {
      if (!values.has(k)) values.set(k, []);
      if (v !== null && v !== undefined && !(fromCsv && v === "")) values.get(k)!.push(v);
    }
  }
  const fields = [...values.entries()].map(([name, vs]) => inferField(name, vs, sampled, fromCsv));
  return { sampled, fields };
}

function inferField(name: string, vs: unknown[], sampled: number, fromCsv: boolean): InferredField {
  const optional = vs.length < sampled;
  const base = { name, present: vs.length, ...(optional ? { optional: true } : {}) };
  if (vs.length === 0) return { ...base, type: "unknown", note: "always missing or null in the sample" };
  // CSV strings would all pass as strings; only pick a narrower type when every value converts.
  const type = PREFERENCE.find((t) => vs.every((v) => checkValue(v, t, fromCsv).ok));
  if (type) return { ...base, type };
  const kinds = [...new Set(vs.map((v) => (Array.isArray(v) ? "array" : v === null ? "null" : typeof v)))];
  return { ...base, type: "unknown", note: `mixed or nested values (${kinds.join(", ")}); not one of ${FIELD_TYPES.join(", ")}` };
}

/** Render an inferred schema as tune field declarations, one per line, with notes as comments. */
export function formatInferred(s: InferredSchema): string {
  const lines = s.fields.map((f) => {
    const opt = f.optional ? "?" : "";
    const note = f.note ? `  # ${f.note}` : f.optional ? `  # present in ${f.present} of ${s.sampled}` : "";
    return `${f.name}: ${f.type}${opt}${note}`;
  });
  return [`# inferred from ${s.sampled} row(s)`, ...lines].join("\n");
}

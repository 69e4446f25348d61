// Typed rows: check each row against a source's declared fields.
//
// Why this exists: a recipe declares the fields it uses (`instruction: string, input: string = ""`); checking
// every row at the source turns "KeyError in epoch 2" into `alpaca.jsonl:17: field "output" is missing`.
// The check also renames (`from`), fills defaults, converts CSV strings (CSV has no types) and projects the row
// to the declared fields, so later ops see exactly the declared shape.

import { BadRowLog, DataError } from "./errors.js";
import type { Origin, Row, RowStream } from "./row.js";

export type FieldType = "string" | "int" | "float" | "bool" | "list<string>" | "messages";

export const FIELD_TYPES: readonly FieldType[] = ["string", "int", "float", "bool", "list<string>", "messages"];

export interface FieldSpec {
  name: string;
  type: FieldType;
  /** Missing or null is allowed; the value becomes `default`, or null without one. */
  optional?: boolean;
  default?: unknown;
  /** Read the value from this source field instead of `name` (rename). */
  from?: string;
}

export const CHAT_ROLES = ["system", "user", "assistant", "tool"] as const;

export interface Message {
  role: (typeof CHAT_ROLES)[number];
  content: string;
}

/** Outcome of checking one value: the converted value, or what was wrong. */
type Checked = { ok: true; value: unknown } | { ok: false; problem: string; path?: string };

const ok = (value: unknown): Checked => ({ ok: true, value });
const bad = (problem: string, path?: string): Checked => ({ ok: false, problem, path });

/** Short, single-line preview of a value for messages. */
export function preview(v: unknown): string {
  if (v === undefined) return "undefined";
  let s: string;
  if (typeof v === "string") s = JSON.stringify(v);
  else s = JSON.stringify(v) ?? String(v);
  const kind = v === null ? "null" : Array.isArray(v) ? "array" : typeof v;
  const shown = s.length > 40 ? `${s.slice(0, 37)}…` : s;
  return kind === "null" ? "null" : `${kind} ${shown}`;
}

/** Check (and for CSV, convert) one value against a type. */
export function checkValue(v: unknown, type: FieldType, fromCsv: boolean): Checked {
  switch (type) {
    case "string":
      return typeof v === "string" ? ok(v) : bad(`expected string, got ${preview(v)}`);
    case "int":
      return checkInt(v, fromCsv);
    case "float":
      return checkFloat(v, fromCsv);
    case "bool":
      return checkBool(v, fromCsv);
    case "list<string>":
      return checkStringList(fromCsv ? parseJsonText(v) : v);
    case "messages":
      return checkMessages(fromCsv ? parseJsonText(v) : v);
  }
}

function checkInt(v: unknown, fromCsv: boolean): Checked {
  if (typeof v === "number" && Number.isSafeInteger(v)) return ok(v);
  if (fromCsv && typeof v === "string" && /^\s*[+-]?\d+\s*$/.test(v) && Number.isSafeInteger(Number(v))) {
    return ok(Number(v));
  }
  return bad(`expected int, got ${preview(v)}`);
}

function checkFloat(v: unknown, fromCsv: boolean): Checked {
  if (typeof v === "number" && Number.isFinite(v)) return ok(v);
  if (fromCsv && typeof v === "string" && v.trim() !== "" && Number.isFinite(Number(v))) return ok(Number(v));
  return bad(`expected float, got ${preview(v)}`);
}

function checkBool(v: unknown, fromCsv: boolean): Checked {
  if (typeof v === "boolean") return ok(v);
  if (fromCsv && typeof v === "string") {
    const t = v.trim().toLowerCase();
    if (t === "true" || t === "1") return ok(true);
    if (t === "false" || t === "0") return ok(false);
  }
  return bad(`expected bool, got ${preview(v)}`);
}

function parseJsonText(v: unknown): unknown {
  if (typeof v !== "string") return v;
  try {
    return JSON.parse(v);
  } catch {
    return v;
  }
}

function checkStringList(v: unknown): Checked {
  if (!Array.isArray(v)) return bad(`expected list<string>, got ${preview(v)}`);
  const i = v.findIndex((x) => typeof x !== "string");
  return i < 0 ? ok(v) : bad(`expected string, got ${preview(v[i])}`, `[${i}]`);
}

function checkMessages(v: unknown): Checked {
  if (!Array.isArray(v)) return bad(`expected messages (a list of {role, content}), got ${preview(v)}`);
  for (let i = 0; i < v.length; i++) {
    const m: unknown = v[i];
    if (m === null || typeof m !== "object" || Array.isArray(m)) {
      return bad(`expected a {role, content} object, got ${preview(m)}`, `[${i}]`);
    }
    const { role, content } = m as Record<string, unknown>;
    if (typeof role !== "string" || !(CHAT_ROLES as readonly string[]).includes(role)) {
      return bad(`expected one of ${CHAT_ROLES.join(", ")}, got ${preview(role)}`, `[${i}].role`);
    }
    if (typeof content !== "string") return bad(`expected string, got ${preview(content)}`, `[${i}].content`);
  }
  return ok(v);
}

// ---- rows

function isMissing(v: unknown, type: FieldType, fromCsv: boolean): boolean {
  return v === undefined || v === null || (fromCsv && v === "" && type !== "string");
}

/** Check one row; returns the typed values or the first problem as a DataError located at the row. */
export function checkRow(row: Row, schema: readonly FieldSpec[], keepExtra = false): Record<string, unknown> | DataError {
  const fromCsv = row.origin.format === "csv";
  const out: Record<string, unknown> = keepExtra ? { ...row.values } : {};
  for (const f of schema) {
    const source = f.from ?? f.name;
    const v = row.values[source];
    if (keepExtra && f.from !== undefined) delete out[f.from];
    if (isMissing(v, f.type, fromCsv)) {
      if (f.optional || f.default !== undefined) {
        out[f.name] = f.default ?? null;
        continue;
      }
      return missingError(row, f, v);
    }
    const r = checkValue(v, f.type, fromCsv);
    if (!r.ok) return typeError(row.origin, f, r.problem, r.path);
    out[f.name] = r.value;
  }
  return out;
}

function fieldLabel(f: FieldSpec): string {
  return f.from !== undefined ? `"${f.from}" (declared as ${f.name})` : `"${f.name}"`;
}

function missingError(row: Row, f: FieldSpec, v: unknown): DataError {
  const source = f.from ?? f.name;
  const present = Object.keys(row.values);
  const near = didYouMean(source, present);
  const what = v === null ? "is null" : "is missing";
  return new DataError({
    code: "T5510",
    message: `field ${fieldLabel(f)} ${what} (expected ${f.type})`,
    origin: row.origin,
    field: f.name,
    expected: f.type,
    hint: near.length
      ? `did you mean ${near.map((n) => `\`${n}\``).join(", ")}? (or read \`${f.name}\` from "${near[0]}" with a \`from\` rename)`
      : `mark the field optional or give it a default; the record has: ${present.slice(0, 8).join(", ") || "no fields"}`,
  });
}

function typeError(origin: Origin, f: FieldSpec, problem: string, path?: string): DataError {
  const code = f.type === "messages" ? "T5512" : "T5511";
  return new DataError({
    code,
    message: `field ${fieldLabel(f)}${path ?? ""}: ${problem}`,
    origin,
    field: f.name,
    expected: f.type,
    hint:
      f.type === "messages"
        ? "messages are [{role: system|user|assistant|tool, content: string}, …]; ShareGPT {from, value} turns need mapping first"
        : `fix the record, change the declared type of \`${f.name}\`, or use the "skip" bad-row policy`,
  });
}

/** Up to 4 names within edit distance 2 of `name` (case-insensitive), closest first. */
export function didYouMean(name: string, candidates: readonly string[]): string[] {
  return candidates
    .map((c) => ({ c, d: editDistance(name.toLowerCase(), c.toLowerCase()) }))
    .filter((x) => x.d <= 2 && x.c !== name)
    .sort((a, b) => a.d - b.d || (a.c < b.c ? -1 : 1))
    .slice(0, 4)
    .map((x) => x.c);
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length];
}

/** Validate a declared schema itself: known types, unique names, defaults of the declared type. */
export function validateSchema(schema: readonly FieldSpec[]): void {
  const seen = new Set<string>();
  for (const f of schema) {
    const fail = (message: string, hint: string): never => {
      throw new DataError({ code: "T5520", message, hint, field: f.name });
    };
    if (!FIELD_TYPES.includes(f.type)) fail(`field "${f.name}" has unknown type ${preview(f.type)}`, `use one of ${FIELD_TYPES.join(", ")}`);
    if (seen.has(f.name)) fail(`field "${f.name}" is declared twice`, "give each field one declaration");
    seen.add(f.name);
    if (f.default !== undefined && f.default !== null) {
      const r = checkValue(f.default, f.type, false);
      if (!r.ok) fail(`default of field "${f.name}": ${r.problem}`, `give a default of type ${f.type}`);
    }
  }
}

export interface TypedOptions {
  keepExtra?: boolean;
}

/** Check every row of `input`; bad rows go to `log` (throw under "fail", counted under "skip"). */
export function typed(input: RowStream, schema: readonly FieldSpec[], log: BadRowLog, opts: TypedOptions = {}): RowStream {
  validateSchema(schema);
  return {
    async *[Symbol.asyncIterator]() {
      for await (const row of input) {
        const values = checkRow(row, schema, opts.keepExtra);
        if (values instanceof DataError) {
          log.handle(values);
          continue;
        }
        const out: Row = { values, origin: row.origin };
        yield out;
      }
    },
  };
}

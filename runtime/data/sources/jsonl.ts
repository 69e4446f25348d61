// JSON Lines source: one JSON object per line, streamed line by line.
//
// Why this exists: most instruction and preference sets ship as JSONL; reading line by line keeps memory at
// one chunk, and the line number of each record is kept as provenance for error messages.

import { BadRowLog, DataError, errorText } from "../errors.js";
import type { Origin, Row, RowStream } from "../row.js";
import { textLines } from "./files.js";

/** Rows of a JSONL file; blank lines are ignored; malformed lines go to `log` (fail or skip). */
export function readJsonl(file: string, log: BadRowLog): RowStream {
  return {
    async *[Symbol.asyncIterator]() {
      let row = 0;
      for await (const { line, text } of textLines(file)) {
        if (text.trim() === "") continue;
        const origin = { file, format: "jsonl" as const, line, row: row++ };
        const parsed = parseRecord(text, origin.file, line);
        if (parsed instanceof DataError) {
          log.handle(relocate(parsed, origin));
          continue;
        }
        const out: Row = { values: parsed, origin };
        yield out;
      }
    },
  };
}

/** The same error, located at `origin`. */
export function relocate(e: DataError, origin: Origin): DataError {
  return new DataError({ code: e.code, message: e.detail, hint: e.hint, field: e.field, expected: e.expected, origin });
}

/** Parse one JSON text that must be an object; returns a DataError (not thrown) when it is not. */
export function parseRecord(text: string, file: string, line?: number): Record<string, unknown> | DataError {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    return new DataError({
      code: "T5502",
      message: `malformed JSON record: ${errorText(e)}`,
      hint: line !== undefined
        ? `fix or remove line ${line} of ${file}, or use the "skip" bad-row policy to skip and count such records`
        : `fix the record, or use the "skip" bad-row policy to skip and count such records`,
    });
  }
  if (v === null || typeof v !== "object" || Array.isArray(v)) {
    return new DataError({
      code: "T5503",
      message: `record is ${describeJson(v)}, expected a JSON object`,
      hint: "each record must be an object such as {\"instruction\": …, \"output\": …}",
    });
  }
  return v as Record<string, unknown>;
}

export function describeJson(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "an array";
  return `a ${typeof v}`;
}

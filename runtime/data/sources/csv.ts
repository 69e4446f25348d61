// CSV/TSV source, streamed with csv-parse; each record keeps the line it starts on.
//
// Why this exists: evaluation sets (MMLU, TruthfulQA) ship as CSV with quoted multi-line fields, so a real
// parser is needed, and errors must still name a line. csv-parse's own line counter is off for CRLF files,
// so the start line is computed from each record's raw text (which, concatenated, is the input after the
// previous record), counting \r\n, \r and \n as one line break each.

import { createReadStream } from "node:fs";
import { parse } from "csv-parse";
import { BadRowLog, DataError, errorText } from "../errors.js";
import type { Origin, Row, RowStream } from "../row.js";
import { checkReadable } from "./files.js";

export interface CsvOptions {
  /** First record is a header with the column names (default true). */
  header?: boolean;
  /** Column names for a header-less file (MMLU: question, A, B, C, D, answer). Overrides the header's names. */
  columns?: string[];
  /** Field delimiter; default "," (".tsv": tab). */
  delimiter?: string;
}

interface RawRecord {
  record: string[];
  raw: string;
}

const BREAK = /\r\n|\r|\n/g;

function countBreaks(s: string): number {
  return s.match(BREAK)?.length ?? 0;
}

/** Number of line breaks before the first non-break character (blank lines csv-parse skipped). */
function leadingBreaks(raw: string): number {
  const m = /^(?:\r\n|\r|\n)+/.exec(raw);
  return m ? countBreaks(m[0]) : 0;
}

/** Rows of a CSV file; all values are strings (the schema check converts them). */
export function readCsv(file: string, log: BadRowLog, opts: CsvOptions = {}): RowStream {
  const header = opts.header ?? true;
  if (!header && !opts.columns?.length) {
    throw new DataError({
      code: "T5520",
      message: `CSV source ${file} has no header row and no column names`,
      hint: "declare the column names, e.g. question, A, B, C, D, answer for MMLU",
    });
  }
  const delimiter = opts.delimiter ?? (file.toLowerCase().endsWith(".tsv") ? "\t" : ",");
  return {
    async *[Symbol.asyncIterator]() {
      await checkReadable(file);
      const input = createReadStream(file);
      const parser = input.pipe(parse({ bom: true, raw: true, relax_column_count: true, skip_empty_lines: true, delimiter }));
      let names: string[] | undefined = header ? undefined : opts.columns;
      let nextLine = 1; // line on which the next raw text begins
      let row = 0;
      try {
        for await (const rec of parser as AsyncIterable<RawRecord>) {
          const line = nextLine + leadingBreaks(rec.raw);
          nextLine += countBreaks(rec.raw);
          if (names === undefined) {
            names = opts.columns ?? rec.record;
            continue;
          }
          const origin: Origin = { file, format: "csv", line, row: row++ };
          const values = toValues(rec.record, names, origin, log);
          if (values) {
            const out: Row = { values, origin };
            yield out;
          }
        }
      } catch (e) {
        if (e instanceof DataError) throw e;
        throw csvError(file, e);
      } finally {
        input.destroy(); // a consumer that stops early (break) must not leave the file open
        parser.destroy();
      }
    },
  };
}

function toValues(fields: string[], names: string[], origin: Origin, log: BadRowLog): Record<string, string> | undefined {
  if (fields.length !== names.length) {
    log.handle(
      new DataError({
        code: "T5502",
        message: `record has ${fields.length} field(s), expected ${names.length} (${names.join(", ")})`,
        origin,
        hint: "quote fields that contain the delimiter or line breaks; or use the \"skip\" bad-row policy",
      }),
    );
    return undefined;
  }
  const values: Record<string, string> = {};
  names.forEach((n, i) => (values[n] = fields[i]));
  return values;
}

function csvError(file: string, e: unknown): DataError {
  const lines = (e as { lines?: number }).lines;
  return new DataError({
    code: "T5502",
    message: lines !== undefined ? `malformed CSV: ${errorText(e)}` : `malformed CSV in ${file}: ${errorText(e)}`,
    origin: lines !== undefined ? { file, format: "csv", line: lines, row: 0 } : undefined,
    hint: "check the quoting near that line (a quote inside a quoted field is written as \"\")",
  });
}

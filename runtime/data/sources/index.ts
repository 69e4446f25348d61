// Opening a data source: format from the file extension, then the matching streaming reader.
//
// Why this exists: the execution graph names a file and optionally a schema and a bad-row policy; this is the
// single entry point that turns that into a typed, located RowStream plus the log of skipped rows.

import { BadRowLog, DataError, type BadRowPolicy } from "../errors.js";
import type { DataFormat, RowStream } from "../row.js";
import { typed, type FieldSpec } from "../schema.js";
import { readCsv, type CsvOptions } from "./csv.js";
import { textLines } from "./files.js";
import { readJsonArray } from "./json.js";
import { readJsonl } from "./jsonl.js";
import { readParquet } from "./parquet.js";

export type FileFormat = Exclude<DataFormat, "memory">;

const EXTENSIONS: Record<string, FileFormat> = {
  ".json": "json",
  ".jsonl": "jsonl",
  ".ndjson": "jsonl",
  ".csv": "csv",
  ".tsv": "csv",
  ".parquet": "parquet",
  ".pq": "parquet",
};

/** Format from the extension (case-insensitive); T5504 when unknown. */
export function formatFromPath(file: string): FileFormat {
  const m = /\.[^./\\]+$/.exec(file.toLowerCase());
  const fmt = m ? EXTENSIONS[m[0]] : undefined;
  if (fmt) return fmt;
  throw new DataError({
    code: "T5504",
    message: `cannot tell the format of ${file} from its extension`,
    hint: `use one of ${Object.keys(EXTENSIONS).join(", ")}, or declare the format explicitly`,
  });
}

/**
 * The format to read `file` with. A `.json` file whose first line is a complete JSON object is JSON Lines
 * (the Hugging Face `json` loader accepts both under `.json`); otherwise `.json` means one array.
 */
export async function detectFormat(file: string): Promise<FileFormat> {
  const fmt = formatFromPath(file);
  if (fmt !== "json") return fmt;
  for await (const { text } of textLines(file)) {
    const t = text.trim();
    if (t === "") continue;
    if (!t.startsWith("{")) return "json";
    try {
      const v: unknown = JSON.parse(t);
      return v !== null && typeof v === "object" ? "jsonl" : "json";
    } catch {
      return "json";
    }
  }
  return "json";
}

export interface SourceOptions {
  format?: FileFormat;
  /** Declared fields; when given, rows are checked and projected to them. */
  schema?: FieldSpec[];
  /** What to do with a bad row: "fail" (default) throws on the first, "skip" counts and reports. */
  onBadRows?: BadRowPolicy;
  /** Keep fields not named in the schema (default false: typed rows hold only declared fields). */
  keepExtra?: boolean;
  csv?: CsvOptions;
}

export interface OpenedSource {
  rows: RowStream;
  format: FileFormat;
  /** Skipped rows (malformed records and schema failures); counts reset on each pass. */
  badRows: BadRowLog;
}

/** Open a file as a replayable stream of (optionally typed) rows. */
export async function openSource(file: string, opts: SourceOptions = {}): Promise<OpenedSource> {
  const format = opts.format ?? (await detectFormat(file));
  const badRows = new BadRowLog(opts.onBadRows ?? "fail");
  const raw = readRaw(file, format, badRows, opts.csv);
  const checked = opts.schema ? typed(raw, opts.schema, badRows, { keepExtra: opts.keepExtra }) : raw;
  const rows: RowStream = {
    [Symbol.asyncIterator]() {
      badRows.reset();
      return checked[Symbol.asyncIterator]();
    },
  };
  return { rows, format, badRows };
}

/** The raw reader for a format (values as stored; CSV values are strings). */
export function readRaw(file: string, format: FileFormat, log: BadRowLog, csv?: CsvOptions): RowStream {
  switch (format) {
    case "json":
      return readJsonArray(file, log);
    case "jsonl":
      return readJsonl(file, log);
    case "csv":
      return readCsv(file, log, csv);
    case "parquet":
      return readParquet(file);
  }
}

export { readCsv, readJsonArray, readJsonl, readParquet };
export type { CsvOptions };

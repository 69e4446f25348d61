// Rows and row streams: the one data shape every source produces and every op consumes.
//
// Why this exists: ops must work on streams so memory is bounded by the op, not the file, and every row must
// keep where it came from (file + line or row index) so any later error can point at the record.
//
// Streams are *replayable* by convention: a RowStream is an AsyncIterable whose [Symbol.asyncIterator]()
// starts a fresh pass each time (sources reopen their file; ops re-run over a fresh pass of their input).
// Ops that need two passes (count, then select) rely on this; a one-shot async generator object is rejected
// by `requireReplayable` with a T5523 error.

import { DataError } from "./errors.js";

export type DataFormat = "json" | "jsonl" | "csv" | "parquet" | "memory";

/** Where a row came from. `line` is 1-based (text formats); `row` is the 0-based record index, as in pandas/HF. */
export interface Origin {
  file: string;
  format: DataFormat;
  line?: number;
  row: number;
}

export interface Row {
  values: Record<string, unknown>;
  origin: Origin;
}

export type RowStream = AsyncIterable<Row>;

/** A stream produced by an op, with statistics that are reset at the start of each pass and filled during it. */
export interface OpStream<S> extends RowStream {
  readonly stats: S;
}

/** `file:17` for text formats, `file (row 5)` otherwise (row index 0-based). */
export function formatOrigin(o: Origin): string {
  return o.line !== undefined ? `${o.file}:${o.line}` : `${o.file} (row ${o.row})`;
}

/** Build an OpStream: `run` is called once per pass with a freshly reset stats object. */
export function opStream<S extends object>(init: () => S, run: (stats: S) => AsyncGenerator<Row>): OpStream<S> {
  const stats = init();
  return {
    stats,
    [Symbol.asyncIterator]() {
      const fresh = init();
      for (const k of Object.keys(stats)) delete (stats as Record<string, unknown>)[k];
      Object.assign(stats, fresh);
      return run(stats);
    },
  };
}

/** A replayable stream over rows held in memory (tests, small inline data, materialised results). */
export function fromArray(rows: readonly Row[]): RowStream {
  return {
    async *[Symbol.asyncIterator]() {
      yield* rows;
    },
  };
}

/** Rows from plain objects, with `memory` origins named `name`. */
export function fromValues(name: string, values: readonly Record<string, unknown>[]): RowStream {
  return fromArray(values.map((v, i) => ({ values: v, origin: { file: name, format: "memory", row: i } })));
}

export async function collect(input: RowStream): Promise<Row[]> {
  const out: Row[] = [];
  for await (const r of input) out.push(r);
  return out;
}

export async function countRows(input: RowStream): Promise<number> {
  let n = 0;
  for await (const _ of input) n++;
  return n;
}

/**
 * True unless `input` is a one-shot iterator (an async generator object returns itself from
 * [Symbol.asyncIterator], so a second pass would see nothing).
 */
export function isReplayable(input: RowStream): boolean {
  const maybeIterator = input as unknown as { next?: unknown };
  return typeof maybeIterator.next !== "function";
}

export function requireReplayable(input: RowStream, op: string): void {
  if (isReplayable(input)) return;
  throw new DataError({
    code: "T5523",
    message: `${op} reads its input twice (count, then select), but it was given a one-shot iterator`,
    hint: "pass a source or op stream (they reopen on each pass), or materialise with fromArray(await collect(x))",
  });
}

/** Canonical JSON of a row's values (used for byte-identity checks and writing JSONL). */
export function rowJson(r: Row): string {
  return JSON.stringify(r.values);
}

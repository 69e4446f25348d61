// Several shard files as one data source: the shards of a hub split are read in order, through the same
// readers and schema check as a local file (runtime/data/sources), with one bad-row log for the whole split.
//
// Why this exists: `openSource` opens one file; a hub split is often `train-00000-of-00004.parquet` … and the
// rows, their origins (file and row of each shard) and the skipped-row count must read as one source.

import { BadRowLog } from "../errors.js";
import type { RowStream } from "../row.js";
import { typed } from "../schema.js";
import { detectFormat, openSource, readRaw, type OpenedSource, type SourceOptions } from "../sources/index.js";

/** Open `files` (in this order) as one replayable, optionally typed source. One file is plain `openSource`. */
export async function openHubFiles(files: readonly string[], opts: SourceOptions = {}): Promise<OpenedSource> {
  if (files.length === 0) throw new Error("internal: openHubFiles needs at least one file");
  if (files.length === 1) return openSource(files[0], opts);
  const formats = await Promise.all(files.map((f) => (opts.format ? Promise.resolve(opts.format) : detectFormat(f))));
  const badRows = new BadRowLog(opts.onBadRows ?? "fail");
  const raw: RowStream = {
    async *[Symbol.asyncIterator]() {
      for (let i = 0; i < files.length; i++) yield* readRaw(files[i], formats[i], badRows, opts.csv);
    },
  };
  const checked = opts.schema ? typed(raw, opts.schema, badRows, { keepExtra: opts.keepExtra }) : raw;
  const rows: RowStream = {
    [Symbol.asyncIterator]() {
      badRows.reset();
      return checked[Symbol.asyncIterator]();
    },
  };
  return { rows, format: formats[0], badRows };
}

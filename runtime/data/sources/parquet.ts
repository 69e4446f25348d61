// Parquet source (hyparquet + hyparquet-compressors), read one row group at a time.
//
// Why this exists: Hugging Face data sets are published as Parquet. Reading row group by row group bounds
// memory by the largest row group, not the file. INT64 columns arrive from hyparquet as BigInt; JSON-like
// rows need numbers, so a BigInt becomes a number when it is a safe integer (|v| ≤ 2^53 − 1) and a decimal
// string otherwise (never a silently rounded number).

import { asyncBufferFromFile, parquetMetadataAsync, parquetReadObjects } from "hyparquet";
import { compressors } from "hyparquet-compressors";
import { DataError, errorText } from "../errors.js";
import type { Row, RowStream } from "../row.js";
import { checkReadable } from "./files.js";

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/** Safe conversion of hyparquet values: BigInt → number or string, recursively through lists and structs. */
export function fromParquetValue(v: unknown): unknown {
  if (typeof v === "bigint") return v <= MAX_SAFE && v >= -MAX_SAFE ? Number(v) : v.toString();
  if (Array.isArray(v)) return v.map(fromParquetValue);
  if (v !== null && typeof v === "object" && Object.getPrototypeOf(v) === Object.prototype) {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = fromParquetValue(x);
    return out;
  }
  return v;
}

/** Rows of a Parquet file; `row` is the absolute 0-based row index. */
export function readParquet(file: string): RowStream {
  return {
    async *[Symbol.asyncIterator]() {
      await checkReadable(file);
      const buffer = await asyncBufferFromFile(file);
      const metadata = await guard(file, () => parquetMetadataAsync(buffer));
      let rowStart = 0;
      for (const group of metadata.row_groups) {
        const n = Number(group.num_rows);
        const objects = await guard(file, () =>
          parquetReadObjects({ file: buffer, metadata, rowStart, rowEnd: rowStart + n, compressors }),
        );
        for (let i = 0; i < objects.length; i++) {
          const values = fromParquetValue(objects[i]) as Record<string, unknown>;
          const out: Row = { values, origin: { file, format: "parquet", row: rowStart + i } };
          yield out;
        }
        rowStart += n;
      }
    },
  };
}

async function guard<T>(file: string, f: () => Promise<T>): Promise<T> {
  try {
    return await f();
  } catch (e) {
    throw new DataError({
      code: "T5502",
      message: `malformed Parquet file ${file}: ${errorText(e)}`,
      hint: "check that the file is complete Parquet (magic PAR1 at both ends); re-export it if needed",
    });
  }
}

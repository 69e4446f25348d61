// File access helpers shared by the sources.
//
// Why this exists: every source must turn "file not found", "is a directory" and read errors into the same
// T5501 DataError, and read text in bounded chunks; doing it once keeps the readers about parsing only.

import { createReadStream, promises as fsp } from "node:fs";
import { DataError, errorText } from "../errors.js";

/** Chunk size for text reads: memory per open source is about this much, independent of file size. */
export const CHUNK_BYTES = 1 << 20;

/** Fail early with T5501 when `file` is missing, a directory or unreadable. */
export async function checkReadable(file: string): Promise<void> {
  let isFile = false;
  try {
    isFile = (await fsp.stat(file)).isFile();
  } catch (e) {
    throw readError(file, e);
  }
  if (!isFile) {
    throw new DataError({
      code: "T5501",
      message: `data file ${file} is not a regular file`,
      hint: "point the source at a .json, .jsonl, .csv or .parquet file",
    });
  }
}

export function readError(file: string, e: unknown): DataError {
  const code = (e as { code?: string }).code;
  const what = code === "ENOENT" ? "does not exist" : `cannot be read (${errorText(e)})`;
  return new DataError({
    code: "T5501",
    message: `data file ${file} ${what}`,
    hint: "check the path; relative paths are resolved from the directory tune runs in",
  });
}

/** UTF-8 text of `file` in chunks of about CHUNK_BYTES (multi-byte characters are never split). */
export async function* textChunks(file: string): AsyncGenerator<string> {
  await checkReadable(file);
  const stream = createReadStream(file, { encoding: "utf8", highWaterMark: CHUNK_BYTES });
  try {
    for await (const chunk of stream) yield chunk as string;
  } catch (e) {
    throw readError(file, e);
  } finally {
    stream.destroy();
  }
}

/**
 * Lines of `file` with 1-based line numbers (\n, \r\n and a lone trailing \r handled; a BOM on line 1 is
 * dropped). Streams: holds one chunk plus the current partial line.
 */
export async function* textLines(file: string): AsyncGenerator<{ line: number; text: string }> {
  let carry = "";
  let line = 0;
  let first = true;
  for await (let chunk of textChunks(file)) {
    if (first) {
      if (chunk.charCodeAt(0) === 0xfeff) chunk = chunk.slice(1);
      first = false;
    }
    let start = 0;
    let nl = chunk.indexOf("\n", start);
    while (nl !== -1) {
      const piece = carry + chunk.slice(start, nl);
      carry = "";
      line++;
      yield { line, text: piece.endsWith("\r") ? piece.slice(0, -1) : piece };
      start = nl + 1;
      nl = chunk.indexOf("\n", start);
    }
    carry += chunk.slice(start);
  }
  if (carry.length > 0) {
    line++;
    yield { line, text: carry.endsWith("\r") ? carry.slice(0, -1) : carry };
  }
}

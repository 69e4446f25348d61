// Append-only line files of a run (run.log, metrics.jsonl): one write(2) per line, fsync at most once a second.
//
// Why this exists: metrics and logs are the record of a run that may be killed at any moment. Each line goes to
// the kernel in a single O_APPEND write as soon as it is produced, so `kill -9` loses nothing already appended;
// a power loss loses at most the last second. A torn last line (power loss mid-write) is terminated when the file
// is reopened, so the next record never fuses with it, and readers skip it (`readJsonLines`).

import { closeSync, fsyncSync, openSync, readFileSync, readSync, fstatSync, writeSync } from "node:fs";

export class LineAppender {
  private fd: number | null;
  private lastSync = 0;

  constructor(
    readonly path: string,
    private readonly syncEveryMs = 1000,
  ) {
    this.fd = openSync(path, "a+");
    const size = fstatSync(this.fd).size;
    if (size > 0) {
      const last = Buffer.alloc(1);
      readSync(this.fd, last, 0, 1, size - 1);
      if (last[0] !== 0x0a) writeSync(this.fd, "\n");
    }
  }

  /** Append one line (a trailing newline is added; embedded newlines are the caller's business). */
  append(line: string): void {
    if (this.fd === null) throw new Error(`${this.path} is closed`);
    writeSync(this.fd, Buffer.from(line + "\n"));
    const now = Date.now();
    if (now - this.lastSync >= this.syncEveryMs) this.sync(now);
  }

  sync(now = Date.now()): void {
    if (this.fd === null) return;
    fsyncSync(this.fd);
    this.lastSync = now;
  }

  close(): void {
    if (this.fd === null) return;
    this.sync();
    closeSync(this.fd);
    this.fd = null;
  }
}

export interface JsonLines<T> {
  readonly records: T[];
  /** 1-based line numbers of lines that are not JSON objects (a torn tail after a crash, or damage). */
  readonly badLines: number[];
}

/** Read a JSON-lines file, skipping (and reporting) lines that do not parse as objects. Missing file → empty. */
export function readJsonLines<T = Record<string, unknown>>(path: string): JsonLines<T> {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch {
    return { records: [], badLines: [] };
  }
  const records: T[] = [];
  const badLines: number[] = [];
  text.split("\n").forEach((line, i) => {
    if (!line.trim()) return;
    try {
      const v = JSON.parse(line) as unknown;
      if (v && typeof v === "object" && !Array.isArray(v)) records.push(v as T);
      else badLines.push(i + 1);
    } catch {
      badLines.push(i + 1);
    }
  });
  return { records, badLines };
}

// A persistent cache of judge replies, so re-running a scoring or a judged eval costs nothing.
//
// Why this exists: judging 52k Alpaca rows with a hosted model costs money and hours; a crash at row 40k, a
// changed filter threshold or a re-run of the report must not pay again. Keys are
// sha256(judge identity, prompt name, rendered messages, sampling settings): a different model, prompt text,
// row or temperature is a miss, never a stale hit, and the recipe's name for the judge is not part of it.
//
// Storage: one JSONL file (`replies.jsonl`) in the directory the caller gives, appended to one line per reply.
// Each line goes out in a single write on an O_APPEND descriptor, so concurrent writers never interleave inside a
// line; a line torn by a crash fails to parse on the next load and is skipped (counted in `skippedLines`), and
// the file is first ended with a newline so the next append starts clean. No fsync per reply: a crash may lose
// the last few replies, which only costs asking again; `close()` syncs.

import { createHash } from "node:crypto";
import { mkdir, open, readFile, type FileHandle } from "node:fs/promises";
import { join } from "node:path";
import { JudgeError, errorText } from "./errors.js";
import type { ChatMessage, SamplingOptions } from "./types.js";

export const CACHE_FILE = "replies.jsonl";
/** Bumped when the key recipe changes, so old entries stop matching instead of matching wrongly. */
const KEY_VERSION = 1;

/** The cache key of one request. */
export function replyKey(judgeId: string, promptName: string, messages: readonly ChatMessage[], s: SamplingOptions): string {
  const canonical = JSON.stringify([
    KEY_VERSION,
    judgeId,
    promptName,
    messages.map((m) => [m.role, m.content]),
    [s.maxTokens, s.temperature, s.seed ?? null],
  ]);
  return createHash("sha256").update(canonical, "utf8").digest("hex");
}

interface Entry {
  k: string;
  r: string;
  /** Judge id and prompt name, for people reading the file; not used for lookup. */
  j?: string;
  p?: string;
}

export class ReplyCache {
  private constructor(
    readonly path: string,
    private readonly map: Map<string, string>,
    private readonly fh: FileHandle,
    /** Lines that did not parse on load (a torn last line after a crash, or foreign text). */
    readonly skippedLines: number,
  ) {}

  /** Open (creating the directory and file) and load every entry. */
  static async open(dir: string): Promise<ReplyCache> {
    const path = join(dir, CACHE_FILE);
    try {
      await mkdir(dir, { recursive: true });
      const text = await readFile(path, "utf8").catch((e: NodeJS.ErrnoException) => {
        if (e.code === "ENOENT") return "";
        throw e;
      });
      const map = new Map<string, string>();
      let skipped = 0;
      for (const line of text.split("\n")) {
        if (!line) continue;
        const e = parseEntry(line);
        if (e) map.set(e.k, e.r);
        else skipped++;
      }
      const fh = await open(path, "a");
      if (text.length > 0 && !text.endsWith("\n")) await writeLine(fh, "\n");
      return new ReplyCache(path, map, fh, skipped);
    } catch (e) {
      throw new JudgeError({
        code: "T5611",
        message: `cannot open the judge reply cache ${path}: ${errorText(e)}`,
        hint: "check that the run directory is writable; deleting the file only means replies are requested again",
      });
    }
  }

  get size(): number {
    return this.map.size;
  }

  get(key: string): string | undefined {
    return this.map.get(key);
  }

  /** Remember a reply and append it to the file. */
  async put(key: string, reply: string, meta: { judge?: string; prompt?: string } = {}): Promise<void> {
    this.map.set(key, reply);
    const e: Entry = { k: key, r: reply, j: meta.judge, p: meta.prompt };
    try {
      await writeLine(this.fh, JSON.stringify(e) + "\n");
    } catch (err) {
      throw new JudgeError({
        code: "T5611",
        message: `cannot append to the judge reply cache ${this.path}: ${errorText(err)}`,
        hint: "the disk may be full; replies already written stay valid",
      });
    }
  }

  async close(): Promise<void> {
    await this.fh.sync().catch(() => undefined);
    await this.fh.close();
  }
}

function parseEntry(line: string): Entry | null {
  try {
    const e = JSON.parse(line) as Partial<Entry> | null;
    return e && typeof e.k === "string" && typeof e.r === "string" ? (e as Entry) : null;
  } catch {
    return null;
  }
}

/** One write call for the whole line (O_APPEND keeps it contiguous); loops only on a short write. */
async function writeLine(fh: FileHandle, line: string): Promise<void> {
  const buf = Buffer.from(line, "utf8");
  let off = 0;
  while (off < buf.length) {
    const { bytesWritten } = await fh.write(buf, off, buf.length - off);
    off += bytesWritten;
  }
}

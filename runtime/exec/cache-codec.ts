// How the executor's rows, tokens and result values are written into a cache
// entry and read back (models: cache-model.ts). Plain JSON loses what rows
// and eval results can hold — NaN stderrs, -0, undefined fields, BigInt,
// byte arrays — and a result's absolute paths point into the run directory
// that produced it. The tagged JSON below keeps every such value exactly and
// stores run-directory paths relative, so a cached value restored into a new
// run is the value the node would have returned there.
//
// Layout of one port's directory: rows → rows.json (count) + rows.jsonl;
// tokens → tokens.json + examples.jsonl + pairs.jsonl; result → result.json
// (its files are copied by cache.ts with the node's other run-directory files).
//
// Rows are written as they stream (a lazy value is read once, never held), and
// a rows.jsonl larger than the streaming threshold (ops/data.ts) is read back
// as a lazy value over the entry's file: its line count is checked now, each
// row decoded when a pass reaches it.
import { open, readFile, stat, writeFile, type FileHandle } from "node:fs/promises";
import { isAbsolute, join, relative, sep } from "node:path";
import type { Row, RowStream } from "../data/row.js";
import { textLines } from "../data/sources/files.js";
import type { TokenizedExample } from "../data/tokenize.js";
import { streamThresholdBytes } from "./ops/data.js";
import type { ResultValue, RowsValue, TokensValue } from "./types.js";

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** A value the codec cannot represent, or an entry file that does not decode: the node is recomputed. */
export class CodecError extends Error {}

/** Paths under `runDir` are stored relative to it and restored under the run directory reading them. */
export interface PathContext {
  readonly runDir: string;
}

const TAG = "$t";
const TYPED: Record<string, (b: Buffer) => ArrayBufferView> = {
  Uint8Array: (b) => new Uint8Array(b),
  Int32Array: (b) => new Int32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength)),
  Float32Array: (b) => new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength)),
  Float64Array: (b) => new Float64Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength)),
};

// ---- tagged JSON

/** `v` as JSON that `decodeTagged` turns back into an equal value; throws CodecError for anything else. */
export function encodeTagged(v: unknown, ctx: PathContext, at = "value"): Json {
  switch (typeof v) {
    case "undefined":
      return { [TAG]: "undef" };
    case "boolean":
      return v;
    case "bigint":
      return { [TAG]: "bigint", v: v.toString() };
    case "number":
      if (Number.isNaN(v) || !Number.isFinite(v) || Object.is(v, -0)) return { [TAG]: "num", v: Object.is(v, -0) ? "-0" : String(v) };
      return v;
    case "string": {
      const rel = underRunDir(v, ctx.runDir);
      return rel === null ? v : { [TAG]: "run", v: rel };
    }
    case "object":
      break;
    default:
      throw new CodecError(`${at} is a ${typeof v}, which the cache cannot store`);
  }
  if (v === null) return null;
  if (Array.isArray(v)) return v.map((x, i) => encodeTagged(x, ctx, `${at}[${i}]`));
  if (v instanceof Date) return { [TAG]: "date", v: v.toISOString() };
  if (ArrayBuffer.isView(v)) {
    const name = v.constructor.name;
    if (!(name in TYPED)) throw new CodecError(`${at} is a ${name}, which the cache cannot store`);
    return { [TAG]: "typed", type: name, v: Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString("base64") };
  }
  const proto = Object.getPrototypeOf(v) as unknown;
  if (proto !== Object.prototype && proto !== null) throw new CodecError(`${at} is a ${(v as object).constructor?.name ?? "class instance"}, which the cache cannot store`);
  const out: { [key: string]: Json } = {};
  for (const [k, x] of Object.entries(v)) out[k] = encodeTagged(x, ctx, `${at}.${k}`);
  return TAG in out ? { [TAG]: "obj", v: out } : out;
}

export function decodeTagged(j: unknown, ctx: PathContext): unknown {
  if (j === null || typeof j !== "object") return j;
  if (Array.isArray(j)) return j.map((x) => decodeTagged(x, ctx));
  const o = j as Record<string, unknown>;
  if (!(TAG in o)) return decodeEntries(o, ctx);
  const v = o["v"];
  switch (o[TAG]) {
    case "undef":
      return undefined;
    case "bigint":
      return BigInt(String(v));
    case "num":
      return v === "-0" ? -0 : Number(v);
    case "run":
      return join(ctx.runDir, ...String(v).split("/"));
    case "date":
      return new Date(String(v));
    case "typed": {
      const make = TYPED[String(o["type"])];
      if (!make) throw new CodecError(`unknown typed array ${String(o["type"])}`);
      return make(Buffer.from(String(v), "base64"));
    }
    case "obj":
      return decodeEntries(v as Record<string, unknown>, ctx);
    default:
      throw new CodecError(`unknown tag ${JSON.stringify(o[TAG])}`);
  }
}

function decodeEntries(o: Record<string, unknown>, ctx: PathContext): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(o)) out[k] = decodeTagged(x, ctx);
  return out;
}

/** `path` relative to `runDir` with `/` separators when it lies inside it (or is it), else null. */
export function underRunDir(path: string, runDir: string): string | null {
  if (!isAbsolute(path) || !runDir) return null;
  if (path === runDir) return ".";
  if (!path.startsWith(runDir.endsWith(sep) ? runDir : runDir + sep)) return null;
  return relative(runDir, path).split(sep).join("/");
}

// ---- JSON lines

async function writeLines(path: string, items: readonly unknown[], ctx: PathContext, what: string): Promise<void> {
  const lines = items.map((x, i) => JSON.stringify(encodeTagged(x, ctx, `${what}[${i}]`)));
  await writeFile(path, lines.length > 0 ? lines.join("\n") + "\n" : "");
}

async function readLines(path: string, ctx: PathContext, expected: number): Promise<unknown[]> {
  const text = await readFile(path, "utf8");
  const lines = text.split("\n").filter((l) => l !== "");
  if (lines.length !== expected) throw new CodecError(`${path}: ${lines.length} lines, expected ${expected}`);
  return lines.map((l) => decodeTagged(JSON.parse(l) as unknown, ctx));
}

async function readJson(path: string): Promise<Record<string, unknown>> {
  const v = JSON.parse(await readFile(path, "utf8")) as unknown;
  if (!v || typeof v !== "object" || Array.isArray(v)) throw new CodecError(`${path} is not a JSON object`);
  return v as Record<string, unknown>;
}

function checkRows(rows: unknown[], path: string): Row[] {
  for (const r of rows) {
    const row = r as Partial<Row> | null;
    if (!row || typeof row.values !== "object" || !row.origin || typeof row.origin.row !== "number") throw new CodecError(`${path}: a line is not a row`);
  }
  return rows as Row[];
}

// ---- rows

/** Write `items` as JSON lines in ~1 MiB writes; returns how many. */
export async function writeJsonl(path: string, items: Iterable<unknown> | AsyncIterable<unknown>, encode: (x: unknown, i: number) => string): Promise<number> {
  const fh = await open(path, "w");
  try {
    let buf = "";
    let n = 0;
    for await (const x of items) {
      buf += encode(x, n++) + "\n";
      if (buf.length >= 1 << 20) {
        await writeAll(fh, buf);
        buf = "";
      }
    }
    await writeAll(fh, buf);
    return n;
  } finally {
    await fh.close();
  }
}

async function writeAll(fh: FileHandle, text: string): Promise<void> {
  const b = Buffer.from(text, "utf8");
  for (let off = 0; off < b.length; ) off += (await fh.write(b, off, b.length - off)).bytesWritten;
}

export async function writeRows(dir: string, v: RowsValue, ctx: PathContext): Promise<void> {
  const count = await writeJsonl(join(dir, "rows.jsonl"), v.rows ?? v.stream(), (r, i) => JSON.stringify(encodeTagged(r, ctx, `rows[${i}]`)));
  await writeFile(join(dir, "rows.json"), JSON.stringify({ count }) + "\n");
}

export async function readRows(dir: string, ctx: PathContext): Promise<RowsValue> {
  const { count } = await readJson(join(dir, "rows.json"));
  if (typeof count !== "number") throw new CodecError(`${dir}/rows.json has no count`);
  const path = join(dir, "rows.jsonl");
  if ((await stat(path)).size <= streamThresholdBytes()) return { kind: "rows", rows: checkRows(await readLines(path, ctx, count), path) };
  let lines = 0;
  for await (const { text } of textLines(path)) if (text !== "") lines++;
  if (lines !== count) throw new CodecError(`${path}: ${lines} lines, expected ${count}`);
  const rows: RowStream = {
    async *[Symbol.asyncIterator]() {
      for await (const { text } of textLines(path)) {
        if (text === "") continue;
        yield checkRows([decodeTagged(JSON.parse(text) as unknown, ctx)], path)[0]!;
      }
    },
  };
  return { kind: "rows", stream: () => rows, source: `the cached ${path}` };
}

// ---- tokens

export async function writeTokens(dir: string, v: TokensValue, ctx: PathContext): Promise<void> {
  const head = { method: v.method, template: encodeTagged(v.template, ctx, "template"), truncated: v.truncated, dropped: v.dropped, examples: v.examples.length, pairs: v.pairs.length };
  await writeFile(join(dir, "tokens.json"), JSON.stringify(head) + "\n");
  await writeLines(join(dir, "examples.jsonl"), v.examples, ctx, "examples");
  await writeLines(join(dir, "pairs.jsonl"), v.pairs, ctx, "pairs");
}

export async function readTokens(dir: string, ctx: PathContext): Promise<TokensValue> {
  const h = await readJson(join(dir, "tokens.json"));
  const { method, truncated, dropped, examples, pairs } = h;
  if (typeof method !== "string" || typeof truncated !== "number" || typeof dropped !== "number" || typeof examples !== "number" || typeof pairs !== "number") {
    throw new CodecError(`${dir}/tokens.json is incomplete`);
  }
  const ex = (await readLines(join(dir, "examples.jsonl"), ctx, examples)) as TokenizedExample[];
  for (const e of ex) if (!Array.isArray(e?.inputIds) || !Array.isArray(e.labels)) throw new CodecError(`${dir}/examples.jsonl: a line is not a tokenized example`);
  const pairRows = checkRows(await readLines(join(dir, "pairs.jsonl"), ctx, pairs), join(dir, "pairs.jsonl"));
  const template = decodeTagged(h["template"], ctx) as Record<string, unknown>;
  return { kind: "tokens", method, examples: ex, pairs: pairRows, template, truncated, dropped };
}

// ---- results

/** The result's files relative to the run directory; a file outside it cannot be restored, so the value is not cached. */
export function resultFiles(v: ResultValue, ctx: PathContext): string[] {
  return v.files.map((f) => {
    const rel = underRunDir(f, ctx.runDir);
    if (rel === null || rel === ".") throw new CodecError(`result file ${f} is not inside the run directory ${ctx.runDir}`);
    return rel;
  });
}

export async function writeResult(dir: string, v: ResultValue, ctx: PathContext): Promise<void> {
  const body = { data: encodeTagged(v.data, ctx, "data"), files: resultFiles(v, ctx) };
  await writeFile(join(dir, "result.json"), JSON.stringify(body) + "\n");
}

export async function readResult(dir: string, ctx: PathContext): Promise<ResultValue> {
  const body = await readJson(join(dir, "result.json"));
  const files = body["files"];
  if (!Array.isArray(files) || !files.every((f) => typeof f === "string")) throw new CodecError(`${dir}/result.json has no file list`);
  const data = decodeTagged(body["data"], ctx);
  if (!data || typeof data !== "object") throw new CodecError(`${dir}/result.json has no data`);
  return { kind: "result", data: data as Record<string, unknown>, files: files.map((f) => join(ctx.runDir, ...(f as string).split("/"))) };
}

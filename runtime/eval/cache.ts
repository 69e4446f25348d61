// Request cache keyed by model identity: re-running an eval (or the base model of a base-vs-finetuned
// comparison) must not recompute identical loglikelihood/generation requests. Keys hash the model id, the
// task (name and version), the request kind and the request, so a changed prompt, task or model is a miss,
// never a stale hit. `EvalModel.id` must name the weights, never a stage name (runtime/exec/eval-model.ts):
// lm-eval keyed by name returns model A's answers for model B when one cache is shared.
//
// JsonlFileCache persists one model's answers as append-only JSON lines, one write(2) per line (LineAppender).
// A `kill -9` mid-append leaves a torn last line: it is ignored with a warning, and the appender terminates it
// before the next record. Damaged lines anywhere are skipped and counted, never fatal: the cache may cost a
// recomputation, never a run. A damaged file is rewritten with its good records, so the warning comes once.

import { createHash } from "node:crypto";
import { mkdirSync, readFileSync } from "node:fs";
import { dirname } from "node:path";
import { writeFileAtomicSync } from "../store/fsx.js";
import { LineAppender } from "../store/appender.js";
import type { EvalModel, GenerateRequest, LoglikelihoodRequest, LoglikelihoodResult } from "./types.js";

export interface RequestCache {
  get(key: string): unknown;
  set(key: string, value: unknown): void;
}

export function cacheKey(modelId: string, kind: string, req: unknown): string {
  return createHash("sha256").update(JSON.stringify([modelId, kind, req])).digest("hex");
}

export class MemoryCache implements RequestCache {
  private readonly map = new Map<string, unknown>();
  get(key: string): unknown {
    return this.map.get(key);
  }
  set(key: string, value: unknown): void {
    this.map.set(key, value);
  }
  get size(): number {
    return this.map.size;
  }
}

/** What loading a cache file found. */
export interface CacheFileLoad {
  readonly entries: number;
  /** The last line had no newline and did not parse: a write cut short (kill -9, power loss); ignored. */
  readonly tornTail: boolean;
  /** Other lines that are not `{"k": "<key>", "v": …}` records; skipped. */
  readonly corrupted: number;
}

export interface JsonlFileCacheOptions {
  /** Where warnings about a torn or damaged file go (default: stderr). */
  warn?: (message: string) => void;
}

/** Append-only JSONL file of `{"k": key, "v": value}` lines, loaded once; a later line wins for the same key. */
export class JsonlFileCache implements RequestCache {
  private readonly map = new Map<string, unknown>();
  private appender: LineAppender | null = null;
  private writeFailed = false;
  private readonly warn: (message: string) => void;
  readonly load: CacheFileLoad;

  constructor(
    readonly path: string,
    opts: JsonlFileCacheOptions = {},
  ) {
    this.warn = opts.warn ?? ((m: string) => process.stderr.write(`warning: ${m}\n`));
    this.load = this.read();
    const warn = this.warn;
    if (this.load.tornTail) warn(`${path}: ignored a torn last line (a write was interrupted); its request will be recomputed`);
    if (this.load.corrupted > 0) warn(`${path}: skipped ${this.load.corrupted} damaged line${this.load.corrupted === 1 ? "" : "s"}; their requests will be recomputed`);
    if (this.load.tornTail || this.load.corrupted > 0) this.compact();
  }

  /**
   * Rewrite the file with the good records only (atomically), so damage is reported once, not on every load.
   * A process appending at the same moment may lose its later lines to the old file: cache misses, never errors.
   */
  private compact(): void {
    try {
      writeFileAtomicSync(this.path, [...this.map].map(([k, v]) => JSON.stringify({ k, v }) + "\n").join(""));
    } catch (e) {
      this.warn(`${this.path}: cannot rewrite without the damaged lines (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    }
  }

  private read(): CacheFileLoad {
    let text: string;
    try {
      text = readFileSync(this.path, "utf8");
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== "ENOENT") {
        // Unreadable (a folder in the way, permissions): run without it rather than append blindly.
        this.writeFailed = true;
        this.warn(`${this.path}: cannot read (${code ?? (e as Error).message}); requests are computed and not stored`);
      }
      return { entries: 0, tornTail: false, corrupted: 0 };
    }
    const lines = text.split("\n");
    const last = lines.length - 1; // text after the final newline ("" when the file ends cleanly)
    let tornTail = false;
    let corrupted = 0;
    lines.forEach((line, i) => {
      if (!line.trim()) return;
      const rec = parseRecord(line);
      if (rec) this.map.set(rec.k, rec.v);
      else if (i === last) tornTail = true;
      else corrupted++;
    });
    return { entries: this.map.size, tornTail, corrupted };
  }

  get(key: string): unknown {
    return this.map.get(key);
  }

  /** Remember and append; a write that fails (full disk, read-only cache) is reported once and the rest kept in memory. */
  set(key: string, value: unknown): void {
    this.map.set(key, value);
    if (this.writeFailed) return;
    try {
      if (!this.appender) {
        mkdirSync(dirname(this.path), { recursive: true });
        this.appender = new LineAppender(this.path); // terminates a torn last line first
      }
      this.appender.append(JSON.stringify({ k: key, v: value }));
    } catch (e) {
      this.writeFailed = true;
      this.warn(`${this.path}: cannot append (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); answers of this run are not cached`);
    }
  }

  get size(): number {
    return this.map.size;
  }

  /** Flush (fsync) and close the file; later `set`s reopen it. */
  close(): void {
    this.appender?.close();
    this.appender = null;
  }
}

function parseRecord(line: string): { k: string; v: unknown } | null {
  try {
    const r = JSON.parse(line) as unknown;
    if (!r || typeof r !== "object" || Array.isArray(r)) return null;
    const { k, v } = r as { k?: unknown; v?: unknown };
    return typeof k === "string" && v !== undefined ? { k, v } : null;
  } catch {
    return null;
  }
}

/** The task a request belongs to: part of its key (a new task version may change what a request means). */
export interface RequestScope {
  task: string;
  version: string | number | null;
}

/** Counters a caller passes in to see how many requests the cache answered. */
export interface RequestStats {
  requests: number;
  cached: number;
}

export interface CachedCallOptions {
  batchSize?: number;
  scope?: RequestScope;
  stats?: RequestStats;
}

async function cached<Req, Res>(
  reqs: Req[],
  keyOf: (r: Req) => string,
  valid: (v: unknown) => v is Res,
  cache: RequestCache | undefined,
  run: (missing: Req[]) => Promise<Res[]>,
  o: CachedCallOptions,
): Promise<Res[]> {
  const batchSize = o.batchSize ?? 1024;
  const keys = cache ? reqs.map(keyOf) : [];
  const out: (Res | undefined)[] = reqs.map((_, i) => {
    const v = cache?.get(keys[i]);
    return valid(v) ? v : undefined; // a value of the wrong shape (a damaged file) is recomputed
  });
  const missing = reqs.map((_, i) => i).filter((i) => out[i] === undefined);
  if (o.stats) {
    o.stats.requests += reqs.length;
    o.stats.cached += reqs.length - missing.length;
  }
  for (let start = 0; start < missing.length; start += batchSize) {
    const idx = missing.slice(start, start + batchSize);
    const res = await run(idx.map((i) => reqs[i]));
    if (res.length !== idx.length) throw new Error(`model returned ${res.length} results for ${idx.length} requests`);
    idx.forEach((i, j) => {
      out[i] = res[j];
      if (cache && valid(res[j])) cache.set(keys[i], res[j]); // −∞ or NaN would not survive JSON: not stored
    });
  }
  return out as Res[];
}

const isLoglikelihoodResult = (v: unknown): v is LoglikelihoodResult =>
  !!v && typeof v === "object" && Number.isFinite((v as LoglikelihoodResult).logprob) && typeof (v as LoglikelihoodResult).isGreedy === "boolean";
const isString = (v: unknown): v is string => typeof v === "string";

/** The key of a request: model id, task scope (when given), kind and request. Without a scope: the pre-scope key. */
function keyFn(model: EvalModel, kind: string, scope: RequestScope | undefined): (r: unknown) => string {
  return scope ? (r) => cacheKey(model.id, kind, { task: scope.task, version: scope.version, request: r }) : (r) => cacheKey(model.id, kind, r);
}

/** `opts`: a batch size (the old signature), or options with the task scope and counters. */
export function cachedLoglikelihood(model: EvalModel, reqs: LoglikelihoodRequest[], cache?: RequestCache, opts: number | CachedCallOptions = {}): Promise<LoglikelihoodResult[]> {
  const o = typeof opts === "number" ? { batchSize: opts } : opts;
  return cached(reqs, keyFn(model, "ll", o.scope), isLoglikelihoodResult, cache, (m) => model.loglikelihood(m), o);
}

export function cachedGenerate(model: EvalModel, reqs: GenerateRequest[], cache?: RequestCache, opts: number | CachedCallOptions = {}): Promise<string[]> {
  const o = typeof opts === "number" ? { batchSize: opts } : opts;
  return cached(reqs, keyFn(model, "gen", o.scope), isString, cache, (m) => model.generate(m), o);
}

// Request cache keyed by model identity: re-running an eval (or the base model of a base-vs-finetuned
// comparison) must not recompute identical loglikelihood/generation requests. Keys hash the model id, the
// request kind and the request, so a changed prompt or model is a miss, never a stale hit.

import { createHash } from "node:crypto";
import { appendFileSync, existsSync, readFileSync } from "node:fs";
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

/** Append-only JSONL file of [key, value] lines, loaded once. */
export class JsonlFileCache implements RequestCache {
  private readonly map = new Map<string, unknown>();
  constructor(private readonly path: string) {
    if (!existsSync(path)) return;
    for (const line of readFileSync(path, "utf8").split("\n")) {
      if (!line.trim()) continue;
      const [k, v] = JSON.parse(line) as [string, unknown];
      this.map.set(k, v);
    }
  }
  get(key: string): unknown {
    return this.map.get(key);
  }
  set(key: string, value: unknown): void {
    this.map.set(key, value);
    appendFileSync(this.path, JSON.stringify([key, value]) + "\n");
  }
}

async function cached<Req, Res>(
  reqs: Req[],
  keyOf: (r: Req) => string,
  cache: RequestCache | undefined,
  run: (missing: Req[]) => Promise<Res[]>,
  batchSize: number,
): Promise<Res[]> {
  const out: (Res | undefined)[] = reqs.map((r) => (cache ? (cache.get(keyOf(r)) as Res | undefined) : undefined));
  const missing = reqs.map((_, i) => i).filter((i) => out[i] === undefined);
  for (let start = 0; start < missing.length; start += batchSize) {
    const idx = missing.slice(start, start + batchSize);
    const res = await run(idx.map((i) => reqs[i]));
    if (res.length !== idx.length) throw new Error(`model returned ${res.length} results for ${idx.length} requests`);
    idx.forEach((i, j) => {
      out[i] = res[j];
      cache?.set(keyOf(reqs[i]), res[j]);
    });
  }
  return out as Res[];
}

export function cachedLoglikelihood(model: EvalModel, reqs: LoglikelihoodRequest[], cache?: RequestCache, batchSize = 1024): Promise<LoglikelihoodResult[]> {
  return cached(reqs, (r) => cacheKey(model.id, "ll", r), cache, (m) => model.loglikelihood(m), batchSize);
}

export function cachedGenerate(model: EvalModel, reqs: GenerateRequest[], cache?: RequestCache, batchSize = 1024): Promise<string[]> {
  return cached(reqs, (r) => cacheKey(model.id, "gen", r), cache, (m) => model.generate(m), batchSize);
}

// Concurrency limiting and retry timing for the endpoint judge.
//
// Why this exists: hosted APIs answer bursts with 429s, and vLLM/Ollama servers slow to a crawl when flooded, so
// the recipe's `concurrency` must be a hard cap on requests in flight and failures must back off. Backoff is
// exponential with "full jitter" in its upper half (delay = base·2^attempt · U[0.5, 1), capped), so parallel
// workers that failed together do not retry together; a server's Retry-After (or OpenAI's retry-after-ms) wins
// over the computed delay, capped at `maxMs` so a broken header cannot stall a run for hours.

/** A counting semaphore: at most `limit` holders; waiters are served first come, first served. */
export class Semaphore {
  private held = 0;
  private readonly waiters: (() => void)[] = [];

  constructor(readonly limit: number) {
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`semaphore limit must be a positive integer, got ${limit}`);
  }

  get inFlight(): number {
    return this.held;
  }

  async acquire(): Promise<void> {
    if (this.held < this.limit) {
      this.held++;
      return;
    }
    await new Promise<void>((resolve) => this.waiters.push(resolve));
  }

  /** Hand the slot to the next waiter (the count stays), or free it. */
  release(): void {
    const next = this.waiters.shift();
    if (next) next();
    else this.held--;
  }

  async run<T>(f: () => Promise<T>): Promise<T> {
    await this.acquire();
    try {
      return await f();
    } finally {
      this.release();
    }
  }
}

export interface BackoffOptions {
  /** Delay before the first retry, before jitter (ms). */
  baseMs: number;
  /** Cap on any delay, Retry-After included (ms). */
  maxMs: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { baseMs: 1000, maxMs: 60_000 };

/** Delay before retry number `attempt` (0 = first retry). `random` is injectable for tests. */
export function backoffDelay(attempt: number, opts: BackoffOptions, retryAfterMs: number | null, random: () => number = Math.random): number {
  if (retryAfterMs !== null) return Math.min(Math.max(0, retryAfterMs), opts.maxMs);
  const exp = Math.min(opts.baseMs * 2 ** attempt, opts.maxMs);
  return Math.round(exp * (0.5 + 0.5 * random()));
}

/**
 * The wait a response asks for: `retry-after-ms` (OpenAI, milliseconds), else `Retry-After` as delta-seconds or an
 * HTTP date (RFC 9110 §10.2.3). Null when absent or unreadable.
 */
export function retryAfterMs(headers: Headers, now: number = Date.now()): number | null {
  const ms = headers.get("retry-after-ms");
  if (ms !== null && /^\s*\d+(\.\d+)?\s*$/.test(ms)) return Number(ms);
  const ra = headers.get("retry-after");
  if (ra === null) return null;
  if (/^\s*\d+(\.\d+)?\s*$/.test(ra)) return Number(ra) * 1000;
  const at = Date.parse(ra);
  return Number.isNaN(at) ? null : Math.max(0, at - now);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

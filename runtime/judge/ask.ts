// Asking a judge many questions: cache first, then up to `concurrency` requests at a time.
//
// Why this exists: row scoring, pointwise and pairwise evals all do the same thing — render N conversations, reuse
// cached replies, send the rest with bounded parallelism, remember every new reply as soon as it arrives (so a
// crash loses nothing already paid for), and stop cleanly at the first fatal error. Results keep input order.

import { ReplyCache, replyKey } from "./cache.js";
import type { ChatMessage, Judge } from "./types.js";

export interface JudgeProgress {
  /** Conversations answered so far (cached or requested). */
  done: number;
  total: number;
  /** Replies requested from the judge in this call (not counting HTTP retries). */
  requests: number;
  /** Answered without a request: from the cache, or the same conversation asked earlier in this call. */
  cacheHits: number;
}

export interface AskResult {
  /** Reply per conversation; null where the conversation was null (nothing to ask). */
  replies: (string | null)[];
  requests: number;
  cacheHits: number;
}

/**
 * Conversation `i` of `n`, or null when there is nothing to ask. Called once to compute the cache key and again
 * when the request is sent, so 52k rendered prompts never sit in memory at once.
 */
export type Conversations = (i: number) => readonly ChatMessage[] | null;

/**
 * Replies to conversations 0…n−1. Opens the cache in `cacheDir` for the duration of the call. On a judge error,
 * lets the requests in flight finish (their replies are cached), then rethrows the first error.
 */
export async function askAll(
  judge: Judge,
  promptName: string,
  n: number,
  conversation: Conversations,
  cacheDir: string,
  onProgress?: (p: JudgeProgress) => void,
): Promise<AskResult> {
  const cache = await ReplyCache.open(cacheDir);
  try {
    return await askWithCache(judge, promptName, n, conversation, cache, onProgress);
  } finally {
    await cache.close();
  }
}

export async function askWithCache(
  judge: Judge,
  promptName: string,
  n: number,
  conversation: Conversations,
  cache: ReplyCache,
  onProgress?: (p: JudgeProgress) => void,
): Promise<AskResult> {
  const replies: (string | null)[] = new Array<string | null>(n).fill(null);
  // One request per distinct conversation: later copies reuse the reply (and count as cache hits).
  const todo = new Map<string, number[]>();
  let total = 0;
  let cacheHits = 0;
  for (let i = 0; i < n; i++) {
    const c = conversation(i);
    if (c === null) continue;
    total++;
    const key = replyKey(judge.id, promptName, c, judge.sampling);
    const hit = cache.get(key);
    if (hit !== undefined) {
      replies[i] = hit;
      cacheHits++;
    } else {
      const same = todo.get(key);
      if (same) {
        same.push(i);
        cacheHits++;
      } else todo.set(key, [i]);
    }
  }
  let requests = 0;
  let done = total - [...todo.values()].reduce((sum, is) => sum + is.length, 0);
  const report = (): void => onProgress?.({ done, total, requests, cacheHits });
  if (done > 0) report();

  const queue = [...todo.entries()];
  let next = 0;
  let failure: unknown = null;
  const worker = async (): Promise<void> => {
    while (failure === null && next < queue.length) {
      const [key, indices] = queue[next++];
      try {
        requests++;
        const reply = await judge.complete(conversation(indices[0])!);
        await cache.put(key, reply, { judge: judge.id, prompt: promptName });
        for (const i of indices) replies[i] = reply;
        done += indices.length;
        report();
      } catch (e) {
        if (failure === null) failure = e;
      }
    }
  };
  const workers = Math.max(1, Math.min(judge.concurrency, queue.length));
  await Promise.all(Array.from({ length: workers }, worker));
  if (failure !== null) throw failure;
  return { replies, requests, cacheHits };
}

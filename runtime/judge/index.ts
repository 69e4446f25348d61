// Public API of tune's judge layer: the judge client (endpoint or local model), the reply cache, row scoring and
// judged evals.
//
// Why this exists: the executor's `score`, `judge` and `win_rate` handlers import from one place. File map:
//   types.ts (Judge, LocalGenerator) · build.ts (node params → Judge) · openai.ts (chat-completions client) ·
//   local.ts (in-process model) · limit.ts (semaphore, backoff, Retry-After) · cache.ts (reply cache) ·
//   ask.ts (cache + bounded parallelism) · prompt.ts (render + parse) · score.ts (scoreRows) · evals.ts
//   (judgeResponses, winRate) · errors.ts (T56xx).

export * from "./types.js";
export * from "./errors.js";
export * from "./build.js";
export * from "./openai.js";
export * from "./local.js";
export * from "./limit.js";
export * from "./cache.js";
export * from "./ask.js";
export * from "./prompt.js";
export * from "./score.js";
export * from "./evals.js";

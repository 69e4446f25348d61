// The judge contract: one `complete(messages)` call, whatever answers it.
//
// Why this exists: a recipe's judge is either an OpenAI-compatible endpoint (vLLM, Ollama, a hosted API) or a
// model our runtime runs in-process. Scoring and judged evals must not care which, so both are a `Judge`; the
// cache keys on `Judge.id`, which names the model that answers (endpoint + api_model, or the local model's id)
// and never the recipe's name for it, so renaming a judge block keeps its cached replies.

export type ChatRole = "system" | "user" | "assistant";

export interface ChatMessage {
  role: ChatRole;
  content: string;
}

/** Sampling settings of one request. `seed` is sent when not null (OpenAI, vLLM and Ollama accept it). */
export interface SamplingOptions {
  maxTokens: number;
  temperature: number;
  seed: number | null;
}

/** Counters a judge keeps across calls (for reports and tests). */
export interface JudgeCounters {
  /** Requests that reached the model (HTTP attempts, or local generations), retries included. */
  requests: number;
  /** Attempts that were retried (429, 5xx, network errors, timeouts). */
  retries: number;
}

export interface Judge {
  /** Identity for cache keys: `openai:<endpoint>|<api_model>` or `local:<model id>`. Holds no secret. */
  readonly id: string;
  /** The recipe's name for the judge (messages only). */
  readonly name: string;
  /** How many requests may be in flight at once (1 for a local model). */
  readonly concurrency: number;
  /** Sampling settings from the recipe; `complete` uses them where `opts` leaves a field out. */
  readonly sampling: SamplingOptions;
  readonly counters: JudgeCounters;
  /** The judge's reply text for one conversation. Throws JudgeError. */
  complete(messages: readonly ChatMessage[], opts?: Partial<SamplingOptions>): Promise<string>;
}

/**
 * A model run in-process (the executor implements this with the loaded Llama and its chat template).
 * `id` must identify the weights (and adapter), e.g. a content hash, so a cached reply is never reused for
 * another model.
 */
export interface LocalGenerator {
  id: string;
  generate(messages: { role: string; content: string }[], opts: SamplingOptions): Promise<string>;
}

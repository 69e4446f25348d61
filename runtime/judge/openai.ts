// A judge behind an OpenAI-compatible chat-completions endpoint (OpenAI, vLLM, Ollama, llama.cpp server, ...).
//
// Why this exists: this is what users actually run as a judge. One POST {base}/chat/completions per conversation
// with Node's built-in fetch (undici; no dependency), a hard cap on requests in flight, retries with jittered
// exponential backoff on 408/409/429/5xx, network errors and timeouts (the status set OpenAI's own SDK retries),
// honouring Retry-After, and a per-attempt timeout. Every failure becomes a JudgeError with a code and a hint.
// The API key is read from the environment variable the recipe names, only when a request is actually sent (a
// fully cached re-run needs no key), and it never appears in a message: server text is redacted.

import { JudgeError, errorText, excerpt, redact } from "./errors.js";
import { DEFAULT_BACKOFF, Semaphore, backoffDelay, retryAfterMs, sleep, type BackoffOptions } from "./limit.js";
import type { ChatMessage, Judge, JudgeCounters, SamplingOptions } from "./types.js";

export interface EndpointJudgeOptions {
  /** The recipe's name for the judge (messages only). */
  name: string;
  /** API base, e.g. "https://api.openai.com/v1" or "http://localhost:8000/v1". */
  endpoint: string;
  /** Model name sent in the request body. */
  apiModel: string;
  /** Environment variable holding the API key; null sends no Authorization header (local servers). */
  apiKeyEnv: string | null;
  sampling: SamplingOptions;
  concurrency: number;
  /** Retries after the first attempt. */
  retries: number;
  /** Per-attempt timeout (ms), headers and body; default 120 s. */
  timeoutMs?: number;
  backoff?: BackoffOptions;
  /** Where the key is looked up; default process.env. */
  env?: Readonly<Record<string, string | undefined>>;
  /** Jitter source; default Math.random. */
  random?: () => number;
}

export const DEFAULT_TIMEOUT_MS = 120_000;

/** Statuses retried (as the OpenAI SDK does): request timeout, conflict, rate limit, any server error. */
function retryable(status: number): boolean {
  return status === 408 || status === 409 || status === 429 || status >= 500;
}

/** `https://api.openai.com/v1/` → `https://api.openai.com/v1`; T5609 when not an http(s) URL. */
export function normaliseEndpoint(endpoint: string, judgeName: string): string {
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    throw new JudgeError({
      code: "T5609",
      message: `judge ${judgeName}: endpoint "${endpoint}" is not a URL`,
      hint: 'give the API base, e.g. endpoint = "https://api.openai.com/v1" or "http://localhost:8000/v1"',
    });
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new JudgeError({
      code: "T5609",
      message: `judge ${judgeName}: endpoint "${endpoint}" is not an http(s) URL`,
      hint: 'give the API base, e.g. endpoint = "https://api.openai.com/v1" or "http://localhost:8000/v1"',
    });
  }
  return endpoint.replace(/\/+$/, "");
}

/** A transient failure of one attempt: retried while attempts remain. */
interface Transient {
  kind: "status" | "network" | "timeout";
  detail: string;
  status?: number;
  waitMs: number | null;
}

export class EndpointJudge implements Judge {
  readonly id: string;
  readonly name: string;
  readonly concurrency: number;
  readonly sampling: SamplingOptions;
  readonly counters: JudgeCounters = { requests: 0, retries: 0 };
  readonly url: string;
  private readonly slots: Semaphore;
  private readonly opts: EndpointJudgeOptions;
  private readonly timeoutMs: number;

  constructor(opts: EndpointJudgeOptions) {
    const base = normaliseEndpoint(opts.endpoint, opts.name);
    this.opts = opts;
    this.name = opts.name;
    this.url = `${base}/chat/completions`;
    this.id = `openai:${base}|${opts.apiModel}`;
    this.concurrency = opts.concurrency;
    this.sampling = opts.sampling;
    this.slots = new Semaphore(opts.concurrency);
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  }

  /** Requests in flight right now (never above `concurrency`). */
  get inFlight(): number {
    return this.slots.inFlight;
  }

  async complete(messages: readonly ChatMessage[], opts: Partial<SamplingOptions> = {}): Promise<string> {
    const s = { ...this.sampling, ...opts };
    const body: Record<string, unknown> = {
      model: this.opts.apiModel,
      messages,
      temperature: s.temperature,
      max_tokens: s.maxTokens,
    };
    if (s.seed !== null && s.seed !== undefined) body.seed = s.seed;
    const headers: Record<string, string> = { "content-type": "application/json", accept: "application/json" };
    const key = this.apiKey();
    if (key !== undefined) headers.authorization = `Bearer ${key}`;
    return this.slots.run(() => this.send(JSON.stringify(body), headers, key));
  }

  /** The key from the environment; T5601 when the recipe names a variable that is unset or empty. */
  private apiKey(): string | undefined {
    const envName = this.opts.apiKeyEnv;
    if (envName === null) return undefined;
    const v = (this.opts.env ?? process.env)[envName];
    if (v === undefined || v.trim() === "") {
      throw new JudgeError({
        code: "T5601",
        message: `judge ${this.name} reads its API key from $${envName}, which is not set`,
        hint: `export ${envName}=<your key> before running (tune never prints or stores it); for a local server that needs no key, remove api_key_env`,
      });
    }
    return v.trim();
  }

  private async send(body: string, headers: Record<string, string>, key: string | undefined): Promise<string> {
    const backoff = this.opts.backoff ?? DEFAULT_BACKOFF;
    for (let attempt = 0; ; attempt++) {
      this.counters.requests++;
      const t = await this.attempt(body, headers, key);
      if (typeof t === "string") return t;
      if (attempt >= this.opts.retries) throw this.exhausted(t, attempt + 1);
      this.counters.retries++;
      await sleep(backoffDelay(attempt, backoff, t.waitMs, this.opts.random));
    }
  }

  /** One HTTP attempt: the reply text, a transient failure to retry, or a thrown fatal JudgeError. */
  private async attempt(body: string, headers: Record<string, string>, key: string | undefined): Promise<string | Transient> {
    let res: Response;
    let text: string;
    try {
      res = await fetch(this.url, { method: "POST", headers, body, signal: AbortSignal.timeout(this.timeoutMs) });
      text = await res.text();
    } catch (e) {
      if (isTimeout(e)) return { kind: "timeout", detail: `no complete answer within ${this.timeoutMs} ms`, waitMs: null };
      return { kind: "network", detail: networkCause(e), waitMs: null };
    }
    if (res.ok) return this.content(text, key);
    const said = redact(serverMessage(text), key);
    if (retryable(res.status)) return { kind: "status", status: res.status, detail: said, waitMs: retryAfterMs(res.headers) };
    throw this.fatal(res.status, said);
  }

  private content(text: string, key: string | undefined): string {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw this.badJson(`a body that is not JSON: ${excerpt(redact(text, key), 100)}`);
    }
    const choice = (json as { choices?: { message?: { content?: unknown } }[] } | null)?.choices?.[0];
    if (!choice || typeof choice !== "object" || !choice.message || typeof choice.message !== "object") {
      throw this.badJson(`JSON without choices[0].message: ${excerpt(redact(text, key), 100)}`);
    }
    return messageText(choice.message.content);
  }

  private badJson(what: string): JudgeError {
    return new JudgeError({
      code: "T5604",
      message: `${this.url} answered HTTP 200 with ${what}`,
      hint: "endpoint must be the base of an OpenAI-compatible API (it usually ends in /v1), not a web page or a proxy's login page",
    });
  }

  private fatal(status: number, said: string): JudgeError {
    const env = this.opts.apiKeyEnv;
    if (status === 401 || status === 403) {
      return new JudgeError({
        code: "T5602",
        status,
        message: env
          ? `${this.url} rejected the API key from $${env} (HTTP ${status}): ${said}`
          : `${this.url} requires an API key (HTTP ${status}), but judge ${this.name} names no api_key_env: ${said}`,
        hint: env
          ? `check that $${env} holds a valid key for this endpoint and that the account can use "${this.opts.apiModel}"`
          : 'add api_key_env = "NAME_OF_THE_VARIABLE" to the judge block and export that variable',
      });
    }
    if (status === 404) {
      return new JudgeError({
        code: "T5603",
        status,
        message: `${this.url} answered HTTP 404 for model "${this.opts.apiModel}": ${said}`,
        hint: `check api_model against the models the endpoint serves (GET ${this.url.replace(/\/chat\/completions$/, "/models")}) and that endpoint is the API base, e.g. http://localhost:8000/v1`,
      });
    }
    return new JudgeError({
      code: "T5608",
      status,
      message: `${this.url} refused the request (HTTP ${status}): ${said}`,
      hint: "the server's message says why; a prompt longer than the model's context needs a shorter prompt or a smaller max_tokens",
    });
  }

  private exhausted(t: Transient, attempts: number): JudgeError {
    const resume = "replies received so far are cached, so a re-run continues where this one stopped";
    if (t.kind === "network") {
      return new JudgeError({
        code: "T5605",
        message: `cannot reach ${this.url} (${t.detail}) after ${attempts} attempt(s)`,
        hint: `start the server or fix \`endpoint\` in judge ${this.name}; offline, set \`endpoint\` to a local OpenAI-compatible server (vLLM, Ollama) or use a local judge model (\`model = …\` in the judge block)`,
      });
    }
    if (t.kind === "timeout") {
      return new JudgeError({
        code: "T5606",
        message: `requests to ${this.url} timed out (${t.detail}) ${attempts} time(s)`,
        hint: `the server is overloaded or slow: lower \`concurrency\` or \`max_tokens\` of judge ${this.name}; ${resume}`,
      });
    }
    return new JudgeError({
      code: "T5607",
      status: t.status,
      message: `${this.url} answered HTTP ${t.status} ${attempts} time(s) in a row: ${t.detail}`,
      hint: `${t.status === 429 ? "the endpoint is rate limiting: lower `concurrency` or raise `retries`" : "the server is failing: check its logs"}; ${resume}`,
    });
  }
}

function isTimeout(e: unknown): boolean {
  const name = (e as { name?: unknown } | null)?.name;
  return name === "TimeoutError" || name === "AbortError";
}

/** "ECONNREFUSED 127.0.0.1:9", "ENOTFOUND api.example", or the error's message. */
function networkCause(e: unknown): string {
  const cause = (e as { cause?: { code?: unknown; message?: unknown } } | null)?.cause;
  if (cause && typeof cause.code === "string") {
    return typeof cause.message === "string" && cause.message.includes(cause.code) ? cause.message : cause.code;
  }
  return errorText(e);
}

/** The message of an error body: OpenAI `{error: {message}}`, Ollama `{error: "…"}`, else the text. */
function serverMessage(text: string): string {
  try {
    const j = JSON.parse(text) as { error?: unknown; message?: unknown; detail?: unknown };
    const err = j?.error;
    if (typeof err === "string") return excerpt(err, 200);
    if (err && typeof err === "object" && typeof (err as { message?: unknown }).message === "string") {
      return excerpt((err as { message: string }).message, 200);
    }
    if (typeof j?.message === "string") return excerpt(j.message, 200);
    if (typeof j?.detail === "string") return excerpt(j.detail, 200);
  } catch {
    // not JSON: fall through to the raw text
  }
  return text.trim() ? excerpt(text, 200) : "(empty body)";
}

/** `message.content` as text: a string, null (refusal or filtered: ""), or a list of text parts. */
function messageText(content: unknown): string {
  if (typeof content === "string") return content;
  if (Array.isArray(content)) {
    return content.map((p) => (p && typeof p === "object" && typeof (p as { text?: unknown }).text === "string" ? (p as { text: string }).text : "")).join("");
  }
  return "";
}

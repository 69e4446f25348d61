// Errors of the judge client: codes, located messages and hints.
//
// Why this exists: a judge run can fail far from the recipe (an unset API key, a wrong model name, a server that
// is down, a proxy that answers HTML). Each failure gets one code (T56xx, the data range's judge block), a first
// line that stands on its own and a hint saying what to change. Messages never contain the API key: anything a
// server echoes back is passed through `redact` first.

/** Catalogue of the T56xx codes raised by runtime/judge. */
export const JUDGE_CODES = {
  T5601: "the judge's API key environment variable is not set",
  T5602: "the endpoint rejected the API key",
  T5603: "the endpoint does not know the model (or the URL is wrong)",
  T5604: "the endpoint's reply is not chat-completions JSON",
  T5605: "the endpoint cannot be reached",
  T5606: "a judge request timed out",
  T5607: "the endpoint kept failing (rate limit or server error) after all retries",
  T5608: "the endpoint refused the request",
  T5609: "invalid judge settings",
  T5610: "the judge prompt or its inputs are invalid",
  T5611: "the reply cache cannot be read or written",
  T5612: "the local judge model failed",
} as const;

export type JudgeCode = keyof typeof JUDGE_CODES;

/**
 * Codes meaning "this judge cannot run here" rather than "the run is wrong": the executor may report the node as
 * not executable (missing key, nothing listening) and keep running the rest of the graph.
 */
const UNAVAILABLE: ReadonlySet<JudgeCode> = new Set<JudgeCode>(["T5601", "T5605"]);

export interface JudgeErrorInit {
  code: JudgeCode;
  message: string;
  hint: string;
  /** HTTP status, when the error comes from a response. */
  status?: number;
}

export class JudgeError extends Error {
  readonly code: JudgeCode;
  readonly hint: string;
  readonly status?: number;

  constructor(init: JudgeErrorInit) {
    super(init.message);
    this.name = "JudgeError";
    this.code = init.code;
    this.hint = init.hint;
    this.status = init.status;
  }

  /** True when the judge cannot be used from this machine (no key, endpoint unreachable). */
  get unavailable(): boolean {
    return UNAVAILABLE.has(this.code);
  }

  /** `error[T5602]: … \n  = help: …`, the shape the data errors use. */
  render(): string {
    return `error[${this.code}]: ${this.message}\n  = help: ${this.hint}`;
  }
}

/** Replace every occurrence of `secret` with *** (servers sometimes echo the key they were sent). */
export function redact(text: string, secret: string | undefined): string {
  return secret ? text.split(secret).join("***") : text;
}

/** A short single-line excerpt of a reply or body for messages and reports. */
export function excerpt(text: string, max = 120): string {
  const one = text.replace(/\s+/g, " ").trim();
  return one.length > max ? `${one.slice(0, max - 1)}…` : one;
}

export function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

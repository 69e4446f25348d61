// Building a Judge from a compiled graph node's `judge` params.
//
// Why this exists: the compiler lowers a `judge { … }` block into node params
// (`{name, endpoint?, api_model?, api_key_env?, temperature, max_tokens, concurrency, retries, seed?, model}`,
// `model` being the local model's recipe name or null). The executor passes those params as they are, plus a
// LocalGenerator when the node has a `judge_model` input; this module checks their shape (graph JSON is untyped
// at runtime) and picks the endpoint or the local judge. Defaults are the schema's (compiler/schema/blocks.ts).

import { JudgeError } from "./errors.js";
import type { BackoffOptions } from "./limit.js";
import { LocalJudge } from "./local.js";
import { EndpointJudge } from "./openai.js";
import type { Judge, LocalGenerator, SamplingOptions } from "./types.js";

/** The `judge` object of score / judge / win_rate node params. */
export interface JudgeParams {
  name: string;
  endpoint?: string | null;
  api_model?: string | null;
  api_key_env?: string | null;
  temperature?: number;
  max_tokens?: number;
  concurrency?: number;
  retries?: number;
  seed?: number | null;
  /** Recipe name of the local judge model; null for an endpoint judge. */
  model?: string | null;
}

export interface BuildJudgeOptions {
  /** Required when the params name a local model (`model` not null). */
  generator?: LocalGenerator;
  /** Where the API key variable is looked up; default process.env. */
  env?: Readonly<Record<string, string | undefined>>;
  /** Per-attempt HTTP timeout (ms); default 120 s. */
  timeoutMs?: number;
  backoff?: BackoffOptions;
  random?: () => number;
}

/** Schema defaults of the judge block. */
export const JUDGE_DEFAULTS = { temperature: 0, max_tokens: 64, concurrency: 4, retries: 3 } as const;

export function buildJudge(params: unknown, opts: BuildJudgeOptions = {}): Judge {
  const p = checkJudgeParams(params);
  const sampling: SamplingOptions = {
    temperature: p.temperature ?? JUDGE_DEFAULTS.temperature,
    maxTokens: p.max_tokens ?? JUDGE_DEFAULTS.max_tokens,
    seed: p.seed ?? null,
  };
  if (p.model) {
    if (!opts.generator) {
      throw invalid(p.name, `uses the local model ${p.model}, but no generator for it was given`, "the executor must load the judge model (the node's judge_model input) and pass it as `generator`");
    }
    return new LocalJudge(p.name, opts.generator, sampling);
  }
  if (!p.endpoint) throw invalid(p.name, "names neither a local `model` nor an `endpoint`", "set exactly one of model = … or endpoint = \"…\" in the judge block");
  if (!p.api_model) throw invalid(p.name, "calls an endpoint but names no api_model", 'add e.g. api_model = "gpt-3.5-turbo-0301"');
  return new EndpointJudge({
    name: p.name,
    endpoint: p.endpoint,
    apiModel: p.api_model,
    apiKeyEnv: p.api_key_env ?? null,
    sampling,
    concurrency: p.concurrency ?? JUDGE_DEFAULTS.concurrency,
    retries: p.retries ?? JUDGE_DEFAULTS.retries,
    timeoutMs: opts.timeoutMs,
    backoff: opts.backoff,
    env: opts.env,
    random: opts.random,
  });
}

// ---- shape checks (graph params are JSON)

const FIELDS: Record<keyof JudgeParams, "string" | "number" | "int" | "posint"> = {
  name: "string",
  endpoint: "string",
  api_model: "string",
  api_key_env: "string",
  model: "string",
  temperature: "number",
  max_tokens: "posint",
  concurrency: "posint",
  retries: "int",
  seed: "int",
};

/** The params, checked: T5609 naming the field when one has the wrong type. */
export function checkJudgeParams(params: unknown): JudgeParams {
  if (!params || typeof params !== "object" || Array.isArray(params)) {
    throw invalid("?", `params are ${params === null ? "null" : typeof params}, not an object`, "pass the `judge` object of the node's params (the compiler writes it)");
  }
  const p = params as Record<string, unknown>;
  const name = typeof p.name === "string" ? p.name : "?";
  for (const [field, kind] of Object.entries(FIELDS)) {
    const v = p[field];
    if (v === undefined || (v === null && field !== "name")) continue;
    const ok =
      kind === "string"
        ? typeof v === "string"
        : typeof v === "number" && Number.isFinite(v) && (kind === "number" ? v >= 0 : Number.isInteger(v) && v >= (kind === "posint" ? 1 : 0));
    if (!ok) throw invalid(name, `field ${field} is ${JSON.stringify(v)}, expected ${describe(kind)}`, "recompile the recipe; the judge block's schema fixes these types");
  }
  if (typeof p.name !== "string") throw invalid(name, "has no name", "pass the `judge` object of the node's params (the compiler writes it)");
  return p as unknown as JudgeParams;
}

function describe(kind: string): string {
  return kind === "string" ? "a string" : kind === "number" ? "a number ≥ 0" : kind === "posint" ? "an integer ≥ 1" : "an integer ≥ 0";
}

function invalid(name: string, what: string, hint: string): JudgeError {
  return new JudgeError({ code: "T5609", message: `judge ${name} ${what}`, hint });
}

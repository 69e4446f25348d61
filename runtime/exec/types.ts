// Values that flow along graph edges in the in-process executor, and the
// contract every op handler implements. The scheduler (scheduler.ts) knows
// nothing about ops; handlers (ops/*.ts) know nothing about scheduling.
import type { GraphNode, Graph } from "../../compiler/graph.js";
import type { Row, RowStream } from "../data/row.js";
import type { TokenizedExample } from "../data/tokenize.js";
import type { LlamaModel } from "../model/llama.js";
import type { LlamaConfig } from "../io/hf-config.js";
import type { LoraAdapter } from "../lora/adapter.js";
import type { Progress } from "./progress.js";

/** What the executor needs from a tokenizer (runtime/tokenizer implements it). */
export interface ExecTokenizer {
  encode(text: string): number[];
  decode(ids: number[]): string;
  readonly bosId: number | null;
  readonly eosId: number | null;
}

/** A loaded model, possibly with a trained adapter attached. */
export interface ModelValue {
  readonly kind: "model";
  /** Recipe name of the model or stage that produced it. */
  readonly name: string;
  readonly config: LlamaConfig;
  readonly model: LlamaModel;
  readonly tokenizer: ExecTokenizer;
  /** Directory it was loaded from (the base model directory for adapters). */
  readonly baseDir: string;
  /** The trained adapter of a stage; null for a base or fully trained model. */
  readonly adapter: LoraAdapter | null;
  /** Settings of that adapter as the graph gave them (for PEFT's adapter_config.json). */
  readonly adapterParams: Readonly<Record<string, unknown>> | null;
  /** What this model stands in for under --smoke (e.g. "meta-llama/Llama-2-7b-hf"), else null. */
  readonly standsInFor: string | null;
}

/**
 * Rows on an edge, in one of two forms (read them through ops/data.ts `rowStream` / `rowsArray`, which accept
 * both):
 *  • materialised — `rows` in memory: outputs that are small or that an op built with random access (sample of
 *    n, shuffle, score, generate), and everything read from a file under the streaming threshold
 *    (ops/data.ts `streamThresholdBytes`), so small data behaves exactly as it always has;
 *  • lazy — no `rows`; `stream()` returns a replayable RowStream, and every pass over it re-opens the file and
 *    re-runs the op chain (load_data → filter → dedup …) in constant memory. Large files stay on disk.
 */
export type RowsValue = MaterialRows | LazyRows;

export interface MaterialRows {
  readonly kind: "rows";
  readonly rows: readonly Row[];
  readonly stream?: undefined;
}

export interface LazyRows {
  readonly kind: "rows";
  readonly rows?: undefined;
  /** A replayable stream: each iteration is a fresh pass, yielding the same rows in the same order. */
  stream(): RowStream;
  /** What the rows are read from (for messages), e.g. `data/big.jsonl → filter:picked#1`. */
  readonly source: string;
}

export interface TokensValue {
  readonly kind: "tokens";
  readonly method: string;
  readonly examples: readonly TokenizedExample[];
  /** Preference pairs for dpo stages (prompt/chosen/rejected rows as rendered text), else empty. */
  readonly pairs: readonly Row[];
  readonly template: Readonly<Record<string, unknown>>;
  readonly truncated: number;
  readonly dropped: number;
}

/** An eval/report/export result: JSON-able data plus files written under the run directory. */
export interface ResultValue {
  readonly kind: "result";
  readonly data: Readonly<Record<string, unknown>>;
  readonly files: readonly string[];
}

export type Value = ModelValue | RowsValue | TokensValue | ResultValue;

export interface Substitution {
  readonly node: string;
  readonly what: string;
}

export interface SmokeLimits {
  /** Rows kept from each data source. */
  readonly rows: number;
  /** Optimizer steps per training stage. */
  readonly steps: number;
  /** Documents per eval task. */
  readonly evalDocs: number;
  /** Longest sequence, in tokens. */
  readonly cutoff: number;
  /** Max new tokens for generation nodes. */
  readonly maxNewTokens: number;
}

export interface ExecEnv {
  readonly graph: Graph;
  /** Directory of the recipe file: relative paths resolve against it, then the cwd, then the tune package. */
  readonly recipeDir: string;
  readonly packageRoot: string;
  readonly runDir: string;
  readonly smoke: SmokeLimits | null;
  readonly seed: number;
  /** RunOptions.cache: false under `--no-cache` (ops then neither read nor write $TUNE_CACHE, eval requests included). */
  readonly cache?: boolean;
  log(line: string): void;
  metric(record: Record<string, unknown>): void;
  progress(label: string, total: number, unit: string): Progress;
  substitute(node: string, what: string): void;
  /** The tokenizer of the first model the graph loads (for `tokens(…)` in filters), once loaded. */
  defaultTokenizer(): ExecTokenizer | null;
  /** True once the user asked to stop (SIGINT/SIGTERM): long loops finish the current step, save and return. */
  stopRequested(): boolean;
  /** This run continues an interrupted one (`tune run --resume`): training nodes continue from their checkpoints. */
  readonly resumed?: boolean;
  /** The shipped tiny model (loaded once), for smoke stand-ins such as an endpoint judge. */
  standIn(): Promise<ModelValue>;
}

export type OpHandler = (node: GraphNode, inputs: Readonly<Record<string, Value>>, env: ExecEnv) => Promise<Record<string, Value>>;

/** A node the executor cannot run here (no handler, missing credentials, …): the run reports it, never hides it. */
export class NotExecutable extends Error {
  constructor(
    message: string,
    readonly hint: string,
  ) {
    super(message);
  }
}

/**
 * The user asked to stop (SIGINT/SIGTERM) and the node saved what it needs to continue (a training checkpoint):
 * the node stays pending and `tune run --resume` picks it up.
 */
export class Interrupted extends Error {
  constructor(readonly savedTo: string | null) {
    super(savedTo ? `interrupted; checkpoint saved to ${savedTo}` : "interrupted");
  }
}

/** A failure inside a node, with a code and a hint for the user. */
export class ExecError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly hint: string,
  ) {
    super(message);
  }
}

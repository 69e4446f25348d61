// Shared types of the evaluation engine.
//
// The engine is independent of any model: it talks to one through `EvalModel`, and reads task definitions
// that mirror lm-evaluation-harness task YAML (field names kept as the harness spells them, so a YAML task
// translates line by line). Everything here is plain data; behaviour lives in the other modules.

/** A model as the engine sees it. `id` is an identity hash used to key the request cache. */
export interface EvalModel {
  id: string;
  /**
   * Σ log p(continuation tokens | context) and whether greedy decoding would produce the continuation.
   * The engine has already moved trailing whitespace of the context to the continuation (harness
   * `_encode_pair`); an empty context means "condition on BOS/EOS only".
   */
  loglikelihood(reqs: LoglikelihoodRequest[]): Promise<LoglikelihoodResult[]>;
  /** Greedy continuations, stopped at the first of `until` (the engine cuts at `until` again). */
  generate(reqs: GenerateRequest[]): Promise<string[]>;
}

export interface LoglikelihoodRequest {
  context: string;
  continuation: string;
}
export interface LoglikelihoodResult {
  logprob: number;
  isGreedy: boolean;
}
export interface GenerateRequest {
  context: string;
  until: string[];
  maxNewTokens: number;
}

/** A dataset row, in the Hugging Face schema the task reads. */
export type Doc = Record<string, unknown>;

export type OutputType = "multiple_choice" | "generate_until" | "loglikelihood";

/**
 * How a task turns a doc into text, target or choices. Strings follow the harness rule: a doc field name
 * selects that field, anything else is a template (Handlebars here, Jinja2 there). Numbers and arrays are
 * literals. Objects are explicit forms for what Jinja expressions did inline.
 */
export type DocRef =
  | string
  | number
  | readonly unknown[]
  | { field: string }
  | { template: string }
  | { literal: unknown }
  | { fields: string[] }
  | { index_of: { list: string; value: string; lstrip?: boolean } }
  | { processor: string };

export interface MetricSpec {
  metric: string;
  /** "mean" (default) or a named aggregation processor. */
  aggregation?: string;
  higher_is_better?: boolean;
  ignore_case?: boolean;
  ignore_punctuation?: boolean;
  ignore_numbers?: boolean;
  regexes_to_ignore?: string[];
}

export type FilterStep =
  | { function: "regex"; regex_pattern?: string; group_select?: number; fallback?: string }
  | { function: "take_first" }
  | { function: "remove_whitespace" }
  | { function: "lowercase" }
  | { function: "uppercase" };

export interface FilterSpec {
  name: string;
  filter: FilterStep[];
}

export interface GenerationKwargs {
  until?: string[];
  max_gen_toks?: number;
  do_sample?: boolean;
  temperature?: number;
}

export interface TaskConfig {
  task: string;
  tag?: string[];
  /** Name of a template config (file name without `.json`, conventionally starting with `_`). */
  include?: string;
  dataset_path?: string;
  dataset_name?: string | null;
  /** Folder (relative to the repository root) holding `manifest.json` and the shipped split files. */
  local?: string;
  training_split?: string | null;
  validation_split?: string | null;
  test_split?: string | null;
  fewshot_split?: string | null;
  fewshot_config?: { sampler?: "default" | "first_n" };
  process_docs?: string;
  doc_to_text?: DocRef;
  doc_to_target?: DocRef;
  doc_to_choice?: DocRef;
  description?: string;
  target_delimiter?: string;
  fewshot_delimiter?: string;
  num_fewshot?: number;
  output_type?: OutputType;
  metric_list?: MetricSpec[];
  generation_kwargs?: GenerationKwargs;
  filter_list?: FilterSpec[];
  process_results?: string;
  gen_prefix?: string;
  /** Only 1 is supported (one greedy sample per doc). */
  repeats?: number;
  task_alias?: string;
  /** Known Hugging Face split sizes, for tasks whose data is not shipped (read by the task index). */
  split_sizes?: Record<string, number>;
  metadata?: { version?: number | string; [k: string]: unknown };
}

export interface AggregateMetricSpec {
  metric: string;
  aggregation?: "mean";
  weight_by_size?: boolean;
  filter_list?: string[];
}

export interface GroupConfig {
  group: string;
  group_alias?: string;
  task: string[];
  aggregate_metric_list?: AggregateMetricSpec[];
  metadata?: { version?: number | string; [k: string]: unknown };
}

/** One metric of one task or group, per filter, as the harness reports it ("acc,none"). */
export interface MetricResult {
  metric: string;
  filter: string;
  value: number;
  /** null where the harness prints "N/A" (n = 1, or no closed-form stderr for the aggregation). */
  stderr: number | null;
  higherIsBetter: boolean;
}

export interface TaskResult {
  name: string;
  kind: "task" | "group";
  alias?: string;
  version: number | string | null;
  numFewshot: number | null;
  /** Number of evaluated docs (groups: sum over members). */
  n: number;
  metrics: MetricResult[];
  /** Docs in the full split, when known; differs from n when a limit or a shipped subset applied. */
  nOriginal?: number;
  /** Member task/group names (groups only). */
  members?: string[];
  /** Nesting depth in a result listing (0 = requested name), for indented tables. */
  depth?: number;
  notes?: string[];
  samples?: SampleLog[];
}

export interface SampleLog {
  docId: number;
  context: string;
  /** Loglikelihood arguments per choice, or the generation request. */
  arguments: (LoglikelihoodRequest | GenerateRequest)[];
  responses: (LoglikelihoodResult | string)[];
  filtered?: Record<string, string>;
  metrics: Record<string, number | boolean | boolean[] | null>;
}

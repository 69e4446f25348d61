// From model outputs to per-doc metric values to task metrics (ConfigurableTask.process_results and
// TaskOutput.calculate_aggregate_metric). Values are keyed "metric,filter" as the harness keys them;
// multiple-choice and loglikelihood tasks use the single filter "none".

import { docToChoice, docToTarget, docToText, pyStr } from "./docref.js";
import { applyFilter, DEFAULT_FILTERS } from "./filters.js";
import { checkGoldIndex, exactMatch, mean, meanStderr, multipleChoiceScores } from "./metrics.js";
import { aggregationFunction, processResultsFunction, type MetricValue } from "./processors.js";
import type { DocRequests } from "./requests.js";
import { DEFAULT_METRICS, type LoadedTask } from "./task.js";
import type { LoglikelihoodResult, MetricResult, MetricSpec } from "./types.js";

export type DocValues = Record<string, MetricValue>;

export function metricSpecs(task: LoadedTask): MetricSpec[] {
  return task.config.metric_list ?? DEFAULT_METRICS[task.outputType];
}

function specFor(task: LoadedTask, metric: string): MetricSpec {
  return metricSpecs(task).find((m) => m.metric === metric) ?? { metric };
}

function keyed(values: Record<string, MetricValue>, filter: string): DocValues {
  const out: DocValues = {};
  for (const [k, v] of Object.entries(values)) out[`${k},${filter}`] = v;
  return out;
}

/** Metrics of one multiple-choice (or loglikelihood) doc. */
export function scoreLoglikelihoodDoc(task: LoadedTask, dr: DocRequests, results: LoglikelihoodResult[]): DocValues {
  const cfg = task.config;
  if (cfg.process_results) return keyed(processResultsFunction(cfg.process_results)(dr.doc, results), "none");
  if (task.outputType === "loglikelihood") return keyed({ acc: results[0].isGreedy ? 1 : 0 }, "none");
  const choices = docToChoice(cfg.doc_to_choice, dr.doc);
  const rawGold = task.multipleInput ? docToText(cfg.doc_to_text, dr.doc, true) : docToTarget(cfg.doc_to_target, dr.doc, true);
  const { gold, error } = checkGoldIndex(choices, rawGold);
  if (error) task.notes.push(`doc ${dr.docId}: gold label outside the choices`);
  const s = multipleChoiceScores(
    results.map((r) => r.logprob),
    results.map((r) => r.isGreedy),
    choices,
    gold,
  );
  const out: Record<string, MetricValue> = {};
  for (const { metric } of metricSpecs(task)) {
    if (metric === "acc" || metric === "acc_norm" || metric === "acc_bytes" || metric === "exact_match") out[metric] = s[metric];
    else throw new Error(`${task.name}: metric ${metric} is not supported for multiple_choice`);
  }
  return keyed(out, "none");
}

function generationGold(task: LoadedTask, dr: DocRequests): string[] {
  const cfg = task.config;
  const gold = docToTarget(cfg.doc_to_target, dr.doc, cfg.doc_to_choice !== undefined);
  if (cfg.doc_to_choice !== undefined) return [docToChoice(cfg.doc_to_choice, dr.doc)[gold as number]];
  if (Array.isArray(gold)) return gold.map(pyStr);
  return [pyStr(gold)];
}

/** Metrics of one generation doc, per filter pipeline; also returns the filtered responses. */
export function scoreGenerationDoc(task: LoadedTask, dr: DocRequests, response: string): { values: DocValues; filtered: Record<string, string> } {
  const cfg = task.config;
  const values: DocValues = {};
  const filtered: Record<string, string> = {};
  for (const spec of cfg.filter_list ?? DEFAULT_FILTERS) {
    const resps = applyFilter(spec, [response]);
    filtered[spec.name] = resps[0];
    if (cfg.process_results) {
      Object.assign(values, keyed(processResultsFunction(cfg.process_results)(dr.doc, resps), spec.name));
      continue;
    }
    const golds = generationGold(task, dr);
    for (const m of metricSpecs(task)) {
      if (m.metric !== "exact_match") throw new Error(`${task.name}: metric ${m.metric} is not supported for generate_until`);
      const hit = golds.some((g) => exactMatch(resps[0], g, m) === 1);
      values[`exact_match,${spec.name}`] = hit ? 1 : 0;
    }
  }
  return { values, filtered };
}

function asNumber(v: MetricValue): number {
  if (typeof v === "boolean") return v ? 1 : 0;
  if (typeof v === "number") return v;
  throw new Error("a list-valued metric needs a custom aggregation");
}

/** Aggregate per-doc values into the task's metrics (mean + sample stderr unless a custom aggregation). */
export function aggregateDocs(task: LoadedTask, docs: DocValues[], bootstrapIters = 100000): MetricResult[] {
  const items = new Map<string, MetricValue[]>();
  for (const d of docs) for (const [k, v] of Object.entries(d)) (items.get(k) ?? items.set(k, []).get(k)!).push(v);
  const out: MetricResult[] = [];
  for (const [key, vals] of items) {
    const [metric, filter] = key.split(",");
    const spec = specFor(task, metric);
    const agg = spec.aggregation ?? "mean";
    let value: number;
    let stderr: number | null = null;
    if (agg === "mean") {
      const xs = vals.map(asNumber);
      value = mean(xs);
      stderr = bootstrapIters > 0 ? meanStderr(xs) : null;
    } else value = aggregationFunction(agg)(vals);
    out.push({ metric, filter, value, stderr, higherIsBetter: spec.higher_is_better ?? true });
  }
  return out;
}

// Named doc processors: the `!function utils.x` hooks of lm-eval task YAML, as TypeScript.
//
// A task definition names them (`{"processor": "winogrande.doc_to_choice"}`, `"process_results":
// "truthfulqa.process_results_mc2"`); this registry maps the names to code. Each mirrors the harness's
// Python function of the same name; the doc comments say which.

import { eqBenchProcessResults } from "./eqbench.js";
import { ifevalProcessResults } from "./ifeval/index.js";
import { mc2Score } from "./metrics.js";
import { pyStrip } from "./pystr.js";
import type { Doc, LoglikelihoodResult } from "./types.js";

export type DocFn = (doc: Doc) => unknown;
export type MetricValue = number | boolean | boolean[];
export type ProcessResultsFn = (doc: Doc, results: (LoglikelihoodResult | string)[]) => Record<string, MetricValue>;
export type AggregationFn = (items: MetricValue[]) => number;

// ---- hellaswag (tasks/hellaswag/utils.py)

function hellaswagPreprocess(text: string): string {
  let t = pyStrip(text);
  t = t.split(" [title]").join(". ");
  t = t.replace(/\[[^\n]*?\]/g, "");
  return t.split("  ").join(" ");
}

function pyCapitalize(s: string): string {
  const first = s.slice(0, 1);
  return first.toUpperCase() + s.slice(1).toLowerCase();
}

function hellaswagProcessDoc(doc: Doc): Doc {
  const ctx = `${doc.ctx_a as string} ${pyCapitalize(doc.ctx_b as string)}`;
  const label = Number(doc.label);
  // datasets.map keeps the original columns and adds these
  return {
    ...doc,
    query: hellaswagPreprocess(`${doc.activity_label as string}: ${ctx}`),
    choices: (doc.endings as string[]).map(hellaswagPreprocess),
    gold: label,
    answer_letter: String.fromCharCode(65 + label),
  };
}

// ---- winogrande (tasks/winogrande/preprocess_winogrande.py)

function winograndeText(doc: Doc): number {
  return ({ "1": 0, "2": 1 } as Record<string, number>)[doc.answer as string];
}

function winograndeTarget(doc: Doc): string {
  const s = doc.sentence as string;
  return pyStrip(s.slice(s.indexOf("_") + 1));
}

function winograndeChoice(doc: Doc): string[] {
  const s = doc.sentence as string;
  const idx = s.indexOf("_");
  return [doc.option1 as string, doc.option2 as string].map((o) => s.slice(0, idx) + o);
}

const DOC_FUNCTIONS: Record<string, DocFn> = {
  "hellaswag.process_docs": hellaswagProcessDoc,
  "winogrande.doc_to_text": winograndeText,
  "winogrande.doc_to_target": winograndeTarget,
  "winogrande.doc_to_choice": winograndeChoice,
};

// ---- process_results

/** truthfulqa utils.process_results_mc2: normalised probability mass on the true answers. */
function truthfulqaMc2(mode: "labels" | "split_first_false"): ProcessResultsFn {
  return (doc, results) => {
    const lls = (results as LoglikelihoodResult[]).map((r) => r.logprob);
    const labels = (doc.mc2_targets as { labels: number[] }).labels;
    return { acc: mc2Score(lls, labels, mode) };
  };
}

const PROCESS_RESULTS: Record<string, ProcessResultsFn> = {
  "truthfulqa.process_results_mc2": truthfulqaMc2("labels"),
  "truthfulqa.process_results_mc2_split": truthfulqaMc2("split_first_false"),
  "ifeval.process_results": (doc, results) => ifevalProcessResults(doc, results[0] as string),
  "eq_bench.calculate_score_fullscale": (doc, results) => eqBenchProcessResults(doc, results[0] as string),
};

/** ifeval utils.agg_inst_level_acc: mean over all instructions of all prompts. */
function aggInstLevelAcc(items: MetricValue[]): number {
  const flat = (items as boolean[][]).flat();
  return flat.filter(Boolean).length / flat.length;
}

const AGGREGATIONS: Record<string, AggregationFn> = {
  "ifeval.agg_inst_level_acc": aggInstLevelAcc,
};

function lookup<T>(table: Record<string, T>, kind: string, name: string): T {
  const fn = table[name];
  if (!fn) throw new Error(`unknown ${kind} "${name}"; known: ${Object.keys(table).join(", ")}`);
  return fn;
}

export const docFunction = (name: string): DocFn => lookup(DOC_FUNCTIONS, "doc processor", name);
export const processResultsFunction = (name: string): ProcessResultsFn =>
  lookup(PROCESS_RESULTS, "process_results", name);
export const aggregationFunction = (name: string): AggregationFn => lookup(AGGREGATIONS, "aggregation", name);

export function processorNames(): { doc: string[]; processResults: string[]; aggregation: string[] } {
  return {
    doc: Object.keys(DOC_FUNCTIONS),
    processResults: Object.keys(PROCESS_RESULTS),
    aggregation: Object.keys(AGGREGATIONS),
  };
}

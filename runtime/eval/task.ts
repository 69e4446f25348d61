// A task ready to run: resolved config, eval docs, few-shot docs, and the harness's derived flags.
//
// Mirrors ConfigurableTask.__init__ / eval_docs / fewshot_docs: eval docs are test_split else
// validation_split; shots come from fewshot_split, else training, else validation, else test; process_docs
// applies to every split; a doc_to_text that yields an int on the first doc marks a multiple-input task
// (winogrande); `fewshot_split == test_split` (both may be unset) makes the sampler draw n + 1.

import { join } from "node:path";
import { DocSplit, loadSplit } from "./data.js";
import { docFunction } from "./processors.js";
import { docToText } from "./docref.js";
import { resolveTask, type TaskRegistry } from "./registry.js";
import type { Doc, GenerationKwargs, MetricSpec, OutputType, TaskConfig } from "./types.js";

/** The task cannot run here: no local data, or no eval docs shipped for it. */
export { DataUnavailableError } from "./errors.js";
import { DataUnavailableError } from "./errors.js";

export interface LoadedTask {
  name: string;
  config: TaskConfig;
  outputType: OutputType;
  evalSplit: string;
  /** The docs to evaluate (after process_docs and limit), in split order; doc ids are their indices. */
  evalDocs: Doc[];
  /** Size of the full eval split. */
  nOriginal: number;
  fewshotSplit: string | null;
  fewshot: DocSplit | null;
  /** The harness draws num_fewshot + 1 and drops the eval doc when fewshot_split == test_split. */
  nPlusOne: boolean;
  multipleInput: boolean;
  targetDelimiter: string;
  fewshotDelimiter: string;
  notes: string[];
}

export const DEFAULT_METRICS: Record<OutputType, MetricSpec[]> = {
  multiple_choice: [{ metric: "acc" }, { metric: "acc_norm" }],
  generate_until: [{ metric: "exact_match" }],
  loglikelihood: [{ metric: "acc" }],
};

export interface LoadOptions {
  /** Evaluate only the first `limit` docs (harness --limit). Default: all shipped docs. */
  limit?: number | null;
  /** Load splits from this dataset folder instead of the config's `local` (e.g. a full download). */
  dataDir?: string;
  /** Or give docs directly, by split name. */
  docs?: Record<string, Doc[]>;
}

function processSplit(split: DocSplit, processDocs: string | undefined): DocSplit {
  if (!processDocs) return split;
  const fn = docFunction(processDocs);
  const map = new Map<number, Doc>();
  for (let i = 0; i < split.size; i++) if (split.has(i)) map.set(i, fn(split.get(i)) as Doc);
  return new DocSplit(split.name, split.size, map, split.layout, split.where);
}

function openSplit(reg: TaskRegistry, cfg: TaskConfig, split: string, opts: LoadOptions): DocSplit {
  const inline = opts.docs?.[split];
  let raw: DocSplit;
  if (inline) raw = DocSplit.fromDocs(split, inline, `${cfg.task} (inline)`);
  else {
    const dir = opts.dataDir ?? (cfg.local ? join(reg.root, cfg.local) : null);
    if (!dir) throw new DataUnavailableError(`${cfg.task}: no local data shipped (definition only); pass dataDir or docs`);
    raw = loadSplit(dir, cfg.dataset_name, split);
  }
  return processSplit(raw, cfg.process_docs);
}

export function fewshotSplitName(cfg: TaskConfig): string | null {
  return cfg.fewshot_split ?? cfg.training_split ?? cfg.validation_split ?? cfg.test_split ?? null;
}

export function evalSplitName(cfg: TaskConfig): string {
  const s = cfg.test_split ?? cfg.validation_split;
  if (!s) throw new Error(`${cfg.task}: needs a test_split or validation_split`);
  return s;
}

/** The resolved generation kwargs, with the harness defaults (until = [fewshot_delimiter], greedy). */
export function generationKwargs(cfg: TaskConfig): Required<Pick<GenerationKwargs, "until" | "max_gen_toks">> & GenerationKwargs {
  const fewshotDelimiter = cfg.fewshot_delimiter ?? "\n\n";
  const g = cfg.generation_kwargs ?? { do_sample: false, temperature: 0 };
  return { ...g, until: g.until ?? [fewshotDelimiter], max_gen_toks: g.max_gen_toks ?? 256 };
}

export function loadTask(reg: TaskRegistry, name: string, opts: LoadOptions = {}): LoadedTask {
  const cfg = resolveTask(reg, name);
  const outputType = cfg.output_type ?? "generate_until";
  const evalSplit = evalSplitName(cfg);
  const evalAll = openSplit(reg, cfg, evalSplit, opts);
  const notes: string[] = [];
  const shipped = evalAll.shippedPrefix();
  const want = opts.limit ?? shipped;
  if (shipped === 0) throw new DataUnavailableError(`${name}: no ${evalSplit} docs shipped locally`);
  if (want > shipped) {
    throw new Error(`${name}: limit ${want} but only ${shipped} of ${evalAll.size} ${evalSplit} docs are shipped locally`);
  }
  if (opts.limit == null && shipped < evalAll.size) notes.push(`evaluated the ${shipped} shipped docs of ${evalAll.size}`);
  const evalDocs = evalAll.prefix(Math.min(want, evalAll.size));
  const fsName = fewshotSplitName(cfg);
  const fewshot = fsName ? (fsName === evalSplit ? evalAll : openSplitOrNull(reg, cfg, fsName, opts)) : null;
  const hasChoices = cfg.doc_to_choice !== undefined;
  const first = evalDocs[0];
  return {
    name,
    config: cfg,
    outputType,
    evalSplit,
    evalDocs,
    nOriginal: evalAll.size,
    fewshotSplit: fsName,
    fewshot,
    nPlusOne: (cfg.fewshot_split ?? null) === (cfg.test_split ?? null),
    multipleInput: first !== undefined && typeof docToText(cfg.doc_to_text, first, hasChoices) === "number",
    targetDelimiter: cfg.target_delimiter ?? " ",
    fewshotDelimiter: cfg.fewshot_delimiter ?? "\n\n",
    notes,
  };
}

function openSplitOrNull(reg: TaskRegistry, cfg: TaskConfig, split: string, opts: LoadOptions): DocSplit | null {
  try {
    return openSplit(reg, cfg, split, opts);
  } catch (e) {
    if (/no split/.test(String(e))) return null;
    throw e;
  }
}

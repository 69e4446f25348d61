// The evaluation pipeline in one place: names → tasks (groups expanded) → requests → model → scores →
// task metrics → group metrics, in the order the harness's evaluator runs them.
//
//   evaluate(model, ["mmlu", "gsm8k"], { limit: 50 })
//
// Every task keeps its own sampler generator seeded with fewshotSeed (1234), advancing across its docs.

import { aggregateGroup } from "./aggregate.js";
import { cachedGenerate, cachedLoglikelihood, type CachedCallOptions, type RequestCache, type RequestStats } from "./cache.js";
import { groupMembers, loadRegistry, tasksWithTag, type TaskRegistry } from "./registry.js";
import { buildRequests, cutAtStops, type DocRequests } from "./requests.js";
import { aggregateDocs, scoreGenerationDoc, scoreLoglikelihoodDoc, type DocValues } from "./score.js";
import { DataUnavailableError, loadTask, type LoadedTask, type LoadOptions } from "./task.js";
import type { EvalModel, SampleLog, TaskResult } from "./types.js";

export interface EvaluateOptions {
  registry?: TaskRegistry;
  /** Shots for every task, or per task name; default each task's num_fewshot (else 0). */
  numFewshot?: number | Record<string, number>;
  /** Docs per task (harness --limit): one number for all tasks, or per task name. */
  limit?: number | null | Record<string, number>;
  fewshotSeed?: number;
  systemInstruction?: string;
  /** Answers of earlier runs, keyed by model id, task name and version, and request (cache.ts). */
  cache?: RequestCache;
  /** The model as results name it (default `model.id`, an identity hash for in-process models). */
  modelName?: string;
  /** Counts requests and how many the cache answered, over every task this call runs. */
  requestStats?: RequestStats;
  batchSize?: number;
  /** 0 disables stderr (the harness's bootstrap_iters=0); any positive value keeps closed-form stderr. */
  bootstrapIters?: number;
  logSamples?: boolean;
  /** In groups, skip member tasks whose data is not shipped (noted on the group) instead of failing. */
  skipUnavailable?: boolean;
  /** Per-task data overrides (e.g. a full download): task name → load options. */
  data?: Record<string, Pick<LoadOptions, "dataDir" | "docs">>;
}

export interface EvalRun {
  model: string;
  results: TaskResult[];
  config: { limit: EvaluateOptions["limit"]; fewshotSeed: number; numFewshot: EvaluateOptions["numFewshot"] };
}

function limitFor(name: string, opts: EvaluateOptions): number | null {
  const l = opts.limit;
  if (l === undefined || l === null || typeof l === "number") return l ?? null;
  return l[name] ?? null;
}

function shotsFor(task: LoadedTask, opts: EvaluateOptions): number {
  const o = opts.numFewshot;
  if (typeof o === "number") return o;
  if (o && o[task.name] !== undefined) return o[task.name];
  return task.config.num_fewshot ?? 0;
}

function callOptions(task: LoadedTask, opts: EvaluateOptions): CachedCallOptions {
  return { batchSize: opts.batchSize, scope: { task: task.name, version: task.config.metadata?.version ?? null }, stats: opts.requestStats };
}

async function runLoglikelihood(model: EvalModel, task: LoadedTask, reqs: DocRequests[], opts: EvaluateOptions) {
  const flat = reqs.flatMap((r) => r.loglikelihood);
  const res = await cachedLoglikelihood(model, flat, opts.cache, callOptions(task, opts));
  let at = 0;
  return reqs.map((r) => {
    const mine = res.slice(at, (at += r.loglikelihood.length));
    return { values: scoreLoglikelihoodDoc(task, r, mine), responses: mine, filtered: undefined };
  });
}

async function runGeneration(model: EvalModel, task: LoadedTask, reqs: DocRequests[], opts: EvaluateOptions) {
  const gens = reqs.map((r) => r.generate!);
  const raw = await cachedGenerate(model, gens, opts.cache, callOptions(task, opts));
  return reqs.map((r, i) => {
    const text = cutAtStops(raw[i], gens[i].until);
    const { values, filtered } = scoreGenerationDoc(task, r, text);
    return { values, responses: [text], filtered };
  });
}

/** Run one loaded task against the model. */
export async function runTask(model: EvalModel, task: LoadedTask, opts: EvaluateOptions = {}): Promise<TaskResult> {
  if (task.evalDocs.length === 0) throw new Error(`${task.name}: no ${task.evalSplit} docs to evaluate`);
  const numFewshot = shotsFor(task, opts);
  const reqs = buildRequests(task, { numFewshot, fewshotSeed: opts.fewshotSeed, systemInstruction: opts.systemInstruction });
  const scored = task.outputType === "generate_until" ? await runGeneration(model, task, reqs, opts) : await runLoglikelihood(model, task, reqs, opts);
  const docValues: DocValues[] = scored.map((s) => s.values);
  const result: TaskResult = {
    name: task.name,
    kind: "task",
    alias: task.config.task_alias,
    version: task.config.metadata?.version ?? null,
    numFewshot,
    n: task.evalDocs.length,
    nOriginal: task.nOriginal,
    metrics: aggregateDocs(task, docValues, opts.bootstrapIters ?? 100000),
    notes: [...new Set(task.notes)],
  };
  if (opts.logSamples) result.samples = reqs.map((r, i) => sampleLog(r, scored[i]));
  return result;
}

function sampleLog(r: DocRequests, s: { values: DocValues; responses: SampleLog["responses"]; filtered?: Record<string, string> }): SampleLog {
  return {
    docId: r.docId,
    context: r.context,
    arguments: r.kind === "generate" ? [r.generate!] : r.loglikelihood,
    responses: s.responses,
    filtered: s.filtered,
    metrics: s.values,
  };
}

/** Evaluate tasks, groups or tags by name. Results are listed depth first: a group, then its members. */
export async function evaluate(model: EvalModel, names: string[], opts: EvaluateOptions = {}): Promise<EvalRun> {
  const reg = opts.registry ?? loadRegistry();
  const done = new Map<string, TaskResult>();
  const listing: TaskResult[] = [];
  const skipped = new Set<string>();

  const visit = async (name: string, depth: number): Promise<TaskResult[]> => {
    const group = reg.groups.get(name);
    if (group) {
      const at = listing.length;
      const members: TaskResult[] = [];
      for (const m of groupMembers(reg, group)) members.push(...(await visit(m, depth + 1)));
      if (members.length === 0 && opts.skipUnavailable && depth > 0) {
        skipped.add(name);
        return [];
      }
      const g = aggregateGroup(group, members);
      const missing = groupMembers(reg, group).filter((m) => skipped.has(m));
      if (missing.length) g.notes = [`skipped (no local data): ${missing.join(", ")}`];
      listing.splice(at, 0, { ...g, depth });
      return [g];
    }
    if (!reg.tasks.has(name)) {
      if (reg.external.has(name) || reg.externalGroups.has(name)) throw new Error(`${name} is known by name only; no definition ships with tune`);
      const tagged = tasksWithTag(reg, name);
      if (tagged.length === 0) throw new Error(`unknown task, group or tag ${name}`);
      const out: TaskResult[] = [];
      for (const t of tagged) out.push(...(await visit(t, depth)));
      return out;
    }
    let r = done.get(name);
    if (!r) {
      let task: LoadedTask;
      try {
        task = loadTask(reg, name, { limit: limitFor(name, opts), ...opts.data?.[name] });
      } catch (e) {
        if (!(opts.skipUnavailable && depth > 0 && e instanceof DataUnavailableError)) throw e;
        skipped.add(name);
        return [];
      }
      r = await runTask(model, task, opts);
      done.set(name, r);
    }
    listing.push({ ...r, depth });
    return [r];
  };

  for (const name of names) await visit(name, 0);
  return {
    model: opts.modelName ?? model.id,
    results: listing,
    config: { limit: opts.limit ?? null, fewshotSeed: opts.fewshotSeed ?? 1234, numFewshot: opts.numFewshot },
  };
}

// stdlib/tasks/index.json: what the compiler needs to check an eval block without running anything —
// every task, group and tag name, the metrics (and filters) each reports, its default shots, the known
// split sizes, and the largest shot count the harness could draw. Generated from the definitions and the
// data manifests; test/runtime-eval/taskindex.test.ts fails when the committed file is stale
// (UPDATE=1 rewrites it).

import { existsSync } from "node:fs";
import { join } from "node:path";
import { knownSplitSizes, readManifest } from "./data.js";
import { groupMembers, leafTasks, resolveTask, type TaskRegistry } from "./registry.js";
import { DEFAULT_METRICS, evalSplitName, fewshotSplitName } from "./task.js";
import type { TaskConfig } from "./types.js";

export interface IndexTask {
  kind: "task";
  defined: boolean;
  output_type: string;
  metrics: string[];
  filters: string[];
  num_fewshot: number;
  eval_split: string | null;
  fewshot_split: string | null;
  fewshot_sampler: string | null;
  splits: Record<string, number>;
  /** Most shots the harness can draw for one doc: the shot split size (minus one when it is the eval split). */
  max_num_fewshot: number | null;
  version: number | string | null;
  local?: { dir: string; eval_docs: number; fewshot_docs: number; fewshot_layout: string; hub_compatible: boolean };
  note?: string;
}

export interface IndexGroup {
  kind: "group";
  tasks: string[];
  leaf_tasks: string[];
  metrics: string[];
  weight_by_size: boolean;
  defined: boolean;
}

export interface TaskIndex {
  format: 1;
  note: string;
  tasks: Record<string, IndexTask>;
  groups: Record<string, IndexGroup>;
  tags: Record<string, string[]>;
}

function splitSizes(reg: TaskRegistry, cfg: TaskConfig) {
  if (cfg.local && existsSync(join(reg.root, cfg.local, "manifest.json"))) return knownSplitSizes(join(reg.root, cfg.local), cfg.dataset_name);
  const out: Record<string, { size: number; shipped: number; layout: string }> = {};
  for (const [k, v] of Object.entries(cfg.split_sizes ?? {})) out[k] = { size: v, shipped: 0, layout: "absent" };
  return out;
}

function definedTask(reg: TaskRegistry, name: string): IndexTask {
  const cfg = resolveTask(reg, name);
  const outputType = cfg.output_type ?? "generate_until";
  const sizes = splitSizes(reg, cfg);
  const evalSplit = evalSplitName(cfg);
  const fs = fewshotSplitName(cfg);
  const sampler = cfg.fewshot_config?.sampler ?? "default";
  const nPlusOne = (cfg.fewshot_split ?? null) === (cfg.test_split ?? null);
  const fsSize = fs ? sizes[fs]?.size : undefined;
  const entry: IndexTask = {
    kind: "task",
    defined: true,
    output_type: outputType,
    metrics: (cfg.metric_list ?? DEFAULT_METRICS[outputType]).map((m) => m.metric),
    filters: (cfg.filter_list ?? [{ name: "none" }]).map((f) => f.name),
    num_fewshot: cfg.num_fewshot ?? 0,
    eval_split: evalSplit,
    fewshot_split: fs,
    fewshot_sampler: sampler,
    splits: Object.fromEntries(Object.entries(sizes).map(([k, v]) => [k, v.size])),
    max_num_fewshot: fsSize === undefined ? null : sampler === "default" && nPlusOne ? fsSize - 1 : fsSize,
    version: cfg.metadata?.version ?? null,
  };
  if (cfg.local) {
    const m = readManifest(join(reg.root, cfg.local));
    entry.local = {
      dir: cfg.local,
      eval_docs: sizes[evalSplit]?.shipped ?? 0,
      fewshot_docs: fs ? sizes[fs]?.shipped ?? 0 : 0,
      fewshot_layout: fs ? sizes[fs]?.layout ?? "absent" : "absent",
      hub_compatible: m.hub_compatible,
    };
  }
  return entry;
}

export function buildTaskIndex(reg: TaskRegistry): TaskIndex {
  const tasks: Record<string, IndexTask> = {};
  for (const name of reg.tasks.keys()) tasks[name] = definedTask(reg, name);
  for (const [name, t] of reg.external) {
    tasks[name] = {
      kind: "task",
      defined: false,
      output_type: t.output_type,
      metrics: t.metrics,
      filters: ["none"],
      num_fewshot: t.num_fewshot ?? 0,
      eval_split: t.eval_split ?? null,
      fewshot_split: null,
      fewshot_sampler: null,
      splits: t.splits ?? {},
      max_num_fewshot: null,
      version: null,
      note: t.note,
    };
  }
  const groups: Record<string, IndexGroup> = {};
  const addGroup = (g: { group: string; task: string[]; aggregate_metric_list?: { metric: string; weight_by_size?: boolean }[] }, defined: boolean) => {
    groups[g.group] = {
      kind: "group",
      tasks: groupMembers(reg, g),
      leaf_tasks: leafTasks(reg, g.group),
      metrics: (g.aggregate_metric_list ?? []).map((m) => m.metric),
      weight_by_size: (g.aggregate_metric_list ?? []).every((m) => m.weight_by_size ?? true),
      defined,
    };
  };
  for (const g of reg.groups.values()) addGroup(g, true);
  for (const g of reg.externalGroups.values()) addGroup(g, false);
  const tags: Record<string, string[]> = {};
  for (const name of reg.tasks.keys()) for (const tag of resolveTask(reg, name).tag ?? []) (tags[tag] ??= []).push(name);
  return {
    format: 1,
    note: "Generated by runtime/eval/taskindex.ts from stdlib/tasks/*.json and data/eval/*/manifest.json; do not edit by hand (UPDATE=1 npx vitest run test/runtime-eval/taskindex.test.ts).",
    tasks,
    groups,
    tags,
  };
}

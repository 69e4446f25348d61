// Task and group definitions, loaded from stdlib/tasks/*.json.
//
// Definitions are data (close to lm-eval task YAML) so the compiler can read the same files to check task
// names, metrics and shot counts. A file holds one config or `{"configs": [...]}`; files whose name starts
// with `_` are templates reachable through `include`; `external.json` lists tasks known by name only.
// This module resolves includes and expands groups and tags into leaf tasks.

import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { GroupConfig, TaskConfig } from "./types.js";

/** A task known by name, metrics and split sizes only (no definition shipped). */
export interface ExternalTask {
  name: string;
  output_type: string;
  metrics: string[];
  num_fewshot?: number;
  splits?: Record<string, number>;
  eval_split?: string;
  note?: string;
}

export interface TaskRegistry {
  root: string;
  tasks: Map<string, TaskConfig>;
  templates: Map<string, Partial<TaskConfig>>;
  groups: Map<string, GroupConfig>;
  external: Map<string, ExternalTask>;
  externalGroups: Map<string, GroupConfig>;
}

type ConfigEntry = (Partial<TaskConfig> & { template?: string }) | GroupConfig;

/** The repository root: the nearest ancestor of this module holding stdlib/tasks. */
export function findRepoRoot(start = dirname(fileURLToPath(import.meta.url))): string {
  let dir = resolve(start);
  for (;;) {
    if (existsSync(join(dir, "stdlib", "tasks"))) return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error("cannot find stdlib/tasks above " + start);
    dir = up;
  }
}

export function loadRegistry(root = findRepoRoot()): TaskRegistry {
  const reg: TaskRegistry = {
    root,
    tasks: new Map(),
    templates: new Map(),
    groups: new Map(),
    external: new Map(),
    externalGroups: new Map(),
  };
  const dir = join(root, "stdlib", "tasks");
  for (const file of readdirSync(dir).sort()) {
    if (!file.endsWith(".json") || file === "index.json") continue;
    const data = JSON.parse(readFileSync(join(dir, file), "utf8")) as unknown;
    if (file === "external.json") addExternal(reg, data as ExternalFile);
    else if (file.startsWith("_")) reg.templates.set(file.slice(0, -5), data as Partial<TaskConfig>);
    else for (const entry of entriesOf(data)) addEntry(reg, entry, file);
  }
  return reg;
}

interface ExternalFile {
  tasks: ExternalTask[];
  groups?: GroupConfig[];
}

function addExternal(reg: TaskRegistry, data: ExternalFile): void {
  for (const t of data.tasks) reg.external.set(t.name, t);
  for (const g of data.groups ?? []) reg.externalGroups.set(g.group, g);
}

function entriesOf(data: unknown): ConfigEntry[] {
  if (data && typeof data === "object" && "configs" in data) return (data as { configs: ConfigEntry[] }).configs;
  return [data as ConfigEntry];
}

function addEntry(reg: TaskRegistry, entry: ConfigEntry, file: string): void {
  if ("group" in entry && typeof entry.group === "string") {
    reg.groups.set(entry.group, entry);
    return;
  }
  const task = entry as Partial<TaskConfig>;
  if (typeof task.task !== "string") throw new Error(`${file}: entry without "task" or "group"`);
  if (reg.tasks.has(task.task)) throw new Error(`${file}: duplicate task ${task.task}`);
  reg.tasks.set(task.task, task as TaskConfig);
}

/** The task's config with its `include` chain merged (the including config wins, as in lm-eval). */
export function resolveTask(reg: TaskRegistry, name: string): TaskConfig {
  const own = reg.tasks.get(name);
  if (!own) throw new Error(`unknown task ${name}`);
  let merged: Partial<TaskConfig> = { ...own };
  const seen = new Set<string>();
  while (merged.include) {
    const inc = merged.include;
    if (seen.has(inc)) throw new Error(`include cycle at ${inc}`);
    seen.add(inc);
    const base = reg.templates.get(inc) ?? reg.tasks.get(inc);
    if (!base) throw new Error(`task ${name}: unknown include ${inc}`);
    merged = { ...base, ...merged, include: base.include };
  }
  delete merged.include;
  return merged as TaskConfig;
}

/** Tasks carrying `tag`, in registry order. */
export function tasksWithTag(reg: TaskRegistry, tag: string): string[] {
  const out: string[] = [];
  for (const name of reg.tasks.keys()) if (resolveTask(reg, name).tag?.includes(tag)) out.push(name);
  return out;
}

/** Direct members of a group, with tags expanded to their tasks. */
export function groupMembers(reg: TaskRegistry, group: GroupConfig): string[] {
  const out: string[] = [];
  for (const member of group.task) {
    if (reg.tasks.has(member) || reg.groups.has(member) || reg.external.has(member)) out.push(member);
    else if (reg.externalGroups.has(member)) out.push(member);
    else {
      const tagged = tasksWithTag(reg, member);
      if (tagged.length === 0) throw new Error(`group ${group.group}: unknown member ${member}`);
      out.push(...tagged);
    }
  }
  return out;
}

/** Every leaf task under a task, group or tag name (depth first, duplicates removed). */
export function leafTasks(reg: TaskRegistry, name: string): string[] {
  const out: string[] = [];
  const visit = (n: string): void => {
    const group = reg.groups.get(n) ?? reg.externalGroups.get(n);
    if (group) for (const m of groupMembers(reg, group)) visit(m);
    else if (reg.tasks.has(n) || reg.external.has(n)) {
      if (!out.includes(n)) out.push(n);
    } else {
      const tagged = tasksWithTag(reg, n);
      if (tagged.length === 0) throw new Error(`unknown task, group or tag ${n}`);
      tagged.forEach(visit);
    }
  };
  visit(name);
  return out;
}

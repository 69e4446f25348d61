// Group results: size-weighted mean of member metrics and the pooled stderr (evaluator_utils
// consolidate_group_results with aggregate_subtask_metrics / pooled_sample_stderr). Groups of groups
// aggregate their members' aggregates, weighted by each member's total sample count, as the harness does.

import { aggregateSubtaskMetrics, pooledSampleStderr } from "./metrics.js";
import type { GroupConfig, MetricResult, TaskResult } from "./types.js";

function find(r: TaskResult, metric: string, filter: string): MetricResult | undefined {
  return r.metrics.find((m) => m.metric === metric && m.filter === filter);
}

/** A group's result from its members' results; groups without aggregate_metric_list report no metrics. */
export function aggregateGroup(group: GroupConfig, members: TaskResult[]): TaskResult {
  const metrics: MetricResult[] = [];
  let n = 0;
  for (const spec of group.aggregate_metric_list ?? []) {
    for (const filter of spec.filter_list ?? ["none"]) {
      const having = members.filter((r) => find(r, spec.metric, filter));
      if (having.length === 0) continue;
      const ms = having.map((r) => find(r, spec.metric, filter)!);
      const sizes = having.map((r) => r.n);
      const value = aggregateSubtaskMetrics(ms.map((m) => m.value), sizes, spec.weight_by_size ?? true);
      const stderr = ms.some((m) => m.stderr === null) ? null : pooledSampleStderr(ms.map((m) => m.stderr!), sizes);
      metrics.push({ metric: spec.metric, filter, value, stderr, higherIsBetter: ms[0].higherIsBetter });
      n = Math.max(n, sizes.reduce((a, b) => a + b, 0));
    }
  }
  if (metrics.length === 0) n = members.reduce((a, r) => a + r.n, 0);
  return {
    name: group.group,
    kind: "group",
    alias: group.group_alias,
    version: group.metadata?.version ?? null,
    numFewshot: null,
    n,
    metrics,
    members: members.map((m) => m.name),
  };
}

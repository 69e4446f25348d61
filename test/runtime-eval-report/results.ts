// Result values as the eval ops hand them to the report node, for the report tests.
import type { ResultData } from "../../runtime/eval/report-model.js";

/** A result value's data as the eval_task op hands it over (an lm-eval run with one or more result rows). */
export function evalResult(node: string, task: string, model: string, metrics: { metric: string; value: number; stderr: number | null; higherIsBetter?: boolean }[], n = 100, extra: object[] = []): ResultData {
  return {
    node,
    task,
    model,
    metric: metrics[0]!.metric,
    run: {
      model,
      results: [
        { name: task, kind: "task", version: 1, numFewshot: 0, n, depth: 0, metrics: metrics.map((m) => ({ filter: "none", higherIsBetter: true, ...m })) },
        ...extra,
      ],
    },
  };
}

// eval_task: one lm-eval-compatible task (or group) on one model, through the
// task engine in runtime/eval; results go to the run's eval/ folder and to the
// report node. Tasks whose data is not shipped are reported as not executed,
// with the way to provide the data, never as zero.
//
// Requests answered before for the same weights, template, task version and
// request come from the eval request cache, one JSONL file per model identity
// under $TUNE_CACHE/eval-requests/ (eval-request-cache.ts); `--no-cache` turns
// it off. The log says how many requests the cache answered.
import { join } from "node:path";
import { writeRunFile as writeFileAtomic } from "../files.js";
import { evaluate, DataUnavailableError, leafTasks, loadRegistry, markdownTable, type EvalRun } from "../../eval/index.js";
import type { RequestStats } from "../../eval/cache.js";
import { InProcessEvalModel, type EvalTemplate } from "../eval-model.js";
import { openEvalRequestCache, requestCacheEnabled } from "../eval-request-cache.js";
import { NotExecutable, type ModelValue, type OpHandler } from "../types.js";

export const evalTaskOp: OpHandler = async (node, inputs, env) => {
  const p = node.params;
  const m = inputs["model"] as ModelValue;
  const task = String(p["task"]);
  const template = (p["template"] as EvalTemplate | null) ?? null;
  const declared = typeof p["limit"] === "number" ? p["limit"] : null;
  let limit = declared;
  if (env.smoke) {
    // A group's budget is shared by its members (MMLU: 57 subjects), at least 2 documents each.
    const leaves = Math.max(1, leafTasks(loadRegistry(), task).length);
    limit = Math.min(declared ?? Infinity, Math.max(2, Math.ceil(env.smoke.evalDocs / leaves)));
    if (limit !== declared) env.substitute(node.id, `${limit} documents per task${leaves > 1 ? ` (× ${leaves} member tasks)` : ""}`);
  }
  const cache = requestCacheEnabled(env) ? await openEvalRequestCache(node, m, env) : null;
  const model = new InProcessEvalModel(m, template, env.smoke ? env.smoke.maxNewTokens : null, { weightsIdentity: cache?.identity.id });
  const bar = env.progress(`eval ${task}@${m.name}`, 1, "tasks");
  const requestStats: RequestStats = { requests: 0, cached: 0 };
  let run: EvalRun;
  try {
    run = await evaluate(model, [task], { numFewshot: Number(p["shots"] ?? 0), limit, skipUnavailable: true, bootstrapIters: 1, cache: cache?.cache, requestStats, modelName: m.name });
  } catch (e) {
    if (e instanceof DataUnavailableError || /known by name only|unknown task/.test((e as Error).message)) {
      throw new NotExecutable(`${task}: ${(e as Error).message}`, "tune ships small offline subsets for some tasks (stdlib/tasks/README.md); put the full data where that README says");
    }
    throw e;
  } finally {
    cache?.cache.close();
  }
  env.log(`eval ${task}@${m.name}: ${requestStats.requests} requests, ${cache ? `${requestStats.cached} cached` : "request cache off"}`);
  const top = run.results[0];
  const headline = top?.metrics.find((x) => x.metric === p["metric"]) ?? top?.metrics[0];
  bar.done(headline ? `${headline.metric} ${headline.value.toFixed(4)} (n=${top!.n})` : "no metrics");
  env.metric({ node: node.id, task, model: m.name, metric: headline?.metric ?? null, value: headline?.value ?? null, stderr: headline?.stderr ?? null, n: top?.n ?? 0, requests: requestStats.requests, cached_requests: requestStats.cached });
  const file = join(env.runDir, "eval", `${task}@${m.name}.json`);
  await writeFileAtomic(file, JSON.stringify({ task, model: m.name, template: template?.name ?? null, run }, null, 2) + "\n");
  return {
    result: {
      kind: "result",
      data: { node: node.id, task, model: m.name, metric: String(p["metric"] ?? headline?.metric ?? ""), template: template?.name ?? null, standsInFor: m.standsInFor, run: run as unknown as Record<string, unknown>, table: markdownTable(run) },
      files: [file],
    },
  };
};

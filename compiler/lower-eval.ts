// Lowering an eval block: one node per (task, model), and for judged evals a
// generate node (responses saved per model) feeding the judge or win-rate node.
// The eval template is the one the model trained with unless the recipe says.
import type { CheckedBlock, CheckedStep } from "./check/blocks.js";
import { attr, numAttr, strAttr } from "./check/context.js";
import type { Value } from "./check/values.js";
import type { Edge, Json } from "./graph.js";
import { blockParams, valueJson, type Lowering } from "./lower.js";
import { templateParams, trainedTemplate } from "./lower-stage.js";

export function lowerEval(L: Lowering, b: CheckedBlock): Edge[] {
  const models = attr(b, "models");
  if (models?.k !== "list") return [];
  const out: Edge[] = [];
  for (const m of models.items) {
    const target = L.ctx.target(m);
    if (!target) continue;
    const model = L.modelOrStage(target);
    const template = evalTemplate(L, b, target);
    for (const s of b.steps) {
      const e = lowerEvalStep(L, b, s, target, model, template);
      if (e) out.push(e);
    }
  }
  return out;
}

function evalTemplate(L: Lowering, b: CheckedBlock, model: CheckedBlock): Json {
  const t = attr(b, "template");
  if (t?.k === "ref") return templateParams(L.ctx.target(t));
  if (t?.k === "enum" && t.value === "none") return null;
  return templateParams(trainedTemplate(L, model));
}

function lowerEvalStep(L: Lowering, b: CheckedBlock, s: CheckedStep, target: CheckedBlock, model: Edge, template: Json): Edge | null {
  const at = `@${target.name}`;
  const limit = numOr(s.args.get("limit")) ?? numAttr(b, "limit") ?? null;
  if (s.op === "task") {
    const task = L.ctx.target(s.args.get("task"));
    if (!task) return null;
    const params: Record<string, Json> = {
      task: task.name,
      kind: task.kind,
      definition: blockParams(task),
      shots: numOr(s.args.get("shots")) ?? (task.kind === "task" ? numAttr(task, "shots") ?? 0 : 0),
      metric: valueJson(s.args.get("metric")) ?? defaultMetric(task),
      limit,
      template,
      model: target.name,
    };
    return L.g.add(`eval_task:${task.name}${at}`, "eval_task", params, { model }, b);
  }
  const data = L.ctx.target(s.args.get("data"));
  if (!data) return null;
  const maxNew = numOr(s.args.get("max_new_tokens")) ?? 256;
  const rows = L.data(data);
  const responses = L.g.add(`generate:${data.name}${at}/${maxNew}`, "generate", { max_new_tokens: maxNew, limit, template, model: target.name, seed: numAttr(b, "seed") ?? L.seed }, { model, rows }, b);
  if (s.op === "response_length") return L.g.add(`response_length:${data.name}${at}`, "response_length", { model: target.name }, { responses }, b);
  const judge = L.ctx.target(s.args.get("judge"));
  const prompt = L.ctx.target(s.args.get("prompt"));
  if (!judge || !prompt) return null;
  const inputs: Record<string, Edge> = { responses };
  const judgeModel = L.ctx.target(attr(judge, "model"));
  if (judgeModel) inputs["judge_model"] = L.modelOrStage(judgeModel);
  const params: Record<string, Json> = {
    judge: { name: judge.name, ...blockParams(judge, ["model"]), model: judgeModel?.name ?? null },
    prompt: { name: prompt.name, ...blockParams(prompt) },
    model: target.name,
  };
  if (s.op === "judge_score") {
    params["range"] = valueJson(s.args.get("range"));
    return L.g.add(`judge:${data.name}${at}`, "judge", params, inputs, b);
  }
  params["baseline_field"] = valueJson(s.args.get("baseline_field")) ?? "output";
  params["seed"] = numAttr(b, "seed") ?? L.seed;
  return L.g.add(`win_rate:${data.name}${at}`, "win_rate", params, inputs, b);
}

function numOr(v: Value | undefined): number | undefined {
  return v?.k === "number" ? v.value : undefined;
}

function defaultMetric(task: CheckedBlock): Json {
  const m = attr(task, "metrics");
  return m?.k === "list" && m.items[0]?.k === "name" ? m.items[0].value : strAttr(task, "metric") ?? null;
}

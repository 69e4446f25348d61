// Evaluation rules: tasks report the metric asked for, few-shot counts fit in
// the split shots are drawn from, and judged evals use a sensible score range.
import { didYouMean } from "../suggest.js";
import type { CheckedBlock, CheckedStep } from "./blocks.js";
import { attr, numAttr, type CheckContext } from "./context.js";

export function taskMetrics(ctx: CheckContext, task: CheckedBlock, seen = new Set<CheckedBlock>()): string[] {
  const metrics = attr(task, "metrics");
  if (metrics?.k === "list") return metrics.items.flatMap((m) => (m.k === "name" ? [m.value] : []));
  if (seen.has(task)) return [];
  seen.add(task);
  const tasks = attr(task, "tasks");
  return tasks?.k === "list" ? [...new Set(tasks.items.flatMap((t) => (ctx.target(t) ? taskMetrics(ctx, ctx.target(t)!, seen) : [])))] : [];
}

export function checkEval(ctx: CheckContext, b: CheckedBlock): void {
  for (const s of b.steps) {
    if (s.op === "task") checkTaskStep(ctx, s);
    if (s.op === "judge_score") checkJudgeRange(ctx, s);
  }
}

function checkTaskStep(ctx: CheckContext, s: CheckedStep): void {
  const task = ctx.target(s.args.get("task"));
  if (!task) return;
  const metric = s.args.get("metric");
  const metrics = taskMetrics(ctx, task);
  if (metric?.k === "name" && metrics.length > 0 && !metrics.includes(metric.value)) {
    ctx.report("T4008", "error", `${task.kind} \`${task.name}\` does not report \`${metric.value}\``, metric.span, `reports: ${metrics.join(", ")}`, {
      help: didYouMean(metric.value, metrics) ?? `choose one of ${metrics.join(", ")}`,
    });
  }
  const shots = s.args.get("shots");
  const available = task.kind === "task" ? numAttr(task, "fewshot_examples") : undefined;
  if (shots?.k === "number" && available !== undefined && shots.value > available) {
    const message = available === 0 ? `\`${task.name}\` takes no few-shot examples, but ${shots.value} were requested` : `${shots.value} shots requested but \`${task.name}\` has only ${available} examples to draw them from`;
    ctx.report("T4009", "error", message, shots.span, "too many shots", { help: available === 0 ? "use `shots = 0`" : `use at most ${available} shots` });
  }
  const output = task.kind === "task" ? attr(task, "output") : undefined;
  if (shots?.k === "number" && output?.k === "enum" && output.value === "loglikelihood" && shots.value > 0) {
    ctx.report("T4009", "warning", `\`${task.name}\` is a loglikelihood task; shots are usually 0`, shots.span, "unusual");
  }
}

function checkJudgeRange(ctx: CheckContext, s: CheckedStep): void {
  const prompt = ctx.target(s.args.get("prompt"));
  const r = s.args.get("range");
  const pr = prompt ? attr(prompt, "range") : undefined;
  if (r?.k === "range" && pr?.k === "range" && (r.lo !== pr.lo || r.hi !== pr.hi)) {
    ctx.report("T5004", "error", `score range ${r.lo}..${r.hi} differs from the prompt's ${pr.lo}..${pr.hi}`, r.span, "does not match the prompt", {
      secondary: [{ span: pr.span, message: "the prompt asks for this range" }],
    });
  }
}

// Training rules: the `from` chain is a DAG, each method gets the data columns
// it needs, templates only use fields the data has and train on something,
// batch arithmetic divides, LoRA targets exist in the architecture, and the
// distribution strategy can hold the (possibly 4-bit) weights.
import Handlebars from "handlebars";
import type { Span } from "../../grammar/ast.js";
import { didYouMean } from "../suggest.js";
import type { CheckedBlock } from "./blocks.js";
import { attr, boolAttr, label, numAttr, spanOf, strAttr, type CheckContext } from "./context.js";
import { fieldsOf, mixSources, type FieldInfo } from "./data.js";

export const LLAMA_LINEAR = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"];
/** Real Llama modules that tune does not put adapters on. */
const FROZEN_MODULES = ["lm_head", "embed_tokens"];
const DPO_ONLY = ["beta", "loss", "label_smoothing", "reference", "max_prompt_length", "max_length"];
const TEMPLATE_BUILTINS = new Set(["system"]);

export function checkModel(ctx: CheckContext, b: CheckedBlock): void {
  const n = (attr(b, "hub") ? 1 : 0) + (attr(b, "path") ? 1 : 0);
  if (n !== 1) {
    ctx.report("T3016", "error", `${label(b)} needs exactly one of \`hub\` or \`path\``, b.node.type.span, n ? "both given" : "no weights", {
      help: 'use `hub = "meta-llama/Llama-2-7b-hf"` (with `revision`) or `path = "models/my-model"`',
    });
  }
  if (b.keySpans.has("seed") && strAttr(b, "init") !== "random") {
    ctx.report("T4029", "warning", `\`seed\` of ${label(b)} only applies with \`init = random\``, b.keySpans.get("seed")!, "ignored: the weights are loaded", {
      help: "remove `seed`, or add `init = random` to start from freshly initialised weights",
    });
  }
}

/** A model block that starts from freshly initialised weights (`init = random`). */
export function isRandomInit(b: CheckedBlock | null | undefined): boolean {
  return b?.kind === "model" && strAttr(b, "init") === "random";
}

export function checkJudge(ctx: CheckContext, b: CheckedBlock): void {
  const n = (attr(b, "model") ? 1 : 0) + (attr(b, "endpoint") ? 1 : 0);
  if (n !== 1) {
    ctx.report("T3019", "error", `${label(b)} needs exactly one of \`model\` (local) or \`endpoint\` (API)`, b.node.type.span, n ? "both given" : "no judge model");
  }
  if (attr(b, "endpoint") && !attr(b, "api_model")) {
    ctx.report("T3020", "error", `${label(b)} calls an endpoint but names no \`api_model\``, spanOf(b, "endpoint"), "which model?", {
      help: 'add e.g. `api_model = "gpt-3.5-turbo-0301"`',
    });
  }
}

export function checkTemplate(ctx: CheckContext, b: CheckedBlock): void {
  for (const key of ["prompt", "completion"]) {
    const v = attr(b, key);
    if (v?.k !== "string") continue;
    try {
      Handlebars.parse(v.value);
    } catch (e) {
      ctx.report("T3015", "error", `the ${key} of ${label(b)} is not a valid Handlebars template`, v.span, handlebarsProblem((e as Error).message), {
        help: "placeholders are `{{field}}`; conditionals `{{#if field}}…{{else}}…{{/if}}`",
      });
    }
  }
  const completion = attr(b, "completion");
  if (completion?.k === "string" && completion.value.trim() === "" && !boolAttr(b, "eos")) {
    ctx.report("T3014", "error", `${label(b)} trains on nothing: the completion is empty`, completion.span, "empty completion", {
      help: "the completion is the part the loss is computed on; put the answer field there, e.g. `completion = \"{{output}}\"`",
    });
  }
}

/** Handlebars' parser errors name grammar tokens ('OPEN_ENDBLOCK', 'INVALID'); say what is wrong instead. */
export function handlebarsProblem(message: string): string {
  const mismatch = /^(\S+) doesn't match (\S+)/.exec(message);
  if (mismatch) return `\`{{#${mismatch[1]}}}\` is closed by \`{{/${mismatch[2]}}}\``;
  const got = /got '(\w+)'/.exec(message)?.[1];
  if (got === "EOF" && message.includes("OPEN_ENDBLOCK")) return "a `{{#…}}` block is not closed with `{{/…}}`";
  if (got === "INVALID" || (got === "EOF" && message.includes("'CLOSE'"))) return "a `{{` is not closed with `}}`";
  if (got === "CLOSE" && message.includes("'ID'")) return "`{{}}` names no field";
  const lines = message.split("\n");
  return lines[lines.length - 1] ?? message;
}

/** Every `{{name}}`-style path a template reads (first path segment). */
export function templateFields(source: string): { name: string; offset: number }[] {
  let ast: hbs.AST.Program;
  try {
    ast = Handlebars.parse(source);
  } catch {
    return [];
  }
  const out: { name: string; offset: number }[] = [];
  const visit = (node: unknown): void => {
    if (!node || typeof node !== "object") return;
    const n = node as { type?: string; original?: string; head?: string; parts?: string[]; data?: boolean; loc?: { start: { line: number; column: number } } };
    if (n.type === "PathExpression" && !n.data && n.parts && n.parts.length > 0 && n.original !== "this") {
      out.push({ name: n.parts[0]!, offset: locOffset(source, n.loc?.start) });
    }
    for (const value of Object.values(node)) {
      if (Array.isArray(value)) value.forEach(visit);
      else if (value && typeof value === "object" && value !== n.loc) visit(value);
    }
  };
  visit(ast);
  return out.filter((p) => !["if", "unless", "each", "with", "else"].includes(p.name));
}

function locOffset(source: string, start?: { line: number; column: number }): number {
  if (!start) return 0;
  let line = 1;
  let i = 0;
  while (line < start.line && i < source.length) if (source[i++] === "\n") line++;
  return i + start.column;
}

export function checkStage(ctx: CheckContext, b: CheckedBlock, hardware: CheckedBlock | undefined): void {
  const method = strAttr(b, "method");
  const data = ctx.target(attr(b, "data"));
  const fields = data ? fieldsOf(ctx, data) : null;
  const template = ctx.target(attr(b, "template"));
  if (method !== "dpo") {
    for (const key of DPO_ONLY) {
      if (b.keySpans.has(key)) {
        ctx.report("T4011", "warning", `\`${key}\` only applies to dpo stages`, b.keySpans.get(key)!, "ignored for " + method, { help: "remove it, or set `method = dpo`" });
      }
    }
    if ((numAttr(b, "rounds") ?? 1) > 1) ctx.report("T4016", "error", "iterative `rounds` are defined for dpo stages only", spanOf(b, "rounds"), "not a dpo stage");
  }
  const missingColumns = method === "dpo" ? checkDpo(ctx, b, fields) : [];
  if (method !== "dpo" && fields) checkSftData(ctx, b, fields, template, method ?? "sft");
  if (template && fields) checkTemplateFields(ctx, template, fields, attr(b, "template")!.span, method === "dpo", missingColumns);
  const adapter = ctx.target(attr(b, "adapter"));
  if (adapter && (method === "full" || method === "pretrain")) {
    ctx.report("T4023", "error", `a ${method} stage trains every weight and cannot use an adapter`, spanOf(b, "adapter"), "adapter not allowed", {
      help: "remove `adapter`, or use `method = sft` to train only the adapter",
    });
  }
  const from = ctx.target(attr(b, "from"));
  if (adapter && isRandomInit(from)) {
    ctx.report("T4030", "error", `${label(b)} trains an adapter on \`${from!.name}\`, whose weights are random (\`init = random\`)`, spanOf(b, "adapter"), "the frozen base is noise", {
      secondary: [{ span: spanOf(from!, "init"), message: "randomly initialised here" }],
      help: "train every weight first: `method = pretrain` without an adapter, then fine-tune that stage",
    });
  }
  if (adapter) checkTargets(ctx, b, adapter);
  checkBatch(ctx, b, hardware);
  const warmup = attr(b, "warmup");
  if (warmup?.k === "number" && warmup.unit === "%" && warmup.value > 100) {
    ctx.report("T3002", "error", "warmup cannot exceed 100% of the steps", warmup.span, "above 100%");
  }
  if (adapter && strAttr(adapter, "method") === "qlora" && hardware) checkQloraStrategy(ctx, b, hardware);
}

/** DPO rules; returns the preference columns reported missing, so the template check does not repeat them. */
function checkDpo(ctx: CheckContext, b: CheckedBlock, fields: FieldInfo[] | null): string[] {
  let missing: string[] = [];
  if (fields) {
    missing = ["prompt", "chosen", "rejected"].filter((f) => !fields.some((x) => x.name === f));
    if (missing.length > 0) {
      ctx.report("T4005", "error", `dpo data must have prompt, chosen and rejected fields; missing ${missing.map((m) => "`" + m + "`").join(", ")}`, spanOf(b, "data"), "preference data expected", {
        help: 'rename columns in the dataset\'s fields, e.g. `prompt: string from "instruction"`',
      });
    }
  }
  const ref = attr(b, "reference");
  if (ref?.k === "enum" && ref.value === "none" && strAttr(b, "loss") === "sampo") {
    ctx.report("T4014", "error", "SamPO needs a reference model", ref.span, "reference-free", { help: "drop `reference = none` (the reference defaults to the starting model)" });
  }
  return missing;
}

function checkSftData(ctx: CheckContext, b: CheckedBlock, fields: FieldInfo[], template: CheckedBlock | undefined, method: string): void {
  if (template && !attr(template, "completion")) {
    ctx.report("T3014", "error", `template \`${template.name}\` has no completion, so ${label(b)} would train on nothing`, spanOf(b, "template"), "every label would be masked", {
      help: "SFT computes the loss on the completion only; use a template with `completion = \"{{output}}\"` (dpo templates have none)",
    });
  }
  // A `template` that did not resolve was reported already (T2001/T3007); do not also say it is missing.
  if (!template && !b.keySpans.has("template") && !fields.some((f) => f.name === "text")) {
    ctx.report("T4018", "error", `${label(b)} has no template and its data has no \`text\` field`, spanOf(b, "data"), "nothing to train on", {
      help: method === "sft" ? "add `template = alpaca` (import it from std/templates) or a template of your own" : "add a `text: string` field or a template",
    });
  }
}

function checkTemplateFields(ctx: CheckContext, template: CheckedBlock, fields: FieldInfo[], useSpan: Span, dpo: boolean, alreadyReported: readonly string[]): void {
  const names = fields.map((f) => f.name);
  const reported = new Set<string>(alreadyReported);
  for (const key of dpo ? ["prompt"] : ["prompt", "completion"]) {
    const v = attr(template, key);
    if (v?.k !== "string") continue;
    for (const p of templateFields(v.value)) {
      if (names.includes(p.name) || TEMPLATE_BUILTINS.has(p.name) || reported.has(p.name)) continue;
      reported.add(p.name);
      const inTemplate = template.module === useSpan.file && !v.span.file.startsWith("std/");
      ctx.report("T3013", "error", `template \`${template.name}\` uses \`{{${p.name}}}\`, which the data does not have`, useSpan, `data fields: ${names.join(", ")}`, {
        secondary: inTemplate ? [{ span: v.span, message: `${key} uses {{${p.name}}}` }] : [],
        help: didYouMean(p.name, names) ?? `rename a column with \`${p.name}: string from "column"\` in the dataset's fields`,
      });
    }
  }
}

function checkTargets(ctx: CheckContext, stage: CheckedBlock, adapter: CheckedBlock): void {
  const targets = attr(adapter, "targets");
  if (targets?.k !== "list") return;
  const arch = archOf(ctx, stage);
  const known = arch ? LLAMA_LINEAR : LLAMA_LINEAR;
  for (const t of targets.items) {
    if (t.k === "name" && FROZEN_MODULES.includes(t.value)) {
      ctx.report("T4002", "error", `LoRA target \`${t.value}\` is not supported: tune adapts the attention and MLP projections only`, t.span, "not an adapter target", {
        help: `targets: ${known.join(", ")} (or all_linear); embeddings and the output head stay frozen`,
      });
    } else if (t.k === "name" && !known.includes(t.value)) {
      ctx.report("T4002", "error", `LoRA target \`${t.value}\` is not a linear module of ${arch ? "`" + arch.name + "`" : "Llama models"}`, t.span, "no such module", {
        help: didYouMean(t.value, known) ?? `linear modules: ${known.join(", ")} (or all_linear)`,
      });
    }
  }
}

/** The architecture preset at the root of a stage's `from` chain, if declared. */
export function archOf(ctx: CheckContext, stage: CheckedBlock, seen = new Set<CheckedBlock>()): CheckedBlock | undefined {
  if (seen.has(stage)) return undefined;
  seen.add(stage);
  const from = ctx.target(attr(stage, "from"));
  if (!from) return undefined;
  if (from.kind === "model") return ctx.target(attr(from, "arch"));
  return archOf(ctx, from, seen);
}

export function worldSize(hardware: CheckedBlock | undefined): number {
  if (!hardware) return 1;
  return (numAttr(hardware, "devices") ?? 1) * (numAttr(hardware, "nodes") ?? 1);
}

function checkBatch(ctx: CheckContext, b: CheckedBlock, hardware: CheckedBlock | undefined): void {
  const batch = numAttr(b, "batch");
  const micro = numAttr(b, "micro_batch") ?? 1;
  if (batch === undefined) return;
  const world = worldSize(hardware);
  const per = micro * world;
  if (batch % per !== 0) {
    const options = [1, 2, 4, 8, 16, 32].filter((m) => batch % (m * world) === 0);
    ctx.report("T4001", "error", `batch ${batch} is not a multiple of micro_batch ${micro} × ${world} device(s) = ${per}`, spanOf(b, "batch"), "gradient accumulation would not be whole", {
      secondary: b.attrs.has("micro_batch") ? [{ span: spanOf(b, "micro_batch"), message: "micro-batch per device" }] : [],
      help: options.length ? `micro_batch = ${options.join(", ")} divide it exactly` : `choose a batch divisible by ${world}`,
      notes: ["gradient accumulation = batch / (micro_batch × devices × nodes) must be a whole number"],
    });
  }
}

function checkQloraStrategy(ctx: CheckContext, b: CheckedBlock, hw: CheckedBlock): void {
  const strategy = strAttr(hw, "strategy");
  const zero = numAttr(hw, "zero") ?? 2;
  if (strategy === "fsdp" || (strategy === "deepspeed" && zero === 3)) {
    ctx.report("T4003", "error", `QLoRA cannot run under ${strategy === "fsdp" ? "FSDP" : "DeepSpeed ZeRO-3"} here: it shards parameters, and 4-bit bitsandbytes weights stored as uint8 cannot be sharded`, spanOf(hw, strategy === "fsdp" ? "strategy" : "zero"), "shards the 4-bit base weights", {
      secondary: [{ span: spanOf(b, "adapter"), message: "QLoRA adapter used here" }],
      help: "use DeepSpeed ZeRO-2 or DDP (each device holds the whole 4-bit model), or a plain LoRA adapter",
    });
  }
}

export function checkHardware(ctx: CheckContext, hw: CheckedBlock): void {
  const strategy = strAttr(hw, "strategy");
  if (strategy !== "deepspeed") {
    for (const key of ["zero", "offload"]) {
      if (hw.keySpans.has(key)) ctx.report("T4025", "warning", `\`${key}\` only applies with strategy = deepspeed`, hw.keySpans.get(key)!, "ignored");
    }
  }
  if (strategy === "single" && worldSize(hw) > 1) {
    const nodes = numAttr(hw, "nodes") ?? 1;
    const shape = nodes > 1 ? ` (${numAttr(hw, "devices") ?? 1} devices × ${nodes} nodes)` : "";
    ctx.report("T4026", "error", `strategy = single runs on one device, but the hardware has ${worldSize(hw)}${shape}`, spanOf(hw, "strategy"), "one device only", {
      help: "use ddp, deepspeed or fsdp",
    });
  }
  // keySpans, not attrs: a `gpu` or `memory` with a bad value was reported already.
  if (!hw.keySpans.has("gpu") && !hw.keySpans.has("memory")) {
    ctx.report("T4027", "info", "the hardware block names no `gpu` or `memory`; memory checks are skipped", hw.node.type.span, "device memory unknown");
  }
}

export function checkExport(ctx: CheckContext, b: CheckedBlock): void {
  const stage = ctx.target(attr(b, "from"));
  if (stage && boolAttr(b, "merge") && !attr(stage, "adapter")) {
    ctx.report("T4019", "warning", `\`merge = true\` has nothing to merge: stage \`${stage.name}\` trains no adapter`, spanOf(b, "merge"), "no adapter");
  }
}

export function checkAdapter(ctx: CheckContext, b: CheckedBlock): void {
  if (strAttr(b, "method") === "lora") {
    for (const key of ["bits", "quant_type", "double_quant", "compute_dtype"]) {
      if (b.keySpans.has(key)) ctx.report("T4022", "warning", `\`${key}\` only applies to qlora adapters`, b.keySpans.get(key)!, "ignored for lora", { help: "set `method = qlora` to quantise the base model" });
    }
  }
}

/** Stage `from`/`reference` edges must form a DAG. */
export function checkStageCycles(ctx: CheckContext, stages: CheckedBlock[]): void {
  const state = new Map<CheckedBlock, "visiting" | "done">();
  const visit = (s: CheckedBlock, path: CheckedBlock[]): void => {
    if (state.get(s) === "done") return;
    if (state.get(s) === "visiting") {
      const cycle = [...path.slice(path.indexOf(s)), s].map((x) => x.name).join(" → ");
      ctx.report("T4004", "error", `stages form a cycle: ${cycle}`, spanOf(s, "from"), "starts from a stage that depends on it", { help: "a stage can start only from a model or an earlier stage" });
      return;
    }
    state.set(s, "visiting");
    for (const key of ["from", "reference"]) {
      const t = ctx.target(attr(s, key));
      if (t?.kind === "stage") visit(t, [...path, s]);
    }
    // A stage's data may be scored by a judge whose model is a stage: that stage must come first too.
    for (const judged of judgeStagesOf(ctx, ctx.target(attr(s, "data")), new Set())) visit(judged, [...path, s]);
    state.set(s, "done");
  };
  for (const s of stages) visit(s, []);
}

/** Stages used as judge models by `score` steps of a pipeline or of the pipelines it reads. */
function judgeStagesOf(ctx: CheckContext, data: CheckedBlock | null | undefined, seen: Set<CheckedBlock>): CheckedBlock[] {
  if (!data || data.kind !== "data" || seen.has(data)) return [];
  seen.add(data);
  const out: CheckedBlock[] = [];
  for (const step of data.steps) {
    if (step.op !== "score") continue;
    const judge = ctx.target(step.args.get("judge"));
    const model = judge ? ctx.target(attr(judge, "model")) : null;
    if (model?.kind === "stage") out.push(model);
  }
  out.push(...judgeStagesOf(ctx, ctx.target(attr(data, "from")), seen));
  const mix = data.blocks.find((x) => x.kind === "mix");
  if (mix) for (const src of mixSources(ctx, mix)) out.push(...judgeStagesOf(ctx, src.block, seen));
  return out;
}

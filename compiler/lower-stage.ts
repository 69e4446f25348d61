// Lowering a training stage: tokenize its data with its template, then one
// train node per round. Round i > 1 starts both policy and reference from round
// i − 1 (iterative DPO / SamPO); the reference defaults to the `from` model.
import type { CheckedBlock } from "./check/blocks.js";
import { attr, numAttr, strAttr } from "./check/context.js";
import type { Edge, Json } from "./graph.js";
import { blockParams, type Lowering } from "./lower.js";

const DPO_ONLY = ["beta", "loss", "label_smoothing", "max_length", "max_prompt_length", "rounds"];

export function rootModel(L: Lowering, b: CheckedBlock, seen = new Set<CheckedBlock>()): CheckedBlock | undefined {
  if (b.kind === "model") return b;
  if (seen.has(b)) return undefined;
  seen.add(b);
  const from = L.ctx.target(attr(b, "from"));
  return from ? rootModel(L, from, seen) : undefined;
}

/** The template a model was trained with: its own stage's, else the nearest earlier stage's. */
export function trainedTemplate(L: Lowering, b: CheckedBlock, seen = new Set<CheckedBlock>()): CheckedBlock | undefined {
  if (b.kind !== "stage" || seen.has(b)) return undefined;
  seen.add(b);
  const own = L.ctx.target(attr(b, "template"));
  if (own) return own;
  const from = L.ctx.target(attr(b, "from"));
  return from ? trainedTemplate(L, from, seen) : undefined;
}

export function templateParams(t: CheckedBlock | undefined): Json {
  if (!t) return null;
  return { name: t.name, ...blockParams(t) };
}

export function lowerStage(L: Lowering, b: CheckedBlock): Edge {
  const method = strAttr(b, "method") ?? "sft";
  const fromBlock = L.ctx.target(attr(b, "from"));
  const dataBlock = L.ctx.target(attr(b, "data"));
  const root = rootModel(L, b);
  if (!fromBlock || !dataBlock || !root) throw new Error(`internal: stage ${b.name} lowered with unresolved references`);
  const policy0 = L.modelOrStage(fromBlock);
  const tokenizer = L.model(root);
  const rows = L.data(dataBlock);
  const split = L.g.node(rows.node)?.op === "split";
  const template = L.ctx.target(attr(b, "template"));
  const tokParams: Record<string, Json> = {
    method,
    template: templateParams(template),
    fields: L.stageFields(b),
    cutoff: numAttr(b, "cutoff") ?? 1024,
    max_length: numAttr(b, "max_length") ?? 1024,
    max_prompt_length: numAttr(b, "max_prompt_length") ?? 512,
    truncation: strAttr(b, "truncation") ?? "keep_start",
    packing: L.bool(b, "packing"),
  };
  const trainTokens = L.g.add(`tokenize:${b.name}`, "tokenize", tokParams, { rows: split ? { node: rows.node, port: "train" } : rows, tokenizer }, b);
  const validTokens = split ? L.g.add(`tokenize:${b.name}/validation`, "tokenize", tokParams, { rows: { node: rows.node, port: "validation" }, tokenizer }, b) : null;

  const refValue = attr(b, "reference");
  const refBlock = L.ctx.target(refValue);
  const referenceFree = refValue?.k === "enum" && refValue.value === "none";
  // A stage without its own adapter that starts from an adapter stage keeps training that adapter.
  const adapter = L.ctx.target(attr(b, "adapter")) ?? (method === "sft" || method === "dpo" ? inheritedAdapter(L, fromBlock) : undefined);
  const world = L.world();
  const batch = numAttr(b, "batch") ?? 1;
  const micro = numAttr(b, "micro_batch") ?? 1;
  const params: Record<string, Json> = {
    stage: b.name,
    ...blockParams(b, ["from", "reference", "data", "template", "adapter", ...(method === "dpo" ? ["cutoff", "packing"] : DPO_ONLY)]),
    seed: numAttr(b, "seed") ?? L.seed,
    adapter: adapter ? { name: adapter.name, ...blockParams(adapter), inherited: !attr(b, "adapter") } : null,
    base_model: root.name,
    hardware: L.hardwareParams(),
    world_size: world,
    grad_accum: Math.max(1, Math.floor(batch / (micro * world))),
    reference: method !== "dpo" ? null : referenceFree ? "none" : refBlock ? refBlock.name : fromBlock.name,
  };
  const rounds = method === "dpo" ? numAttr(b, "rounds") ?? 1 : 1;
  let policy = policy0;
  let reference: Edge | null = method === "dpo" && !referenceFree ? (refBlock ? L.modelOrStage(refBlock) : policy0) : null;
  for (let r = 1; r <= rounds; r++) {
    const inputs: Record<string, Edge> = { policy, tokens: trainTokens };
    if (reference) inputs["reference"] = reference;
    if (validTokens) inputs["validation"] = validTokens;
    const id = rounds === 1 ? `train:${b.name}` : `train:${b.name}/round${r}`;
    const out = L.g.add(id, "train", { ...params, round: r, rounds }, inputs, b);
    policy = out;
    if (reference) reference = out;
  }
  return policy;
}

function inheritedAdapter(L: Lowering, from: CheckedBlock, seen = new Set<CheckedBlock>()): CheckedBlock | undefined {
  if (from.kind !== "stage" || seen.has(from)) return undefined;
  seen.add(from);
  const own = L.ctx.target(attr(from, "adapter"));
  if (own) return own;
  const next = L.ctx.target(attr(from, "from"));
  return next ? inheritedAdapter(L, next, seen) : undefined;
}

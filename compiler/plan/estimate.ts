// The cost model behind `tune plan`: for every `train` node of a graph, the
// model's parameters, what is trainable, rows / tokens / optimizer steps, and
// per-device GPU memory against the device's capacity, each with the
// assumptions it rests on. Reads only the graph (params were lowered with every
// default applied), so the same estimate comes out of a recipe and of a saved
// graph.json.
import type { Edge, Graph, GraphNode, Json } from "../graph.js";
import { describeStrategy, estimateMemory, type MemoryBreakdown, type Strategy, type Training } from "./memory.js";
import { archFromJson, countParams, loraTargets, loraTrainable, type ArchShape } from "./params.js";
import { RowCounter, UNKNOWN, type Count } from "./rows.js";
import { dtypeBytes, formatBytes, GiB, grouped, memoryBytes } from "./units.js";

export interface StageEstimate {
  readonly node: string;
  readonly stage: string;
  readonly round: number;
  readonly method: string;
  /** The load_model node the policy starts from (through earlier stages). */
  readonly model: string | null;
  readonly arch: string | null;
  readonly training: "full" | "lora" | "qlora";
  readonly adapter: { readonly r: number; readonly targets: readonly string[] } | null;
  readonly parameters: number | null;
  readonly trainable: number | null;
  readonly trainableFraction: number | null;
  readonly rows: Count;
  readonly epochs: number;
  readonly maxSteps: number | null;
  readonly steps: Count;
  /** Always an upper bound (every sequence at the full length) or unknown. */
  readonly tokens: Count;
  readonly microBatch: number;
  readonly gradAccum: number;
  readonly world: number;
  readonly sequenceLength: number;
  readonly strategy: string;
  /** Bytes per device; null when the model has no arch. */
  readonly memory: MemoryBreakdown | null;
  readonly device: { readonly gpu: string | null; readonly bytes: number | null };
  readonly exceeds: boolean;
  readonly assumptions: readonly string[];
}

/** Nominal memory per device of each `gpu` the hardware block accepts (GiB = 2³⁰ B, GB = 10⁹ B). */
export const GPU_MEMORY: Readonly<Record<string, number | null>> = {
  a100_40gb: 40 * GiB,
  a100_80gb: 80 * GiB,
  h100_80gb: 80 * GiB,
  h200: 141e9,
  l4: 24e9,
  a10g: 24e9,
  rtx4090: 24e9,
  cpu: null,
};

type Params = { readonly [key: string]: Json };

const obj = (v: Json | undefined): Params => (v && typeof v === "object" && !Array.isArray(v) ? v : {});
const numOr = (v: Json | undefined, d: number): number => (typeof v === "number" ? v : d);
const strOr = (v: Json | undefined, d: string): string => (typeof v === "string" ? v : d);

export function estimateGraph(graph: Graph): StageEstimate[] {
  const byId = new Map(graph.nodes.map((n) => [n.id, n]));
  const rows = new RowCounter(graph);
  return graph.nodes.filter((n) => n.op === "train").map((n) => estimateStage(n, byId, rows));
}

/** Follows `policy` edges back through earlier train nodes to the load_model node. */
export function rootModel(edge: Edge | undefined, byId: ReadonlyMap<string, GraphNode>): GraphNode | null {
  for (let e = edge, hops = 0; e && hops < 1000; hops++) {
    const n = byId.get(e.node);
    if (!n) return null;
    if (n.op === "load_model") return n;
    e = n.inputs["policy"] ?? n.inputs["model"];
  }
  return null;
}

export function estimateStage(node: GraphNode, byId: ReadonlyMap<string, GraphNode>, counter: RowCounter): StageEstimate {
  const p = node.params;
  const notes: string[] = [];
  const model = rootModel(node.inputs["policy"], byId);
  const arch = archFromJson(model?.params["arch"]);
  const adapterP = p["adapter"] ? obj(p["adapter"]) : null;
  const training = adapterP ? (adapterP["method"] === "qlora" ? "qlora" : "lora") : "full";
  const r = numOr(adapterP?.["r"], 8);
  const targets = loraTargets(adapterP?.["targets"]);
  const counts = arch ? paramCounts(arch, training, r, targets, notes) : null;
  if (!arch) notes.push(`model ${model ? "`" + model.id.replace(/^load_model:/, "") + "`" : "of this stage"} has no \`arch\`: parameters and memory are unknown (set \`arch\` to a preset from std/models)`);

  const world = numOr(p["world_size"], 1);
  const micro = numOr(p["micro_batch"], 1);
  const accum = numOr(p["grad_accum"], 1);
  const method = strOr(p["method"], "sft");
  const dpo = method === "dpo";
  const seqLen = dpo ? numOr(p["max_length"], 1024) : numOr(p["cutoff"], 1024);
  const epochs = numOr(p["epochs"], 3);
  const maxSteps = typeof p["max_steps"] === "number" ? p["max_steps"] : null;
  const rows = node.inputs["tokens"] ? counter.edge(node.inputs["tokens"]) : UNKNOWN;
  const hw = obj(p["hardware"]);
  const strategy = strategyOf(hw, world);
  const device = deviceOf(hw, notes);

  const steps = stepsOf(rows, { epochs, maxSteps, micro, accum, world, packing: p["packing"] === true }, notes);
  const tokens = tokensOf(rows, { epochs, maxSteps, sequences: micro * accum * world, seqLen: seqLen * (dpo ? 2 : 1) }, dpo, notes);
  const memory = arch && counts ? memoryOf(node, arch, { training, trainable: counts.trainable, adapterP, model, byId, seqLen, micro, dpo, hw, strategy }, notes) : null;
  const exceeds = memory !== null && device.bytes !== null && memory.total > device.bytes;

  return {
    node: node.id,
    stage: strOr(p["stage"], node.id),
    round: numOr(p["round"], 1),
    method,
    model: model?.id ?? null,
    arch: arch?.name ?? null,
    training,
    adapter: adapterP ? { r, targets: counts?.modules ?? targets } : null,
    parameters: counts?.total ?? null,
    trainable: counts?.trainable ?? null,
    trainableFraction: counts ? counts.trainable / counts.total : null,
    rows,
    epochs,
    maxSteps,
    steps,
    tokens,
    microBatch: micro,
    gradAccum: accum,
    world,
    sequenceLength: seqLen,
    strategy: describeStrategy(strategy),
    memory,
    device,
    exceeds,
    assumptions: [...new Set(notes)],
  };
}

function paramCounts(arch: ArchShape, training: string, r: number, targets: string[], notes: string[]): { total: number; trainable: number; modules: string[] } {
  const total = countParams(arch).total;
  notes.push(
    `parameters: exact Llama count from arch \`${arch.name ?? "?"}\`: embeddings V·D; per layer q D·(H·hd), k and v D·(KV·hd), o (H·hd)·D, MLP 3·D·I, 2 RMSNorm D; final norm D; lm_head V·D${arch.tied ? " (tied: not counted again)" : ""}`,
  );
  if (training === "full") {
    notes.push("full fine-tune: every parameter is trainable");
    return { total, trainable: total, modules: [] };
  }
  const lora = loraTrainable(arch, r, targets);
  notes.push(`LoRA: r·(in + out) per targeted Linear per layer, r = ${r} on ${lora.modules.join(", ") || "nothing"}`);
  if (lora.unmatched.length) notes.push(`LoRA targets ${lora.unmatched.join(", ")} match no Llama Linear and are counted as 0`);
  return { total, trainable: lora.trainable, modules: [...lora.modules] };
}

// ---- hardware

function strategyOf(hw: Params, world: number): Strategy {
  const kind = strOr(hw["strategy"], "single") as Strategy["kind"];
  const zero = kind === "deepspeed" ? numOr(hw["zero"], 2) : kind === "fsdp" ? 3 : 0;
  const offload = strOr(hw["offload"], "none") as Strategy["offload"];
  return { kind, zero, world, offload };
}

function deviceOf(hw: Params, notes: string[]): { gpu: string | null; bytes: number | null } {
  const gpu = typeof hw["gpu"] === "string" ? hw["gpu"] : null;
  const declared = memoryBytes(hw["memory"]);
  if (declared !== null) {
    notes.push(`device memory: ${formatBytes(declared)} per device, as declared by \`memory\``);
    return { gpu, bytes: declared };
  }
  if (gpu === "cpu") {
    notes.push("gpu = cpu: no device memory to compare the estimate with");
    return { gpu, bytes: null };
  }
  if (gpu && GPU_MEMORY[gpu] !== undefined) {
    const bytes = GPU_MEMORY[gpu]!;
    notes.push(`device memory: ${gpu} = ${formatBytes(bytes)} nominal per device (the CUDA context is counted in the overhead)`);
    return { gpu, bytes };
  }
  notes.push(gpu ? `gpu = ${gpu} has no known memory size: set \`memory\` to compare the estimate with the device` : "no `gpu` or `memory` in a hardware block: the estimate is not compared with a device");
  return { gpu, bytes: null };
}

// ---- rows, steps, tokens

interface Schedule {
  readonly epochs: number;
  readonly maxSteps: number | null;
  readonly micro: number;
  readonly accum: number;
  readonly world: number;
  readonly packing: boolean;
}

/** HF Trainer: ceil(epochs · max(1, floor(batches / GA))), batches = ceil(rows / (micro · world)) (no drop_last). */
export function stepsOf(rows: Count, s: Schedule, notes: string[]): Count {
  if (s.maxSteps !== null) {
    notes.push(`optimizer steps: max_steps = ${s.maxSteps} (overrides epochs, as in HF)`);
    return { bound: "exact", n: s.maxSteps };
  }
  describeRows(rows, notes);
  if (rows.n === null) return UNKNOWN;
  const batches = Math.ceil(rows.n / (s.micro * s.world));
  const n = Math.ceil(s.epochs * Math.max(1, Math.floor(batches / s.accum)));
  notes.push("optimizer steps = ceil(epochs · max(1, floor(ceil(rows / (micro_batch · devices)) / grad_accum))) (HF Trainer, last partial batch kept)");
  if (s.packing) notes.push("packing: rows are packed into fewer sequences, so steps are an upper bound");
  return { bound: s.packing ? "at_most" : rows.bound, n };
}

function describeRows(rows: Count, notes: string[]): void {
  if (rows.bound === "unknown") notes.push("rows: unknown (declare `rows = N` on the dataset for row, step and token counts)");
  else if (rows.bound === "at_most") notes.push(`rows: at most ${grouped(rows.n!)} (filter / score / dedup may drop rows; steps and tokens are upper bounds)`);
}

function tokensOf(rows: Count, t: { epochs: number; maxSteps: number | null; sequences: number; seqLen: number }, dpo: boolean, notes: string[]): Count {
  const per = dpo ? "2 × max_length (chosen + rejected)" : "cutoff";
  if (t.maxSteps !== null) {
    notes.push(`tokens ≤ max_steps × batch × ${per}: an upper bound (every sequence at full length)`);
    return { bound: "at_most", n: t.maxSteps * t.sequences * t.seqLen };
  }
  if (rows.n === null) return UNKNOWN;
  notes.push(`tokens ≤ rows × epochs × ${per}: an upper bound (every sequence at full length)`);
  return { bound: "at_most", n: Math.ceil(rows.n * t.epochs) * t.seqLen };
}

// ---- memory

interface MemoryContext {
  readonly training: "full" | "lora" | "qlora";
  readonly trainable: number;
  readonly adapterP: Params | null;
  readonly model: GraphNode | null;
  readonly byId: ReadonlyMap<string, GraphNode>;
  readonly seqLen: number;
  readonly micro: number;
  readonly dpo: boolean;
  readonly hw: Params;
  readonly strategy: Strategy;
}

function memoryOf(node: GraphNode, arch: ArchShape, c: MemoryContext, notes: string[]): MemoryBreakdown {
  const precision = dtypeBytes(c.hw["precision"]) ?? 2;
  const weightBytes = dtypeBytes(c.model?.params["dtype"]) ?? 2;
  const trainingSpec: Training =
    c.training === "full"
      ? { kind: "full" }
      : c.training === "lora"
        ? { kind: "lora", trainable: c.trainable }
        : { kind: "qlora", trainable: c.trainable, doubleQuant: c.adapterP?.["double_quant"] === true, computeBytes: dtypeBytes(c.adapterP?.["compute_dtype"]) ?? 2 };
  const { memory, assumptions } = estimateMemory({
    arch,
    training: trainingSpec,
    weightBytes,
    activationBytes: precision,
    optimizer: strOr(node.params["optimizer"], "adamw"),
    microBatch: c.micro,
    seqLen: c.seqLen,
    dpo: c.dpo,
    reference: referenceOf(node, c, arch, weightBytes, notes),
    flashAttention: c.hw["flash_attention"] === true,
    gradientCheckpointing: node.params["gradient_checkpointing"] === true,
    strategy: c.strategy,
  });
  notes.push(...assumptions);
  return memory;
}

/** The extra model a DPO stage holds: none when reference-free or when a LoRA policy disables its adapter. */
function referenceOf(node: GraphNode, c: MemoryContext, policyArch: ArchShape, policyBytes: number, notes: string[]): { params: number; bytes: number } | null {
  const ref = node.inputs["reference"];
  if (!c.dpo) return null;
  if (!ref) {
    notes.push("reference = none: reference-free DPO holds no reference model");
    return null;
  }
  const policy = node.inputs["policy"];
  if (c.training !== "full" && policy && ref.node === policy.node && ref.port === policy.port) {
    notes.push("DPO reference: the policy with its adapter disabled (TRL with PEFT), so no second copy of the weights");
    return null;
  }
  const root = rootModel(ref, c.byId);
  const arch = archFromJson(root?.params["arch"]);
  const bytes = dtypeBytes(root?.params["dtype"]) ?? policyBytes;
  const params = countParams(arch ?? policyArch).total;
  notes.push(`DPO reference: a frozen copy of \`${ref.node}\` in ${bytes}-byte weights, no gradients or optimizer state${arch ? "" : " (its arch is unknown: sized like the policy)"}`);
  return { params, bytes };
}

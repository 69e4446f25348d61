// The GPU-memory model behind `tune plan`: per-device bytes for weights, adapter,
// gradients, optimizer state, activations, a DPO reference model and a fixed
// overhead, then sharded per the distribution strategy. Every formula used is
// returned as an assumption string, so the plan says what it assumed instead of
// printing a bare number. Pure arithmetic: no graph, no I/O.
import { countParams, linearShapes, type ArchShape } from "./params.js";
import { GiB, grouped } from "./units.js";

export type Training =
  | { readonly kind: "full" }
  | { readonly kind: "lora"; readonly trainable: number }
  | { readonly kind: "qlora"; readonly trainable: number; readonly doubleQuant: boolean; readonly computeBytes: number };

export interface Strategy {
  readonly kind: "single" | "ddp" | "deepspeed" | "fsdp";
  /** ZeRO stage as sharding goes: 0 for single/ddp, the `zero` attribute for deepspeed, 3 for fsdp. */
  readonly zero: number;
  readonly world: number;
  readonly offload: "none" | "cpu" | "nvme";
}

export interface MemoryInput {
  readonly arch: ArchShape;
  readonly training: Training;
  /** Bytes per weight of the loaded model (its dtype). */
  readonly weightBytes: number;
  /** Bytes per activation element (the mixed-precision compute dtype). */
  readonly activationBytes: number;
  readonly optimizer: string;
  readonly microBatch: number;
  readonly seqLen: number;
  /** DPO: each row is a chosen and a rejected sequence in one forward. */
  readonly dpo: boolean;
  /** A separate reference model to hold; null when none is needed or it is free (adapter disabled). */
  readonly reference: { readonly params: number; readonly bytes: number } | null;
  readonly flashAttention: boolean;
  readonly gradientCheckpointing: boolean;
  readonly strategy: Strategy;
}

/** Bytes per device. `offloaded` is what the strategy keeps in CPU/NVMe memory instead (not in `total`). */
export interface MemoryBreakdown {
  readonly weights: number;
  readonly adapter: number;
  readonly gradients: number;
  readonly optimizer: number;
  readonly activations: number;
  readonly reference: number;
  readonly overhead: number;
  readonly total: number;
  readonly offloaded: number;
}

export const OVERHEAD_BYTES = 1 * GiB;
/** NF4/FP4 block size (bitsandbytes Params4bit default) and the double-quant block of absmax values. */
const QBLOCK = 64;
const DQ_BLOCK = 256;

export function estimateMemory(inp: MemoryInput): { memory: MemoryBreakdown; assumptions: string[] } {
  const notes: string[] = [];
  const base = baseWeightBytes(inp, notes);
  const train = trainingStateBytes(inp, notes);
  const activations = activationBytes(inp, notes);
  const reference = inp.reference ? inp.reference.params * inp.reference.bytes : 0;
  const sharded = shard(inp, { weights: base, adapter: train.adapter, gradients: train.gradients, optimizer: train.optimizer, reference }, notes);
  notes.push(`CUDA context, allocator fragmentation and framework buffers: a fixed ${OVERHEAD_BYTES / GiB} GiB per device`);
  const { weights, adapter, gradients, optimizer, offloaded } = sharded;
  const total = weights + adapter + gradients + optimizer + activations + sharded.reference + OVERHEAD_BYTES;
  // Spelled out so the JSON key order is fixed.
  const memory = { weights, adapter, gradients, optimizer, activations, reference: sharded.reference, overhead: OVERHEAD_BYTES, total, offloaded };
  return { memory, assumptions: notes };
}

// ---- weights

/** Bytes of one quantised [out, in] weight: packed 4-bit codes plus its quantisation constants. */
export function quantizedBytes(n: number, doubleQuant: boolean): number {
  const blocks = Math.ceil(n / QBLOCK);
  const constants = doubleQuant ? blocks * 1 + Math.ceil(blocks / DQ_BLOCK) * 4 + 4 : blocks * 4;
  return Math.ceil(n / 2) + constants;
}

function baseWeightBytes(inp: MemoryInput, notes: string[]): number {
  const p = countParams(inp.arch);
  const t = inp.training;
  if (t.kind !== "qlora") {
    notes.push(`weights: ${grouped(p.total)} parameters × ${inp.weightBytes} B (the model's dtype)`);
    return p.total * inp.weightBytes;
  }
  const perLayer = Object.values(linearShapes(inp.arch)).reduce((s, l) => s + quantizedBytes(l.in * l.out, t.doubleQuant), 0);
  const nonLinear = p.total - p.linear;
  notes.push(
    t.doubleQuant
      ? "QLoRA weights: decoder Linears in 4 bits (0.5 B/weight) + per 64-weight block an 8-bit absmax (1 B) + one fp32 constant per 256 blocks (double quant)"
      : "QLoRA weights: decoder Linears in 4 bits (0.5 B/weight) + an fp32 absmax (4 B) per 64-weight block",
    `QLoRA: embeddings, norms and lm_head (${grouped(nonLinear)} parameters) stay in the ${t.computeBytes}-byte compute dtype`,
  );
  return inp.arch.layers * perLayer + nonLinear * t.computeBytes;
}

// ---- adapter, gradients, optimizer state

/** Optimizer state bytes per trainable parameter (excluding any fp32 master copy). */
export function optimizerStateBytes(optimizer: string): { bytes: number; note: string } {
  switch (optimizer) {
    case "adamw_8bit":
      return { bytes: 2, note: "adamw_8bit: m and v quantised to 8 bits, 2 B/parameter (block constants ignored)" };
    case "paged_adamw_32bit":
      return { bytes: 8, note: "paged_adamw_32bit: fp32 m and v, 8 B/parameter, counted as resident (paging only helps under pressure)" };
    case "sgd":
      return { bytes: 0, note: "sgd: no momentum, so no optimizer state" };
    default:
      return { bytes: 8, note: "AdamW: fp32 m and v, 8 B/parameter" };
  }
}

function trainingStateBytes(inp: MemoryInput, notes: string[]): { adapter: number; gradients: number; optimizer: number } {
  const state = optimizerStateBytes(inp.optimizer);
  notes.push(state.note);
  const t = inp.training;
  if (t.kind === "full") {
    const p = countParams(inp.arch).total;
    const master = inp.weightBytes < 4 ? 4 : 0;
    notes.push(
      master
        ? `full fine-tune in mixed precision: ${inp.weightBytes}-byte weights and gradients plus an fp32 master copy (4 B) with the optimizer state (ZeRO paper accounting, ${inp.weightBytes * 2 + 4 + state.bytes} B/parameter)`
        : `full fine-tune in fp32: 4-byte weights and gradients, no master copy (${8 + state.bytes} B/parameter)`,
    );
    return { adapter: 0, gradients: p * inp.weightBytes, optimizer: p * (master + state.bytes) };
  }
  notes.push(`adapter: ${grouped(t.trainable)} trainable parameters in fp32 (PEFT upcasts adapters): weights 4 B + gradients 4 B + optimizer ${state.bytes} B = ${8 + state.bytes} B/parameter; the frozen base has no gradients`);
  return { adapter: t.trainable * 4, gradients: t.trainable * 4, optimizer: t.trainable * state.bytes };
}

// ---- activations

/**
 * Korthikanti et al. 2022 ("Reducing Activation Recomputation in Large Transformer Models"), 16-bit activations,
 * no tensor/sequence parallelism: s·b·h·(34 + 5·a·s/h) bytes per layer. Flash attention never materialises the
 * a·s² scores: 34·s·b·h. Full gradient checkpointing keeps each layer's 2·s·b·h input and recomputes one layer at a time.
 */
export function activationBytes(inp: MemoryInput, notes: string[]): number {
  const { hidden: h, heads: a, layers: L, vocab: V } = inp.arch;
  const s = inp.seqLen;
  const b = inp.microBatch * (inp.dpo ? 2 : 1);
  const scale = inp.activationBytes / 2;
  const layer = inp.flashAttention ? 34 * s * b * h : 34 * s * b * h + 5 * a * s * s * b;
  const body = inp.gradientCheckpointing ? L * 2 * s * b * h + layer : L * layer;
  const logits = s * b * V * (inp.activationBytes + 8);
  const form = inp.flashAttention ? "34·s·b·h (flash attention: no a·s² attention scores)" : "s·b·h·(34 + 5·a·s/h) (attention scores materialised)";
  notes.push(
    `activations per layer (Korthikanti et al. 2022, GPT-style block applied to Llama): ${form}`,
    inp.gradientCheckpointing
      ? "gradient checkpointing: each layer keeps only its 2·s·b·h input; one layer's activations are recomputed at a time"
      : "no gradient checkpointing: every layer's activations are kept for backward",
    `activation size at micro_batch ${inp.microBatch}${inp.dpo ? " × 2 (DPO: chosen + rejected in one forward)" : ""} × sequence ${s} (the longest allowed; shorter batches use less)`,
    `logits: s·b·vocab × ${inp.activationBytes + 8} B (${inp.activationBytes}-byte logits + fp32 upcast + fp32 log-softmax for the loss)`,
  );
  if (scale !== 1) notes.push("activations scaled ×2 for fp32 compute");
  if (inp.training.kind !== "full") notes.push("LoRA's own activations (dropout copy, A·x) are ignored: small next to the layer's");
  return body * scale + logits;
}

// ---- sharding

type Shardable = { weights: number; adapter: number; gradients: number; optimizer: number; reference: number };

/** ZeRO-1 shards optimizer state, ZeRO-2 also gradients, ZeRO-3 / FSDP also weights; offload moves optimizer state off the GPU. */
function shard(inp: MemoryInput, m: Shardable, notes: string[]): Shardable & { offloaded: number } {
  const { zero, world, kind, offload } = inp.strategy;
  const div = (bytes: number, from: number): number => (zero >= from ? bytes / world : bytes);
  let optimizer = div(m.optimizer, 1);
  let offloaded = 0;
  if (offload !== "none" && (kind === "deepspeed" || kind === "fsdp")) {
    offloaded = optimizer;
    optimizer = 0;
    notes.push(`offload = ${offload}: optimizer state (and the fp32 master copy) lives off the GPU`);
  } else if (offload !== "none") notes.push(`offload = ${offload} applies to deepspeed and fsdp only; ignored for ${kind}`);
  const out = {
    weights: div(m.weights, 3),
    adapter: div(m.adapter, 3),
    gradients: div(m.gradients, 2),
    optimizer,
    reference: div(m.reference, 3),
    offloaded,
  };
  notes.push(strategyNote(inp.strategy));
  if (zero >= 3 && world > 1) {
    const layerParams = (countParams(inp.arch).linear + 2 * inp.arch.hidden * inp.arch.layers) / inp.arch.layers;
    out.weights += layerParams * inp.weightBytes;
    notes.push("ZeRO-3 / FSDP: one decoder layer's full weights are gathered at a time (added to weights); prefetch buckets ignored");
  }
  return out;
}

function strategyNote(s: Strategy): string {
  if (s.kind === "single" || (s.kind === "ddp" && s.world === 1)) return "single device: nothing is sharded";
  if (s.kind === "ddp") return `DDP on ${s.world} device(s): weights, gradients and optimizer state replicated on each (gradient buckets ignored)`;
  const what = ["nothing", "optimizer state", "optimizer state and gradients", "optimizer state, gradients and weights"][Math.min(3, s.zero)];
  const name = s.kind === "fsdp" ? "FSDP (full shard, like ZeRO-3)" : `DeepSpeed ZeRO-${s.zero}`;
  return `${name}: ${what} divided across ${s.world} device(s); activations are per device`;
}

export function describeStrategy(s: Strategy): string {
  const n = `${s.world} device${s.world === 1 ? "" : "s"}`;
  const off = s.offload !== "none" && (s.kind === "deepspeed" || s.kind === "fsdp") ? `, ${s.offload} offload` : "";
  if (s.kind === "single" || (s.kind === "ddp" && s.world === 1)) return "single device";
  if (s.kind === "ddp") return `DDP × ${n}`;
  if (s.kind === "fsdp") return `FSDP × ${n}${off}`;
  return `DeepSpeed ZeRO-${s.zero} × ${n}${off}`;
}

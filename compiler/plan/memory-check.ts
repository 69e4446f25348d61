// T4010: a training stage's estimated per-device memory exceeds the device's.
// A warning, not an error: the estimate is a model with stated assumptions, and
// a run may still fit (shorter real sequences, a leaner kernel). The help lists
// the remedies that apply to this stage's setup, largest effect first.
import { diag, type Diagnostic } from "../../grammar/diagnostic.js";
import type { Graph, GraphNode } from "../graph.js";
import type { StageEstimate } from "./estimate.js";
import { formatBytes } from "./units.js";

export function memoryDiagnostics(graph: Graph, estimates: readonly StageEstimate[]): Diagnostic[] {
  const byId = new Map(graph.nodes.map((n) => [n.id, n]));
  const out: Diagnostic[] = [];
  const reported = new Set<string>();
  for (const e of estimates) {
    const node = byId.get(e.node);
    // Rounds of one stage share an origin and an estimate: report the stage once.
    if (!e.exceeds || !e.memory || e.device.bytes === null || !node?.origin || reported.has(e.stage)) continue;
    reported.add(e.stage);
    out.push(exceedsDiagnostic(e, node));
  }
  return out;
}

function exceedsDiagnostic(e: StageEstimate, node: GraphNode): Diagnostic {
  const m = e.memory!;
  const device = e.device.bytes!;
  const where = e.device.gpu && e.device.gpu !== "cpu" ? `the ${formatBytes(device)} of one ${e.device.gpu}` : `the ${formatBytes(device)} device memory`;
  const message = `stage \`${e.stage}\` needs about ${formatBytes(m.total)} per device, more than ${where}`;
  const parts = (["weights", "adapter", "gradients", "optimizer", "activations", "reference", "overhead"] as const)
    .filter((k) => m[k] > 0)
    .map((k) => `${k} ${formatBytes(m[k])}`);
  const remedies = suggestions(e, node);
  return diag("T4010", "warning", message, node.origin!, `estimated ${formatBytes(m.total)} per device (${e.strategy})`, {
    notes: [`per device: ${parts.join(" + ")}`, "an estimate: `tune plan` lists the assumptions it rests on"],
    help: remedies.length ? remedies.join("; or ") : null,
  });
}

/** Remedies that apply and act on a noticeable share of memory, largest first. */
export function suggestions(e: StageEstimate, node: GraphNode): string[] {
  const m = e.memory!;
  const out: { bytes: number; text: string }[] = [];
  const zero = zeroStage(node);
  const sharded = e.world > 1;
  if (e.training !== "qlora" && zero < 2) {
    out.push({ bytes: m.optimizer + m.gradients, text: sharded ? `DeepSpeed ZeRO-2 (\`strategy = deepspeed\`, \`zero = 2\`) shards gradients and optimizer state across the ${e.world} devices` : "more devices with DeepSpeed ZeRO-2 (`strategy = deepspeed`, `zero = 2`) shard gradients and optimizer state" });
  }
  if (e.training !== "qlora" && zero < 3) {
    out.push({ bytes: m.weights + m.reference, text: sharded ? "ZeRO-3 (`zero = 3`) or FSDP also shards the weights" : "more devices with ZeRO-3 or FSDP shard the weights too" });
  }
  if (e.training !== "qlora") {
    out.push({ bytes: e.training === "full" ? m.weights + m.gradients + m.optimizer : m.weights, text: "QLoRA (`adapter { method = qlora }`) keeps the frozen base in 4 bits" });
  }
  if (node.params["gradient_checkpointing"] !== true) {
    out.push({ bytes: m.activations, text: "`gradient_checkpointing = true` keeps only each layer's input for backward" });
  }
  if (e.microBatch > 1) {
    out.push({ bytes: m.activations / 2, text: `a smaller \`micro_batch\` (now ${e.microBatch}; gradient accumulation keeps the batch)` });
  }
  // A remedy acting on under 5% of the total would not close the gap (ZeRO-2 under LoRA shards only the adapter's state).
  return out
    .filter((s) => s.bytes >= 0.05 * m.total)
    .sort((a, b) => b.bytes - a.bytes)
    .map((s) => s.text);
}

function zeroStage(node: GraphNode): number {
  const hw = node.params["hardware"];
  if (!hw || typeof hw !== "object" || Array.isArray(hw)) return 0;
  if (hw["strategy"] === "fsdp") return 3;
  if (hw["strategy"] !== "deepspeed") return 0;
  return typeof hw["zero"] === "number" ? hw["zero"] : 2;
}

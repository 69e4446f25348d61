// Renderers behind `tune plan`: the graph in execution order plus, per training
// stage, the sizes, the schedule and the per-device memory breakdown against the
// device, followed by every assumption the numbers rest on; or the same as JSON,
// a Graphviz digraph or a Mermaid flowchart. Strings only: the CLI prints them.
import { OPS, type Graph, type GraphNode } from "../graph.js";
import type { StageEstimate } from "./estimate.js";
import type { MemoryBreakdown } from "./memory.js";
import { renderDot, renderMermaid } from "./render-diagram.js";
import { describeCount } from "./rows.js";
import { formatBytes, formatCount, formatPercent } from "./units.js";

export type PlanFormat = "text" | "json" | "dot" | "mermaid";

export interface RenderOptions {
  readonly color: boolean;
}

export function renderPlan(graph: Graph, estimates: readonly StageEstimate[], format: PlanFormat, opts: RenderOptions): string {
  switch (format) {
    case "json":
      return renderJson(graph, estimates);
    case "dot":
      return renderDot(graph, estimates);
    case "mermaid":
      return renderMermaid(graph, estimates);
    default:
      return renderText(graph, estimates, opts);
  }
}

export function renderJson(graph: Graph, estimates: readonly StageEstimate[]): string {
  return JSON.stringify({ graph, estimates }, null, 2) + "\n";
}

// ---- text

type Paint = (s: string) => string;

interface Palette {
  readonly bold: Paint;
  readonly dim: Paint;
  readonly green: Paint;
  readonly red: Paint;
}

function palette(color: boolean): Palette {
  const sgr = (code: string): Paint => (color ? (s) => `\x1b[${code}m${s}\x1b[0m` : (s) => s);
  return { bold: sgr("1"), dim: sgr("2"), green: sgr("32"), red: sgr("31") };
}

export function renderText(graph: Graph, estimates: readonly StageEstimate[], opts: RenderOptions): string {
  const c = palette(opts.color);
  const out = [c.bold(`plan ${graph.recipe}`) + ` (seed ${graph.seed}, ${graph.nodes.length} nodes, ${estimates.length} training stage${estimates.length === 1 ? "" : "s"})`, ""];
  out.push(c.bold("graph") + " (execution order)", ...graphLines(graph, c));
  for (const e of estimates) out.push("", ...stageLines(e, c));
  return out.join("\n") + "\n";
}

function inputText(graph: Graph, n: GraphNode): string {
  return Object.entries(n.inputs)
    .map(([name, e]) => {
      const src = graph.nodes.find((x) => x.id === e.node);
      const port = src && OPS[src.op].outputs[0] === e.port ? "" : "." + e.port;
      return `${name}=${e.node}${port}`;
    })
    .join(", ");
}

function graphLines(graph: Graph, c: Palette): string[] {
  const width = Math.max(0, ...graph.nodes.map((n) => n.id.length));
  return graph.nodes.map((n) => {
    const inputs = inputText(graph, n);
    const line = `  ${c.dim(n.hash.slice(0, 8))}  ${inputs ? n.id.padEnd(width) + "  ← " + inputs : n.id}`;
    return line;
  });
}

/** Two-column rows, keys padded to a common width. */
function table(rows: readonly (readonly [string, string])[], indent: string): string[] {
  const width = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `${indent}${k.padEnd(width)}  ${v}`);
}

function trainingText(e: StageEstimate): string {
  if (!e.adapter) return `${e.method}, full fine-tune`;
  const kind = e.training === "qlora" ? "QLoRA" : "LoRA";
  return `${e.method}, ${kind} r=${e.adapter.r} on ${e.adapter.targets.join(", ")}`;
}

function stageLines(e: StageEstimate, c: Palette): string[] {
  const round = e.round > 1 || e.node.includes("/round") ? `, round ${e.round}` : "";
  const head = c.bold(`stage ${e.stage}`) + ` (${e.node}${round})`;
  const model = e.model ? `${e.model.replace(/^load_model:/, "")}${e.arch ? ` (${e.arch})` : " (no arch)"}` : "unknown";
  const trainable = e.trainable === null ? "unknown" : `${formatCount(e.trainable)} (${formatPercent(e.trainableFraction ?? 0)})`;
  const rows: [string, string][] = [
    ["training", trainingText(e)],
    ["model", model],
    ["parameters", e.parameters === null ? "unknown" : formatCount(e.parameters)],
    ["trainable", trainable],
    ["rows", describeCount(e.rows)],
    ["tokens", tokensText(e)],
    ["optimizer steps", describeCount(e.steps, "").trim() + (e.maxSteps !== null ? " (max_steps)" : ` (${e.epochs} epoch${e.epochs === 1 ? "" : "s"})`)],
    ["batch", `${e.microBatch} micro × ${e.gradAccum} accumulation × ${e.world} device${e.world === 1 ? "" : "s"} = ${e.microBatch * e.gradAccum * e.world} sequences/step`],
    ["sequence length", `${e.sequenceLength} tokens${e.method === "dpo" ? " (× 2: chosen + rejected)" : ""}`],
    ["strategy", e.strategy],
  ];
  const lines = [head, ...table(rows, "  "), ""];
  lines.push(...memoryLines(e, c), "", "  assumptions", ...e.assumptions.map((a) => `    · ${a}`));
  return lines;
}

function tokensText(e: StageEstimate): string {
  if (e.tokens.n === null) return "unknown";
  return `≤ ${formatCount(e.tokens.n)} (upper bound)`;
}

const MEMORY_ROWS: readonly (readonly [keyof MemoryBreakdown, string])[] = [
  ["weights", "weights"],
  ["adapter", "adapter weights"],
  ["gradients", "gradients"],
  ["optimizer", "optimizer state"],
  ["activations", "activations"],
  ["reference", "reference model"],
  ["overhead", "CUDA context/overhead"],
];

function memoryLines(e: StageEstimate, c: Palette): string[] {
  const m = e.memory;
  if (!m) return ["  memory per device: unknown (no arch)"];
  const label = (k: keyof MemoryBreakdown, l: string): string => (k === "weights" ? weightsLabel(e) : l);
  const rows: [string, string][] = MEMORY_ROWS.filter(([k]) => m[k] > 0 || k === "weights").map(([k, l]) => [label(k, l), formatBytes(m[k]).padStart(9)]);
  rows.push(["total", formatBytes(m.total).padStart(9) + "  " + verdict(e, c)]);
  if (m.offloaded > 0) rows.push(["offloaded to CPU", formatBytes(m.offloaded).padStart(9) + "  (not on the GPU)"]);
  return ["  memory per device", ...table(rows, "    ")];
}

function weightsLabel(e: StageEstimate): string {
  if (e.training === "qlora") return "weights (frozen, 4-bit)";
  return e.training === "lora" ? "weights (frozen)" : "weights";
}

/** "of 80.0 GiB (a100_80gb): fits, 62.3 GiB free" / "exceeds by 3.1 GiB". */
export function verdict(e: StageEstimate, c: Palette = palette(false)): string {
  const m = e.memory;
  const d = e.device;
  if (!m || d.bytes === null) return c.dim("(no device memory to compare with)");
  const of = `of ${formatBytes(d.bytes)}${d.gpu ? ` (${d.gpu})` : ""}: `;
  if (e.exceeds) return of + c.red(`exceeds by ${formatBytes(m.total - d.bytes)}`);
  return of + c.green(`fits, ${formatBytes(d.bytes - m.total)} free`);
}

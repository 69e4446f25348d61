// Graph → the steps of a PyTorch project: one job file per training node, export and eval node.
//
// Why this exists: the compiled graph says *what* to train; the torch programs need, per node, *where it
// starts* and *what it compares against*. Both are lineages — a base (a recipe model or an earlier full
// fine-tune's folder), earlier stages' adapters to merge into it, and an adapter to continue — computed here
// once from the graph's edges, so the Python side never re-derives graph semantics:
//   • a stage that inherits its predecessor's adapter continues training it (same base, same merges);
//   • a stage with its own adapter, or a full fine-tune, starts from everything before it merged;
//   • a DPO reference equal to the policy's base is the policy with its adapter disabled; a reference that is an
//     earlier adapter on that same base is loaded as a second, frozen adapter "ref"; anything else (full
//     fine-tuning, iterative rounds of it) is a separate frozen model; `reference = none` is reference-free.
// Data ops stay with tune's in-process executor (it hands over rendered JSONL); judge / generate / win-rate
// nodes are listed as not exported.
import type { Edge, Graph, GraphNode, Json } from "../../compiler/graph.js";
import { TorchError } from "./errors.js";

export interface ModelSpec {
  name: string;
  hub: string | null;
  path: string | null;
  revision: string | null;
  dtype: string;
}

export type LineageBase = { model: ModelSpec } | { dir: string; dtype: string };

export interface Lineage {
  base: LineageBase;
  /** Adapter folders (relative to the output root) merged into the base, in order. */
  merge: string[];
  /** Adapter folder loaded on top (trainable for a policy that continues it); null = none. */
  adapter: string | null;
}

export type Reference =
  | { kind: "none" }
  | { kind: "disable_adapter" }
  | { kind: "adapter"; dir: string }
  | { kind: "model"; base: LineageBase; merge: string[] };

export interface HardwareParams {
  gpu: string;
  devices: number;
  nodes: number;
  strategy: "single" | "ddp" | "deepspeed" | "fsdp";
  zero: number;
  offload: "none" | "cpu" | "nvme";
  precision: string;
  flash_attention: boolean;
}

export interface PlannedStep {
  kind: "train" | "export" | "eval";
  node: GraphNode;
  /** Folder name under the output root (runs/). */
  slug: string;
  /** Program that runs it, relative to the project root. */
  program: "train_sft.py" | "train_dpo.py" | "steps.py";
  /** jobs/NN-slug.json */
  config: string;
  /** Whether it runs under accelerate (all processes) or once. */
  distributed: boolean;
  /** The job file's content (data paths filled in by the exporter). */
  job: Record<string, Json>;
  summary: string;
}

export interface TorchRequirements {
  adapters: boolean;
  quantize: boolean;
  deepspeed: boolean;
  zero: number | null;
  fsdp: boolean;
  gpus: number;
  nodes: number;
  evals: boolean;
  flashAttention: boolean;
}

export interface TorchPlan {
  recipe: string;
  seed: number;
  steps: PlannedStep[];
  notExported: { node: string; op: string; reason: string }[];
  hardware: HardwareParams;
  requirements: TorchRequirements;
  /** Every DPO loss kind the recipe uses. */
  losses: string[];
  /** Schedules named by training nodes. */
  schedules: string[];
}

const DATA_OPS = new Set(["load_model", "load_data", "mix", "filter", "score", "dedup", "sample", "shuffle", "split", "tokenize"]);
const OPTIMIZERS: Record<string, string> = { adamw: "adamw_torch", paged_adamw_32bit: "paged_adamw_32bit", adamw_8bit: "adamw_bnb_8bit", sgd: "sgd" };
const DEFAULT_HW: HardwareParams = { gpu: "h100_80gb", devices: 1, nodes: 1, strategy: "single", zero: 2, offload: "none", precision: "bf16", flash_attention: false };

type P = { readonly [key: string]: Json };

export function slugOf(id: string): string {
  return id.replace(/[^A-Za-z0-9]+/g, "_").replace(/^_+|_+$/g, "");
}

function num(v: Json | undefined, fallback: number): number {
  return typeof v === "number" && Number.isFinite(v) ? v : fallback;
}

function str(v: Json | undefined, fallback: string): string {
  return typeof v === "string" ? v : fallback;
}

function obj(v: Json | undefined): P | null {
  return v !== null && typeof v === "object" && !Array.isArray(v) ? (v as P) : null;
}

export function planTorchProject(graph: Graph): TorchPlan {
  const byId = new Map(graph.nodes.map((n) => [n.id, n]));
  const slugs = new Map<string, string>();
  const used = new Set<string>();
  const slug = (id: string): string => {
    let s = slugs.get(id);
    if (s) return s;
    s = slugOf(id);
    for (let i = 2; used.has(s); i++) s = `${slugOf(id)}_${i}`;
    used.add(s);
    slugs.set(id, s);
    return s;
  };
  const input = (n: GraphNode, port: string): GraphNode => {
    const e: Edge | undefined = n.inputs[port];
    const src = e ? byId.get(e.node) : undefined;
    if (!src) throw new TorchError("T7624", `${n.id}: input \`${port}\` is missing from the graph`, "recompile the recipe (tune plan) and export again");
    return src;
  };
  const rootDtype = (n: GraphNode): string => {
    if (n.op === "load_model") return str(n.params["dtype"], "bf16");
    if (n.op === "train") return rootDtype(input(n, "policy"));
    throw new TorchError("T7624", `${n.id}: a model input comes from ${n.op}, not from a model or a training stage`, "recompile the recipe");
  };
  const modelSpec = (n: GraphNode): ModelSpec => ({
    name: n.id.slice("load_model:".length),
    hub: typeof n.params["hub"] === "string" ? (n.params["hub"] as string) : null,
    path: typeof n.params["path"] === "string" ? (n.params["path"] as string) : null,
    revision: typeof n.params["revision"] === "string" ? (n.params["revision"] as string) : null,
    dtype: str(n.params["dtype"], "bf16"),
  });
  /** What a node's output model is, as a lineage. */
  const lineageOf = (n: GraphNode): Lineage => {
    if (n.op === "load_model") return { base: { model: modelSpec(n) }, merge: [], adapter: null };
    if (n.op !== "train") throw new TorchError("T7624", `${n.id} (${n.op}) is used as a model`, "recompile the recipe");
    const start = startOf(n);
    const out = slug(n.id);
    if (!obj(n.params["adapter"])) return { base: { dir: `${out}/model`, dtype: rootDtype(n) }, merge: [], adapter: null };
    return { base: start.base, merge: start.merge, adapter: `${out}/adapter` };
  };
  /** Where a training node starts: its policy input's lineage, continued or merged (see header). */
  const startOf = (n: GraphNode): Lineage => {
    const from = lineageOf(input(n, "policy"));
    const adapter = obj(n.params["adapter"]);
    if (adapter && adapter["inherited"] === true && from.adapter) return from;
    return { base: from.base, merge: [...from.merge, ...(from.adapter ? [from.adapter] : [])], adapter: null };
  };
  const referenceOf = (n: GraphNode, start: Lineage): Reference | null => {
    if (n.params["method"] !== "dpo") return null;
    if (n.params["reference"] === "none" || !n.inputs["reference"]) return { kind: "none" };
    const r = lineageOf(input(n, "reference"));
    const sameBase = JSON.stringify(r.base) === JSON.stringify(start.base) && JSON.stringify(r.merge) === JSON.stringify(start.merge);
    if (obj(n.params["adapter"]) && sameBase) return r.adapter ? { kind: "adapter", dir: r.adapter } : { kind: "disable_adapter" };
    return { kind: "model", base: r.base, merge: [...r.merge, ...(r.adapter ? [r.adapter] : [])] };
  };

  const trains = graph.nodes.filter((n) => n.op === "train");
  const hwParams = trains.length > 0 ? obj(trains[0]!.params["hardware"]) : null;
  const hardware: HardwareParams = hwParams
    ? {
        gpu: str(hwParams["gpu"], DEFAULT_HW.gpu),
        devices: num(hwParams["devices"], 1),
        nodes: num(hwParams["nodes"], 1),
        strategy: str(hwParams["strategy"], "single") as HardwareParams["strategy"],
        zero: num(hwParams["zero"], 2),
        offload: str(hwParams["offload"], "none") as HardwareParams["offload"],
        precision: str(hwParams["precision"], "bf16"),
        flash_attention: hwParams["flash_attention"] === true,
      }
    : DEFAULT_HW;

  const steps: PlannedStep[] = [];
  const notExported: TorchPlan["notExported"] = [];
  const losses = new Set<string>();
  const schedules = new Set<string>();
  let quantize = false;
  let adapters = false;
  const configName = (s: string): string => `jobs/${String(steps.length + 1).padStart(2, "0")}-${s}.json`;
  for (const n of graph.nodes) {
    if (DATA_OPS.has(n.op)) continue;
    const s = slug(n.id);
    if (n.op === "train") {
      const p = n.params;
      const dpo = p["method"] === "dpo";
      const tok = input(n, "tokens");
      const start = startOf(n);
      const adapter = obj(p["adapter"]);
      adapters ||= adapter !== null;
      quantize ||= adapter?.["method"] === "qlora" || ["paged_adamw_32bit", "adamw_8bit"].includes(str(p["optimizer"], "adamw"));
      if (dpo) losses.add(str(p["loss"], "sigmoid"));
      schedules.add(str(p["schedule"], "linear"));
      const job = trainJob(graph, n, tok, start, referenceOf(n, start), hardware, s);
      const round = num(p["round"], 1);
      const rounds = num(p["rounds"], 1);
      const summary = `${dpo ? `${str(p["loss"], "sigmoid")} DPO` : str(p["method"], "sft").toUpperCase()}, ${adapter ? `${str(adapter["method"], "lora")} r=${num(adapter["r"], 8)}` : "full fine-tune"}, lr ${num(p["lr"], 0)}, batch ${num(p["batch"], 1)}, epochs ${num(p["epochs"], 1)}${rounds > 1 ? `, round ${round}/${rounds}` : ""}`;
      steps.push({ kind: "train", node: n, slug: s, program: dpo ? "train_dpo.py" : "train_sft.py", config: configName(s), distributed: true, job, summary });
    } else if (n.op === "export") {
      const lineage = lineageOf(input(n, "model"));
      const merge = n.params["merge"] === true;
      const job = { ...header(n, "export", s), merge, dtype: str(n.params["dtype"], "bf16"), lineage: lineage as unknown as Json };
      steps.push({ kind: "export", node: n, slug: s, program: "steps.py", config: configName(s), distributed: false, job, summary: merge ? `merge adapters into the base, save ${str(n.params["dtype"], "bf16")} safetensors` : "copy the PEFT adapter" });
    } else if (n.op === "eval_task") {
      const modelNode = input(n, "model");
      const job = {
        ...header(n, "eval", s),
        task: str(n.params["task"], ""),
        shots: num(n.params["shots"], 0),
        limit: typeof n.params["limit"] === "number" ? n.params["limit"] : null,
        metric: n.params["metric"] ?? null,
        dtype: rootDtype(modelNode) === "fp32" ? "fp32" : "bf16",
        seed: 1234,
        lineage: lineageOf(modelNode) as unknown as Json,
      };
      steps.push({ kind: "eval", node: n, slug: s, program: "steps.py", config: configName(s), distributed: false, job, summary: `lm_eval ${job.task}, ${job.shots}-shot` });
    } else {
      notExported.push({ node: n.id, op: n.op, reason: n.op === "report" ? "reports are written by tune from the results" : "judge, generation and win-rate steps run in tune's own engine (tune run)" });
    }
  }
  const evals = steps.some((s) => s.kind === "eval");
  return {
    recipe: graph.recipe,
    seed: graph.seed,
    steps,
    notExported,
    hardware,
    requirements: {
      adapters,
      quantize,
      deepspeed: hardware.strategy === "deepspeed",
      zero: hardware.strategy === "deepspeed" ? hardware.zero : null,
      fsdp: hardware.strategy === "fsdp",
      gpus: hardware.gpu === "cpu" ? 0 : hardware.devices,
      nodes: hardware.nodes,
      evals,
      flashAttention: hardware.flash_attention,
    },
    losses: [...losses].sort(),
    schedules: [...schedules].sort(),
  };
}

function header(n: GraphNode, kind: string, slug: string): Record<string, Json> {
  return { format: "tune-torch-job", version: 1, kind, node: n.id, hash: n.hash, output_dir: slug };
}

function warmup(v: Json | undefined): { steps: number; ratio: number } {
  const o = obj(v);
  if (o) {
    const value = num(o["value"], 0);
    return o["unit"] === "%" ? { steps: 0, ratio: value / 100 } : { steps: value, ratio: 0 };
  }
  return { steps: num(v, 0), ratio: 0 };
}

function trainJob(graph: Graph, n: GraphNode, tok: GraphNode, start: Lineage, reference: Reference | null, hw: HardwareParams, slug: string): Record<string, Json> {
  const p = n.params;
  const t = tok.params;
  const template = obj(t["template"]);
  const w = warmup(p["warmup"]);
  const dpo = p["method"] === "dpo";
  const job: Record<string, Json> = {
    ...header(n, "train", slug),
    stage: str(p["stage"], ""),
    method: str(p["method"], "sft"),
    round: num(p["round"], 1),
    rounds: num(p["rounds"], 1),
    seed: num(p["seed"], graph.seed),
    policy: start as unknown as Json,
    adapter: p["adapter"] ?? null,
    reference: reference as unknown as Json,
    tokenize: {
      cutoff: num(t["cutoff"], 1024),
      max_length: num(t["max_length"], 1024),
      max_prompt_length: num(t["max_prompt_length"], 512),
      truncation: str(t["truncation"], "keep_start"),
      packing: t["packing"] === true,
      eos: template ? template["eos"] === true : false,
      mask_prompt: template ? template["mask_prompt"] !== false : p["method"] !== "pretrain",
    },
    train: {
      epochs: num(p["epochs"], 1),
      max_steps: typeof p["max_steps"] === "number" ? p["max_steps"] : null,
      lr: num(p["lr"], 1e-5),
      batch: num(p["batch"], 1),
      micro_batch: num(p["micro_batch"], 1),
      weight_decay: num(p["weight_decay"], 0),
      warmup_steps: w.steps,
      warmup_ratio: w.ratio,
      schedule: str(p["schedule"], "linear"),
      optim: OPTIMIZERS[str(p["optimizer"], "adamw")] ?? "adamw_torch",
      betas: Array.isArray(p["betas"]) ? p["betas"] : [0.9, 0.999],
      eps: num(p["eps"], 1e-8),
      max_grad_norm: num(p["max_grad_norm"], 1),
      gradient_checkpointing: p["gradient_checkpointing"] === true,
    },
    precision: hw.precision,
    flash_attention: hw.flash_attention,
    data: { train: "", validation: null },
  };
  if (dpo) job["dpo"] = { loss: str(p["loss"], "sigmoid"), beta: num(p["beta"], 0.1), label_smoothing: num(p["label_smoothing"], 0) };
  return job;
}

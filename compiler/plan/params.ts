// Parameter counting for `tune plan`: a Llama-family shape (the `arch` preset a
// load_model node carries) → exact parameter totals, the shapes of every decoder
// Linear (what QLoRA quantises and LoRA targets) and LoRA trainable counts.
// Kept separate from the memory model so the counts can be tested against the
// published totals on their own.
import type { Json } from "../graph.js";

/** The shape of a Llama-family decoder, as lowered into `load_model` params.arch. */
export interface ArchShape {
  readonly name: string | null;
  readonly vocab: number;
  readonly hidden: number;
  readonly intermediate: number;
  readonly layers: number;
  readonly heads: number;
  readonly kvHeads: number;
  readonly headDim: number;
  readonly tied: boolean;
  readonly maxPosition: number;
}

/** The Linear modules of one decoder layer (HF LlamaDecoderLayer names). */
export const LINEAR_MODULES = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"] as const;
export type LinearModule = (typeof LINEAR_MODULES)[number];

export interface LinearShape {
  readonly in: number;
  readonly out: number;
}

export interface ParamCounts {
  readonly total: number;
  /** Embedding matrix V·D. */
  readonly embedding: number;
  /** Output projection V·D, 0 when tied to the embedding. */
  readonly lmHead: number;
  /** RMSNorm weights: 2 per layer plus the final norm. */
  readonly norms: number;
  /** All decoder-layer Linear weights (the ones QLoRA quantises). */
  readonly linear: number;
}

function num(obj: { [key: string]: Json }, key: string): number | null {
  const v = obj[key];
  return typeof v === "number" && Number.isFinite(v) ? v : null;
}

/** Reads params.arch; null when absent or missing a required dimension. */
export function archFromJson(arch: Json | undefined): ArchShape | null {
  if (!arch || typeof arch !== "object" || Array.isArray(arch)) return null;
  const [vocab, hidden, intermediate, layers, heads] = ["vocab", "hidden", "intermediate", "layers", "heads"].map((k) => num(arch, k));
  if (!vocab || !hidden || !intermediate || !layers || !heads) return null;
  return {
    name: typeof arch["name"] === "string" ? arch["name"] : null,
    vocab,
    hidden,
    intermediate,
    layers,
    heads,
    kvHeads: num(arch, "kv_heads") ?? heads,
    headDim: num(arch, "head_dim") ?? Math.floor(hidden / heads),
    tied: arch["tied"] === true,
    maxPosition: num(arch, "max_position") ?? 0,
  };
}

/** in/out features of each decoder Linear (weights are [out, in]; Llama Linears have no bias). */
export function linearShapes(a: ArchShape): Record<LinearModule, LinearShape> {
  const d = a.hidden;
  const q = a.heads * a.headDim;
  const kv = a.kvHeads * a.headDim;
  return {
    q_proj: { in: d, out: q },
    k_proj: { in: d, out: kv },
    v_proj: { in: d, out: kv },
    o_proj: { in: q, out: d },
    gate_proj: { in: d, out: a.intermediate },
    up_proj: { in: d, out: a.intermediate },
    down_proj: { in: a.intermediate, out: d },
  };
}

/** Exact LlamaForCausalLM parameter count. */
export function countParams(a: ArchShape): ParamCounts {
  const perLayerLinear = Object.values(linearShapes(a)).reduce((s, l) => s + l.in * l.out, 0);
  const embedding = a.vocab * a.hidden;
  const lmHead = a.tied ? 0 : a.vocab * a.hidden;
  const norms = a.layers * 2 * a.hidden + a.hidden;
  const linear = a.layers * perLayerLinear;
  return { total: embedding + lmHead + norms + linear, embedding, lmHead, norms, linear };
}

export interface LoraCount {
  readonly trainable: number;
  /** The modules adapted, in canonical order. */
  readonly modules: readonly string[];
  /** Target names that match no Llama Linear (counted as 0). */
  readonly unmatched: readonly string[];
}

/** Target list as lowered: "all_linear" or a list of module names. */
export function loraTargets(targets: Json | undefined): string[] {
  if (targets === "all_linear") return [...LINEAR_MODULES];
  if (Array.isArray(targets)) return targets.filter((t): t is string => typeof t === "string");
  return ["q_proj", "v_proj"]; // the adapter block's default
}

/** LoRA adds A [r, in] and B [out, r] per targeted Linear: r·(in + out) each, per layer. */
export function loraTrainable(a: ArchShape, r: number, targets: readonly string[]): LoraCount {
  const shapes = linearShapes(a);
  let trainable = 0;
  const modules: string[] = [];
  const unmatched: string[] = [];
  for (const t of new Set(targets)) {
    if ((LINEAR_MODULES as readonly string[]).includes(t)) {
      const s = shapes[t as LinearModule];
      trainable += a.layers * r * (s.in + s.out);
      modules.push(t);
    } else if (t === "lm_head") {
      trainable += r * (a.hidden + a.vocab);
      modules.push(t);
    } else unmatched.push(t);
  }
  const order = (m: string): number => [...LINEAR_MODULES, "lm_head"].indexOf(m);
  modules.sort((x, y) => order(x) - order(y));
  return { trainable, modules, unmatched };
}

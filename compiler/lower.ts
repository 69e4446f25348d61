// Lowering: checked recipe → execution graph. Each block becomes the nodes that
// compute it (a data pipeline one node per op, a stage tokenize + train per
// round, an eval suite one node per task per model, one report). Nodes are
// created in dependency order, so the node list is topologically sorted.
import type { Expr } from "../grammar/ast.js";
import type { CheckedProgram } from "./check/index.js";
import type { CheckedBlock } from "./check/blocks.js";
import { attr, boolAttr, numAttr, strAttr, type CheckContext } from "./check/context.js";
import { datasetFields, fieldsOf, mixSources } from "./check/data.js";
import { worldSize } from "./check/stages.js";
import type { Value } from "./check/values.js";
import { nodeHash, OPS, type Edge, type Graph, type GraphNode, type Json, type OpName } from "./graph.js";
// Stage and eval lowering live in their own modules to keep files small.
import { lowerEval } from "./lower-eval.js";
import { lowerStage } from "./lower-stage.js";

export class GraphBuilder {
  readonly nodes: GraphNode[] = [];
  private readonly byId = new Map<string, GraphNode>();
  private readonly memo = new Map<CheckedBlock, Edge>();

  constructor(readonly ctx: CheckContext) {}

  add(id: string, op: OpName, params: Record<string, Json>, inputs: Record<string, Edge>, origin: CheckedBlock | null): Edge {
    const existing = this.byId.get(id);
    if (existing) return { node: id, port: OPS[op].outputs[0] };
    const inputHashes: Record<string, string> = {};
    for (const [k, e] of Object.entries(inputs)) inputHashes[k] = this.byId.get(e.node)!.hash + ":" + e.port;
    const node: GraphNode = { id, op, version: OPS[op].version, params, inputs, hash: nodeHash(op, params, inputHashes), origin: origin?.node.span ?? null };
    this.nodes.push(node);
    this.byId.set(id, node);
    return { node: id, port: OPS[op].outputs[0] };
  }

  node(id: string): GraphNode | undefined {
    return this.byId.get(id);
  }

  memoize(b: CheckedBlock, make: () => Edge): Edge {
    const hit = this.memo.get(b);
    if (hit) return hit;
    const e = make();
    this.memo.set(b, e);
    return e;
  }
}

export function valueJson(v: Value | undefined): Json {
  if (!v) return null;
  switch (v.k) {
    case "number":
      // Percentages and memory sizes keep their unit; counts (2k, 256 tokens, 3 epochs) are plain numbers.
      return v.unit && ["%", "GB", "GiB", "MB", "MiB"].includes(v.unit) ? { value: v.value, unit: v.unit } : v.value;
    case "string":
    case "enum":
    case "name":
      return v.value;
    case "bool":
      return v.value;
    case "none":
      return null;
    case "ref":
      return v.symbol.name;
    case "list":
      return v.items.map(valueJson);
    case "range":
      return [v.lo, v.hi];
    case "expr":
      return exprJson(v.expr);
  }
}

/** Filter expressions travel as a small JSON AST the runtime evaluates. */
export function exprJson(e: Expr): Json {
  switch (e.kind) {
    case "number":
      return { num: e.value };
    case "string":
      return { str: e.value };
    case "bool":
      return { bool: e.value };
    case "none":
      return { none: true };
    case "ref":
      return { field: e.path.map((p) => p.text).join(".") };
    case "call":
      return { call: e.callee.path.map((p) => p.text).join("."), args: e.args.map((a) => exprJson(a.value)) };
    case "binary":
      return { op: e.op, left: exprJson(e.left), right: exprJson(e.right) };
    case "unary":
      return { op: e.op, operand: exprJson(e.operand) };
    default:
      return null;
  }
}

/** All attributes with spec defaults applied, as JSON (the node params of a block). */
export function blockParams(b: CheckedBlock, skip: string[] = []): Record<string, Json> {
  const out: Record<string, Json> = {};
  for (const [key, spec] of Object.entries(b.spec.attrs)) {
    if (skip.includes(key)) continue;
    const v = b.attrs.get(key);
    if (v) out[key] = valueJson(v);
    else if (spec.default !== undefined) out[key] = spec.default as Json;
  }
  return out;
}

export function archParams(ctx: CheckContext, model: CheckedBlock): Json {
  const arch = ctx.target(attr(model, "arch"));
  if (!arch) return null;
  const p = blockParams(arch);
  p["name"] = arch.name;
  return p;
}

export function lowerProgram(checked: CheckedProgram): Graph {
  const { ctx, entry } = checked;
  const g = new GraphBuilder(ctx);
  const recipe = entry.find((b) => b.kind === "recipe");
  const seed = recipe ? numAttr(recipe, "seed") ?? 42 : 42;
  const hardware = entry.find((b) => b.kind === "hardware");
  const lowering = new Lowering(g, ctx, seed, hardware);
  for (const b of entry) if (b.kind === "stage") lowering.stage(b);
  for (const b of entry) if (b.kind === "export") lowering.exportBlock(b);
  const results: Edge[] = [];
  for (const b of entry) if (b.kind === "eval") results.push(...lowering.evalBlock(b));
  if (results.length > 0) {
    const inputs: Record<string, Edge> = {};
    results.forEach((e, i) => (inputs[`r${i}`] = e));
    g.add("report:" + (recipe?.name ?? "recipe"), "report", { formats: ["md", "json", "html"] }, inputs, null);
  }
  return { format: "tune-graph", version: 1, recipe: recipe?.name ?? "recipe", seed, nodes: g.nodes };
}

export class Lowering {
  constructor(
    readonly g: GraphBuilder,
    readonly ctx: CheckContext,
    readonly seed: number,
    readonly hardware: CheckedBlock | undefined,
  ) {}

  model(b: CheckedBlock): Edge {
    return this.g.memoize(b, () => {
      const random = strAttr(b, "init") === "random";
      const params = blockParams(b, random ? ["arch"] : ["arch", "seed"]);
      params["arch"] = archParams(this.ctx, b);
      // A random initialisation is part of what the node computes: its seed goes into the params (and the hash).
      if (random) params["seed"] = numAttr(b, "seed") ?? this.seed;
      return this.g.add(`load_model:${b.name}`, "load_model", params, {}, b);
    });
  }

  /** A `from`/`reference` target: a model loads; a stage yields its trained model. */
  modelOrStage(b: CheckedBlock): Edge {
    return b.kind === "stage" ? this.stage(b) : this.model(b);
  }

  dataset(b: CheckedBlock): Edge {
    return this.g.memoize(b, () => {
      const params = blockParams(b, []);
      params["fields"] = datasetFields(b).map((f) => ({ name: f.name, type: f.of ? `${f.type}<${f.of}>` : f.type, optional: f.optional, default: valueJson(f.default ?? undefined), from: f.source }));
      return this.g.add(`load_data:${b.name}`, "load_data", params, {}, b);
    });
  }

  /** The rows of a data block; the `train` port when the pipeline splits. */
  data(b: CheckedBlock): Edge {
    if (b.kind === "dataset") return this.dataset(b);
    return this.g.memoize(b, () => {
      let cur = this.dataInput(b);
      b.steps.forEach((s, i) => {
        const params: Record<string, Json> = {};
        for (const [k, v] of s.args) params[k] = valueJson(v);
        if (["sample", "shuffle", "split", "dedup"].includes(s.op) && params["seed"] === undefined) params["seed"] = this.seed;
        if (s.op === "dedup" && params["mode"] === undefined) params["mode"] = "exact";
        const inputs: Record<string, Edge> = { rows: cur };
        if (s.op === "score") this.scoreJudge(s.args, params, inputs);
        cur = this.g.add(`${s.op}:${b.name}#${i + 1}`, s.op as OpName, params, inputs, b);
      });
      return cur;
    });
  }

  /**
   * `score(judge = j, prompt = p)`: the judge's settings and the prompt's text go
   * into the node (and so its hash): changing either re-scores. A local judge
   * model becomes an input edge.
   */
  private scoreJudge(args: ReadonlyMap<string, Value>, params: Record<string, Json>, inputs: Record<string, Edge>): void {
    const judge = this.ctx.target(args.get("judge"));
    const prompt = this.ctx.target(args.get("prompt"));
    const judgeModel = judge ? this.ctx.target(attr(judge, "model")) : null;
    if (judgeModel) inputs["judge_model"] = this.modelOrStage(judgeModel);
    if (judge) params["judge"] = { name: judge.name, ...blockParams(judge, ["model"]), model: judgeModel?.name ?? null };
    if (prompt) params["prompt"] = { name: prompt.name, ...blockParams(prompt) };
  }

  private dataInput(b: CheckedBlock): Edge {
    const from = this.ctx.target(attr(b, "from"));
    if (from) return this.trainPort(this.data(from));
    const mix = b.blocks.find((x) => x.kind === "mix");
    const sources = mix ? mixSources(this.ctx, mix) : [];
    const inputs: Record<string, Edge> = {};
    for (const s of sources) inputs[s.key] = this.trainPort(this.data(s.block));
    const params: Record<string, Json> = {
      relative_to: mix ? strAttr(mix, "relative_to") ?? "each_source" : "each_source",
      percent: Object.fromEntries(sources.map((s) => [s.key, s.percent])),
      seed: mix ? numAttr(mix, "seed") ?? this.seed : this.seed,
    };
    return this.g.add(`mix:${b.name}`, "mix", params, inputs, b);
  }

  private trainPort(e: Edge): Edge {
    return this.g.node(e.node)?.op === "split" ? { node: e.node, port: "train" } : e;
  }

  stage(b: CheckedBlock): Edge {
    return this.g.memoize(b, () => lowerStage(this, b));
  }

  exportBlock(b: CheckedBlock): Edge | null {
    const stage = this.ctx.target(attr(b, "from"));
    if (!stage) return null;
    const params = blockParams(b, ["from"]);
    params["stage"] = stage.name;
    return this.g.add(`export:${b.name ?? stage.name}`, "export", params, { model: this.stage(stage) }, b);
  }

  evalBlock(b: CheckedBlock): Edge[] {
    return lowerEval(this, b);
  }

  stageFields(b: CheckedBlock): Json {
    const data = this.ctx.target(attr(b, "data"));
    const f = data ? fieldsOf(this.ctx, data) : null;
    return f ? f.map((x) => x.name) : null;
  }

  world(): number {
    return worldSize(this.hardware);
  }

  hardwareParams(): Json {
    return this.hardware ? blockParams(this.hardware) : { devices: 1, nodes: 1, strategy: "single" };
  }

  bool(b: CheckedBlock, key: string): boolean {
    return boolAttr(b, key);
  }
}

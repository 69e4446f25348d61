// Data rules: sources have exactly one origin and a schema, pipelines have one
// input, and every field a filter, template or stage names exists at that point
// of the pipeline (after renames, scores and mixes). `fieldsOf` is the field
// flow the later rules (templates, DPO columns) rely on.
import type { Expr } from "../../grammar/ast.js";
import { didYouMean } from "../suggest.js";
import type { CheckedBlock, CheckedStep, FieldDecl } from "./blocks.js";
import { attr, label, spanOf, strAttr, type CheckContext } from "./context.js";

export interface FieldInfo {
  readonly name: string;
  readonly type: string;
}

const FORMATS: Record<string, string> = { json: "json", jsonl: "jsonl", ndjson: "jsonl", csv: "csv", parquet: "parquet" };
const ROW_FUNCTIONS: Record<string, string> = { len: "number of characters of a text field", tokens: "number of tokens with the stage's tokenizer" };

export function checkDataset(ctx: CheckContext, b: CheckedBlock): void {
  const path = attr(b, "path");
  const hub = attr(b, "hub");
  if ((path ? 1 : 0) + (hub ? 1 : 0) !== 1) {
    ctx.report("T3017", "error", `${label(b)} needs exactly one of \`path\` or \`hub\``, path?.span ?? hub?.span ?? b.node.type.span, path && hub ? "both given" : "no source", {
      help: 'use `path = "data/train.jsonl"` for a local file or `hub = "org/name"` for a Hub dataset',
    });
  }
  if (path?.k === "string" && !attr(b, "format")) {
    const ext = /\.([A-Za-z0-9]+)$/.exec(path.value)?.[1]?.toLowerCase() ?? "";
    if (!FORMATS[ext]) {
      ctx.report("T5001", "error", `cannot tell the format of \`${path.value}\` from its extension`, path.span, "unknown extension", {
        help: "add `format = json | jsonl | csv | parquet`",
      });
    }
  }
  if (!b.blocks.some((x) => x.kind === "fields")) {
    ctx.report("T5007", "error", `${label(b)} declares no fields`, b.node.type.span, "no `fields { … }` block", {
      help: "declare the columns you use, e.g. `fields { instruction: string  output: string }`; tune checks templates against them",
    });
  }
}

export function datasetFields(b: CheckedBlock): FieldDecl[] {
  return [...(b.blocks.find((x) => x.kind === "fields")?.fields ?? [])];
}

/** Fields available after a data block's whole pipeline (or a dataset's schema). Memoised per block. */
export function fieldsOf(ctx: CheckContext, b: CheckedBlock, seen = new Set<CheckedBlock>()): FieldInfo[] | null {
  if (b.kind === "dataset") return datasetFields(b).map((f) => ({ name: f.name, type: f.type }));
  if (b.kind !== "data" || seen.has(b)) return null;
  seen.add(b);
  let fields = inputFields(ctx, b, seen);
  if (!fields) return null;
  for (const s of b.steps) {
    if (s.op === "score") {
      const f = s.args.get("field");
      if (f?.k === "string") fields = [...fields.filter((x) => x.name !== f.value), { name: f.value, type: "float" }];
    }
  }
  return fields;
}

function inputFields(ctx: CheckContext, b: CheckedBlock, seen: Set<CheckedBlock>): FieldInfo[] | null {
  const from = ctx.target(attr(b, "from"));
  if (from) return fieldsOf(ctx, from, seen);
  const mix = b.blocks.find((x) => x.kind === "mix");
  if (!mix) return null;
  let common: FieldInfo[] | null = null;
  for (const { value } of mix.free.values()) {
    const src = ctx.target(value);
    const f = src ? fieldsOf(ctx, src, seen) : null;
    if (!f) return null;
    common = common ? common.filter((c) => f.some((x) => x.name === c.name)) : f;
  }
  return common;
}

export function checkData(ctx: CheckContext, b: CheckedBlock): void {
  const mix = b.blocks.find((x) => x.kind === "mix");
  const from = attr(b, "from");
  if ((mix ? 1 : 0) + (b.keySpans.has("from") ? 1 : 0) !== 1) {
    ctx.report("T4020", "error", `${label(b)} needs exactly one input: \`from = …\` or a \`mix { … }\` block`, from?.span ?? b.node.type.span, mix ? "both given" : "no input");
  }
  if (mix) checkMix(ctx, mix);
  let fields = inputFields(ctx, b, new Set([b]));
  let splits = 0;
  for (const s of b.steps) {
    if (fields) checkStepFields(ctx, s, fields);
    if (s.op === "score" && fields) {
      const f = s.args.get("field");
      if (f?.k === "string") fields = [...fields, { name: f.value, type: "float" }];
      checkScoreRange(ctx, s);
    }
    if (s.op === "dedup") checkDedup(ctx, s);
    if (s.op === "split") {
      splits++;
      const v = s.args.get("validation");
      if (v?.k === "number" && v.unit === "%" && v.value >= 100) {
        ctx.report("T5002", "error", "the validation split takes every row", v.span, "must be below 100%", { help: "typical values are 1%–10%" });
      }
      if (splits > 1) ctx.report("T5009", "error", `${label(b)} splits twice`, s.node.op.span, "second split", { help: "one `split(…)` per pipeline" });
    }
    if (s.op === "sample") {
      const n = s.args.get("n");
      if (n?.k === "number" && n.unit === "%" && n.value > 100) {
        ctx.report("T3002", "error", "a sample cannot keep more than 100% of the rows", n.span, "above 100%");
      }
    }
  }
}

function checkMix(ctx: CheckContext, mix: CheckedBlock): void {
  const relative = strAttr(mix, "relative_to");
  let total = 0;
  for (const [key, { value, keySpan }] of mix.free) {
    void value;
    total += value.k === "number" ? value.value : 0;
    if (value.k === "number" && value.unit !== "%") {
      ctx.report("T4007", "error", `mix share of \`${key}\` must be a percentage`, value.span, "write it as `N%`");
    }
    if (relative === "each_source" && value.k === "number" && value.value > 100) {
      ctx.report("T4007", "error", `\`${key}\` cannot contribute more than 100% of its rows`, value.span, "above 100%", {
        help: "relative_to = each_source means a share of that source's own rows",
      });
    }
    const sym = lookupSource(ctx, mix, key);
    if (!sym) reportMixSource(ctx, mix, key, keySpan);
  }
  if (relative === "total" && mix.free.size > 0 && Math.abs(total - 100) > 1e-9) {
    ctx.report("T4007", "error", `mix shares add up to ${+total.toFixed(6)}%, not 100%`, mix.node.type.span, "shares of the total", {
      help: "with relative_to = total the shares are parts of the final mix and must sum to 100%; use relative_to = each_source for \"100% of A + 1% of B\"",
    });
  }
}

/** A mix key that is not a dataset or data block: the wrong kind (T3007) or unknown (T2001). */
function reportMixSource(ctx: CheckContext, mix: CheckedBlock, key: string, keySpan: Expr["span"]): void {
  const scope = ctx.program.modules.get(mix.module)?.scope;
  const binding = scope?.get(key);
  if (binding?.kind === "symbol") {
    const def = binding.symbol.block.name;
    ctx.report("T3007", "error", `\`${key}\` is a ${binding.symbol.kind}, but mix sources are datasets or data pipelines`, keySpan, `this is a ${binding.symbol.kind}`, {
      secondary: def && def.span.file === keySpan.file ? [{ span: def.span, message: `${binding.symbol.kind} defined here` }] : [],
    });
    return;
  }
  const sources = [...(scope?.values() ?? [])].flatMap((b) =>
    b.kind === "symbol" && (b.symbol.kind === "dataset" || b.symbol.kind === "data") ? [b.symbol.name] : [],
  );
  ctx.report("T2001", "error", `unknown dataset \`${key}\` in mix`, keySpan, "no dataset or data with this name", {
    help: didYouMean(key, sources) ?? (sources.length ? `datasets and data here: ${sources.join(", ")}` : null),
  });
}

function lookupSource(ctx: CheckContext, mix: CheckedBlock, key: string) {
  const binding = ctx.program.modules.get(mix.module)?.scope.get(key);
  if (binding?.kind !== "symbol") return null;
  return binding.symbol.kind === "dataset" || binding.symbol.kind === "data" ? binding.symbol : null;
}

/**
 * Data pipelines' `from` and mix sources must form a DAG. Lowering walks these
 * links recursively; a cycle (`data a { from = b }`, `data b { from = a }`, or a
 * mix listing its own pipeline) has no meaning and would never terminate.
 */
export function checkDataCycles(ctx: CheckContext, blocks: readonly CheckedBlock[]): void {
  const state = new Map<CheckedBlock, "visiting" | "done">();
  const inputs = (b: CheckedBlock): { block: CheckedBlock; span: Expr["span"] }[] => {
    const from = ctx.target(attr(b, "from"));
    const mix = b.blocks.find((x) => x.kind === "mix");
    const viaMix = mix ? mixSources(ctx, mix).map((s) => ({ block: s.block, span: mix.free.get(s.key)!.keySpan })) : [];
    return [...(from ? [{ block: from, span: spanOf(b, "from") }] : []), ...viaMix].filter((x) => x.block.kind === "data");
  };
  const visit = (b: CheckedBlock, path: CheckedBlock[]): void => {
    state.set(b, "visiting");
    for (const input of inputs(b)) {
      const s = state.get(input.block);
      if (s === "visiting") {
        const cycle = [...path.slice(path.indexOf(input.block)), b, input.block].map((x) => x.name).join(" → ");
        ctx.report("T4028", "error", `data pipelines form a cycle: ${cycle}`, input.span, "reads from a pipeline that reads from this one", {
          help: "a pipeline can read only from datasets and from pipelines that do not depend on it",
        });
      } else if (s === undefined) visit(input.block, [...path, b]);
    }
    state.set(b, "done");
  };
  for (const b of blocks) if (b.kind === "data" && !state.has(b)) visit(b, []);
}

/** The mix block's keys are dataset names: resolve them the way refs are resolved. */
export function mixSources(ctx: CheckContext, mix: CheckedBlock): { key: string; block: CheckedBlock; percent: number }[] {
  const out: { key: string; block: CheckedBlock; percent: number }[] = [];
  for (const [key, { value }] of mix.free) {
    const sym = lookupSource(ctx, mix, key);
    const block = sym ? ctx.blockOf(sym) : undefined;
    if (block && value.k === "number") out.push({ key, block, percent: value.value });
  }
  return out;
}

function checkScoreRange(ctx: CheckContext, s: CheckedStep): void {
  const prompt = ctx.target(s.args.get("prompt"));
  const r = s.args.get("range");
  const pr = prompt ? attr(prompt, "range") : undefined;
  if (r?.k === "range" && pr?.k === "range" && (r.lo < pr.lo || r.hi > pr.hi)) {
    ctx.report("T5004", "error", `score range ${r.lo}..${r.hi} is outside the prompt's ${pr.lo}..${pr.hi}`, r.span, "outside the prompt's range", {
      secondary: [{ span: pr.span, message: "the prompt asks for this range" }],
    });
  }
}

function checkDedup(ctx: CheckContext, s: CheckedStep): void {
  const mode = s.args.get("mode");
  const threshold = s.args.get("threshold");
  if (mode?.k === "enum" && mode.value === "near" && !threshold) {
    ctx.report("T5008", "error", "near-duplicate removal needs a `threshold`", s.node.op.span, "no threshold", {
      help: "e.g. `dedup(near, threshold = 0.8)`; rows at or above this Jaccard similarity are duplicates",
    });
  }
  if ((!mode || (mode.k === "enum" && mode.value === "exact")) && threshold) {
    ctx.report("T5008", "warning", "`threshold` has no effect on exact dedup", threshold.span, "ignored", { help: "use `dedup(near, threshold = …)`" });
  }
}

function checkStepFields(ctx: CheckContext, s: CheckedStep, fields: FieldInfo[]): void {
  const on = s.args.get("on");
  if (on?.k === "list") for (const item of on.items) if (item.k === "name") requireField(ctx, item.value, item.span, fields);
  const where = s.args.get("where");
  if (where?.k === "expr") {
    const t = exprType(ctx, where.expr, fields);
    if (t !== null && t !== "bool") {
      ctx.report("T5003", "error", `a filter must be a condition, found a ${t} expression`, where.span, "not true/false", {
        help: "compare it, e.g. `score >= 4.5` or `len(output) > 0`",
      });
    }
  }
}

function requireField(ctx: CheckContext, name: string, span: Expr["span"], fields: FieldInfo[]): FieldInfo | null {
  const f = fields.find((x) => x.name === name);
  if (f) return f;
  ctx.report("T2010", "error", `unknown field \`${name}\``, span, "no such field at this point", {
    help: didYouMean(name, fields.map((x) => x.name)) ?? `fields here: ${fields.map((x) => x.name).join(", ")}`,
  });
  return null;
}

type ExprType = "bool" | "number" | "string" | "list" | null;

/** Types a filter expression over row fields; null where an error was reported (no cascades). */
export function exprType(ctx: CheckContext, e: Expr, fields: FieldInfo[]): ExprType {
  switch (e.kind) {
    case "number":
      return "number";
    case "string":
      return "string";
    case "bool":
      return "bool";
    case "ref": {
      const f = e.path.length === 1 ? requireField(ctx, e.path[0]!.text, e.span, fields) : null;
      if (e.path.length !== 1) {
        ctx.report("T2010", "error", "fields are plain names", e.span, "not a field", { help: `write \`${e.path[e.path.length - 1]?.text ?? ""}\`` });
      }
      if (!f) return null;
      return f.type === "bool" ? "bool" : f.type === "int" || f.type === "float" ? "number" : f.type === "string" ? "string" : "list";
    }
    case "call": {
      const fn = e.callee.path.map((p) => p.text).join(".");
      if (!ROW_FUNCTIONS[fn]) {
        ctx.report("T2013", "error", `unknown function \`${fn}\``, e.callee.span, "not a filter function", {
          help: didYouMean(fn, Object.keys(ROW_FUNCTIONS)) ?? `functions: ${Object.entries(ROW_FUNCTIONS).map(([k, v]) => `${k} (${v})`).join("; ")}`,
        });
        return null;
      }
      for (const a of e.args) exprType(ctx, a.value, fields);
      return "number";
    }
    case "binary": {
      const l = exprType(ctx, e.left, fields);
      const r = exprType(ctx, e.right, fields);
      if (e.op === "and" || e.op === "or") return bothOr(ctx, l, r, "bool", e);
      if (e.op === "==" || e.op === "!=") return "bool";
      if (["<", "<=", ">", ">="].includes(e.op)) return bothOr(ctx, l, r, "number", e) === null ? null : "bool";
      return bothOr(ctx, l, r, "number", e);
    }
    case "unary": {
      const t = exprType(ctx, e.operand, fields);
      return e.op === "not" ? bothOr(ctx, t, t, "bool", e) : bothOr(ctx, t, t, "number", e);
    }
    case "none":
      return null;
    default:
      ctx.report("T5003", "error", "this is not a row expression", e.span, "unexpected here");
      return null;
  }
}

function bothOr(ctx: CheckContext, l: ExprType, r: ExprType, want: "bool" | "number", e: Expr): ExprType {
  if (l === null || r === null) return null;
  if (l !== want || r !== want) {
    ctx.report("T5003", "error", `\`${e.kind === "binary" ? e.op : e.kind === "unary" ? e.op : "?"}\` needs ${want === "bool" ? "conditions" : "numbers"} on both sides`, e.span, `found ${l} and ${r}`);
    return null;
  }
  return want;
}

export { spanOf };

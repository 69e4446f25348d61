// Generic structural checking of a block against its spec: known keys, types,
// required attributes, steps and nested blocks, field declarations. The result
// (`CheckedBlock`) is what the semantic rules and the lowering read.
import type { Block, Field, Span, Step } from "../../grammar/ast.js";
import { diag, type Diagnostic } from "../../grammar/diagnostic.js";
import type { Module } from "../resolve.js";
import type { AttrSpec, BlockSpec, StepSpec } from "../schema/types.js";
import { didYouMean } from "../suggest.js";
import type { Value, ValueChecker } from "./values.js";

export const FIELD_TYPES = ["string", "int", "float", "bool", "list", "messages"] as const;

export interface FieldDecl {
  readonly name: string;
  readonly type: string;
  readonly of: string | null;
  readonly optional: boolean;
  readonly default: Value | null;
  readonly source: string;
  readonly span: Span;
}

export interface CheckedStep {
  readonly op: string;
  readonly node: Step;
  readonly args: ReadonlyMap<string, Value>;
}

export interface CheckedBlock {
  readonly kind: string;
  readonly name: string | null;
  readonly node: Block;
  readonly module: string;
  readonly spec: BlockSpec;
  readonly attrs: ReadonlyMap<string, Value>;
  readonly keySpans: ReadonlyMap<string, Span>;
  readonly free: ReadonlyMap<string, { value: Value; keySpan: Span }>;
  readonly steps: readonly CheckedStep[];
  readonly blocks: readonly CheckedBlock[];
  readonly fields: readonly FieldDecl[];
}

export function checkBlock(block: Block, spec: BlockSpec, mod: Module, vc: ValueChecker, diagnostics: Diagnostic[]): CheckedBlock {
  checkName(block, spec, diagnostics);
  const attrs = new Map<string, Value>();
  const keySpans = new Map<string, Span>();
  const free = new Map<string, { value: Value; keySpan: Span }>();
  const steps: CheckedStep[] = [];
  const blocks: CheckedBlock[] = [];
  const fields: FieldDecl[] = [];
  const what = (key: string) => `\`${key}\` in ${block.type.text}${block.name ? " `" + block.name.text + "`" : ""}`;

  for (const entry of block.entries) {
    if (entry.kind === "attr") {
      const key = entry.key.text;
      if (!key) continue;
      if (keySpans.has(key)) {
        diagnostics.push(
          diag("T3006", "error", `\`${key}\` is set twice in this ${block.type.text}`, entry.key.span, "set again here", {
            secondary: [{ span: keySpans.get(key)!, message: "first set here" }],
            help: "remove one of them",
          }),
        );
        continue;
      }
      keySpans.set(key, entry.key.span);
      const aspec = spec.attrs[key];
      if (aspec) {
        const v = vc.check(entry.value, aspec.type, mod, what(key));
        if (v) attrs.set(key, v);
      } else if (spec.freeAttrs) {
        const v = vc.check(entry.value, spec.freeAttrs.type, mod, what(key));
        if (v) free.set(key, { value: v, keySpan: entry.key.span });
      } else {
        diagnostics.push(
          diag("T2008", "error", `unknown key \`${key}\` in ${block.type.text}`, entry.key.span, `not a ${block.type.text} setting`, {
            help: didYouMean(key, Object.keys(spec.attrs)) ?? `${block.type.text} accepts: ${Object.keys(spec.attrs).join(", ")}`,
          }),
        );
      }
    } else if (entry.kind === "step") {
      const s = checkStep(entry, spec, block, mod, vc, diagnostics);
      if (s) steps.push(s);
    } else if (entry.kind === "block") {
      const nested = spec.blocks?.[entry.type.text];
      if (!nested) {
        if (entry.type.text) {
          diagnostics.push(
            diag("T2011", "error", `\`${entry.type.text}\` blocks are not allowed in ${block.type.text}`, entry.type.span, "unexpected block", {
              help: didYouMean(entry.type.text, Object.keys(spec.blocks ?? {})) ?? nestedHelp(spec),
            }),
          );
        }
        continue;
      }
      const first = nested.unique ? blocks.find((b) => b.kind === nested.kind) : undefined;
      if (first) {
        diagnostics.push(
          diag("T3009", "error", `only one \`${nested.kind}\` block is allowed in a ${block.type.text}`, entry.type.span, "second block", {
            secondary: [{ span: first.node.type.span, message: "first block" }],
            help: "merge the two blocks into one",
          }),
        );
        continue;
      }
      blocks.push(checkBlock(entry, nested, mod, vc, diagnostics));
    } else {
      if (!spec.fields) {
        diagnostics.push(
          diag("T2012", "error", `field declarations are not allowed in ${block.type.text}`, entry.span, "unexpected `name: type`", {
            help: block.type.text === "dataset" ? "declare fields inside `fields { … }`" : "attributes are written `key = value`",
          }),
        );
        continue;
      }
      const f = checkField(entry, fields, mod, vc, diagnostics);
      if (f) fields.push(f);
    }
  }
  // One diagnostic per block, naming every missing key: the fix is one edit in one place.
  const missing = Object.entries(spec.attrs).filter(([key, aspec]) => aspec.required && !keySpans.has(key));
  if (missing.length > 0) {
    const keys = missing.map(([key]) => `\`${key}\``);
    const owner = `${block.type.text}${block.name ? " `" + block.name.text + "`" : ""}`;
    diagnostics.push(
      diag("T3005", "error", `${owner} is missing ${joinAnd(keys)}`, headSpan(block), `needs ${joinAnd(keys)}`, {
        help: `add ${joinAnd(missing.map(([key]) => `\`${key} = …\``))}`,
        notes: missing.map(([key, aspec]) => `${key}: ${aspec.doc}`),
      }),
    );
  }
  return { kind: spec.kind, name: block.name?.text ?? null, node: block, module: mod.path, spec, attrs, keySpans, free, steps, blocks, fields };
}

/** `a`, `a and b`, `a, b and c`. */
export function joinAnd(items: readonly string[]): string {
  return items.length <= 1 ? (items[0] ?? "") : `${items.slice(0, -1).join(", ")} and ${items[items.length - 1]}`;
}

export function headSpan(block: Block): Span {
  const end = block.name ? block.name.span.end : block.type.span.end;
  return { file: block.span.file, start: block.type.span.start, end };
}

function nestedHelp(spec: BlockSpec): string {
  const names = Object.keys(spec.blocks ?? {});
  return names.length > 0 ? `allowed here: ${names.join(", ")}` : `${spec.kind} takes only \`key = value\` settings`;
}

function checkName(block: Block, spec: BlockSpec, diagnostics: Diagnostic[]): void {
  if (spec.name === "required" && !block.name) {
    diagnostics.push(
      diag("T3008", "error", `a ${block.type.text} block needs a name`, block.type.span, "name missing", {
        help: `write \`${block.type.text} my_${block.type.text} { … }\``,
      }),
    );
  } else if (spec.name === "none" && block.name) {
    diagnostics.push(diag("T3008", "error", `a ${block.type.text} block takes no name`, block.name.span, "remove this name"));
  }
}

function checkStep(step: Step, spec: BlockSpec, block: Block, mod: Module, vc: ValueChecker, diagnostics: Diagnostic[]): CheckedStep | null {
  const sspec: StepSpec | undefined = spec.steps?.[step.op.text];
  if (!sspec) {
    if (!step.op.text) return null;
    const known = Object.keys(spec.steps ?? {});
    diagnostics.push(
      diag("T2009", "error", `unknown operation \`${step.op.text}\` in ${block.type.text}`, step.op.span, "not an operation here", {
        help: didYouMean(step.op.text, known) ?? (known.length ? `operations here: ${known.join(", ")}` : `${block.type.text} has no operations`),
      }),
    );
    return null;
  }
  const args = new Map<string, Value>();
  const seen = new Set<string>();
  let position = 0;
  for (const arg of step.args) {
    let key: string;
    let aspec: AttrSpec | undefined;
    if (arg.name) {
      key = arg.name.text;
      aspec = sspec.named[key] ?? sspec.positional.find(([n]) => n === key)?.[1];
      if (!aspec) {
        const names = [...Object.keys(sspec.named), ...sspec.positional.map(([n]) => n)];
        diagnostics.push(
          diag("T3010", "error", `\`${step.op.text}\` has no argument \`${key}\``, arg.name.span, "unknown argument", {
            help: didYouMean(key, names) ?? `arguments: ${names.join(", ")}`,
          }),
        );
        continue;
      }
    } else {
      const p = sspec.positional[position++];
      if (!p) {
        const n = sspec.positional.length;
        const named = Object.keys(sspec.named);
        diagnostics.push(
          diag("T3010", "error", `\`${step.op.text}\` takes ${n === 0 ? "no" : n} positional argument${n === 1 ? "" : "s"}`, arg.span, "extra argument", {
            help:
              step.op.text === "filter"
                ? "combine conditions with `and`: `filter(a and b)`, or write one `filter(…)` per condition"
                : named.length > 0
                  ? `name it: ${named.map((k) => "`" + k + " = …`").join(", ")}`
                  : "remove it",
          }),
        );
        continue;
      }
      [key, aspec] = p;
    }
    if (seen.has(key)) {
      diagnostics.push(diag("T3006", "error", `argument \`${key}\` is given twice`, arg.span, "given again here"));
      continue;
    }
    seen.add(key);
    const v = vc.check(arg.value, aspec.type, mod, `\`${key}\` of ${step.op.text}`);
    if (v) args.set(key, v);
  }
  const all: (readonly [string, AttrSpec])[] = [...sspec.positional, ...Object.entries(sspec.named)];
  for (const [key, aspec] of all) {
    if (aspec.required && !seen.has(key)) {
      const positional = sspec.positional.some(([n]) => n === key);
      diagnostics.push(
        diag("T3005", "error", `\`${step.op.text}\` is missing \`${key}\``, step.op.span, `needs \`${key}\``, {
          help: positional ? `pass it first: \`${step.op.text}(…)\` (${aspec.doc})` : `add \`${key} = …\`: ${aspec.doc}`,
        }),
      );
    }
  }
  return { op: step.op.text, node: step, args };
}

function checkField(f: Field, prior: FieldDecl[], mod: Module, vc: ValueChecker, diagnostics: Diagnostic[]): FieldDecl | null {
  const type = f.type.name.text;
  if (!type) return null;
  if (!(FIELD_TYPES as readonly string[]).includes(type)) {
    diagnostics.push(
      diag("T5006", "error", `unknown field type \`${type}\``, f.type.name.span, "not a field type", {
        help: didYouMean(type, FIELD_TYPES) ?? `field types: ${FIELD_TYPES.join(", ")}, list<T>`,
      }),
    );
    return null;
  }
  if (prior.some((p) => p.name === f.name.text)) {
    diagnostics.push(diag("T3006", "error", `field \`${f.name.text}\` is declared twice`, f.name.span, "declared again"));
    return null;
  }
  let def: Value | null = null;
  if (f.default) {
    const expected = type === "string" ? { t: "string" as const } : type === "bool" ? { t: "bool" as const } : type === "int" ? { t: "number" as const, int: true } : type === "float" ? { t: "number" as const } : null;
    def = expected ? vc.check(f.default, expected, mod, `the default of \`${f.name.text}\``) : null;
  }
  return {
    name: f.name.text,
    type,
    of: f.type.arg?.name.text ?? null,
    optional: f.optional || f.default !== null,
    default: def,
    source: f.from?.value ?? f.name.text,
    span: f.span,
  };
}

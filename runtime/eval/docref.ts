// doc_to_text / doc_to_target / doc_to_choice, with the harness's conversion rules.
//
// The harness (api/task.py ConfigurableTask) reads a string as a field name when the doc has that field and
// as a Jinja2 template otherwise; a rendered template that is all digits becomes an int when the task has
// choices; a target rendered as "[...]" is literal_eval'd. Templates here are Handlebars with HTML escaping
// off (`{{strip question}}`, `{{choices.[0]}}` stand for Jinja's `question.strip()` and `choices[0]`); what
// Jinja did with expressions is spelled with the explicit object forms of `DocRef` or a named processor.

import Handlebars from "handlebars";
import { docFunction } from "./processors.js";
import { pyStrip } from "./pystr.js";
import type { Doc, DocRef } from "./types.js";

const hb = Handlebars.create();
hb.registerHelper("strip", (s: unknown) => pyStrip(String(s)));
hb.registerHelper("lstrip", (s: unknown) => String(s).replace(/^\s+/u, ""));
hb.registerHelper("rstrip", (s: unknown) => String(s).replace(/\s+$/u, ""));

const templates = new Map<string, Handlebars.TemplateDelegate>();

/** Render a Handlebars template against a doc (no HTML escaping; missing fields are errors). */
export function renderTemplate(template: string, doc: Doc): string {
  let fn = templates.get(template);
  if (!fn) {
    fn = hb.compile(template, { noEscape: true, strict: true });
    templates.set(template, fn);
  }
  return fn(doc);
}

/** A dotted path into a doc: "choices.text", "mc1_targets.choices", "choices.0". */
export function getPath(doc: Doc, path: string): unknown {
  let cur: unknown = doc;
  for (const part of path.split(".")) {
    if (cur === null || typeof cur !== "object" || !(part in cur)) {
      throw new Error(`doc has no field ${path}`);
    }
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur;
}

/** Python `str.isdigit()` for the strings templates produce. */
function isDigits(s: string): boolean {
  return /^\p{Nd}+$/u.test(s);
}

/** Python `ast.literal_eval` for the list literals a target template may render; null if not parseable. */
function literalList(s: string): unknown[] | null {
  try {
    const v = JSON.parse(s.replace(/'/g, '"')) as unknown;
    return Array.isArray(v) ? v : null;
  } catch {
    return null;
  }
}

function evalObjectRef(ref: Exclude<DocRef, string | number | readonly unknown[]>, doc: Doc): unknown {
  if ("field" in ref) return getPath(doc, ref.field);
  if ("template" in ref) return renderTemplate(ref.template, doc);
  if ("literal" in ref) return ref.literal;
  if ("fields" in ref) return ref.fields.map((f) => getPath(doc, f));
  if ("processor" in ref) return docFunction(ref.processor)(doc);
  const list = getPath(doc, ref.index_of.list) as unknown[];
  let value = getPath(doc, ref.index_of.value);
  if (ref.index_of.lstrip && typeof value === "string") value = value.replace(/^\s+/u, "");
  const i = list.indexOf(value);
  if (i < 0) throw new Error(`index_of: ${JSON.stringify(value)} not in ${ref.index_of.list}`);
  return i;
}

/** doc_to_text: a string, or an int (index into choices) for multiple-input tasks such as winogrande. */
export function docToText(ref: DocRef | undefined, doc: Doc, hasChoices: boolean): string | number {
  if (ref === undefined) throw new Error("task has no doc_to_text");
  if (typeof ref === "number") return ref;
  if (typeof ref === "string") {
    if (Object.hasOwn(doc, ref)) return doc[ref] as string;
    const text = renderTemplate(ref, doc);
    return isDigits(text) && hasChoices ? Number(text) : text;
  }
  if (Array.isArray(ref)) throw new Error("doc_to_text cannot be a list");
  const v = evalObjectRef(ref as Exclude<DocRef, string | number | readonly unknown[]>, doc);
  if (typeof v !== "string" && typeof v !== "number") throw new Error("doc_to_text must give a string or an int");
  return v;
}

export type Target = string | number | (string | number)[];

/** doc_to_target: a string, an int (index into choices) or a list (multiple golds). */
export function docToTarget(ref: DocRef | undefined, doc: Doc, hasChoices: boolean): Target {
  if (ref === undefined) throw new Error("task has no doc_to_target");
  if (typeof ref === "number") return ref;
  if (Array.isArray(ref)) return ref as Target;
  if (typeof ref === "string") {
    if (Object.hasOwn(doc, ref)) return doc[ref] as Target;
    const text = renderTemplate(ref, doc);
    if (isDigits(text) && hasChoices) return Number(text);
    if (text.length >= 2 && text.startsWith("[") && text.endsWith("]")) return (literalList(text) as Target) ?? text;
    return text;
  }
  return evalObjectRef(ref as Exclude<DocRef, string | number | readonly unknown[]>, doc) as Target;
}

/** doc_to_choice: the list of choice strings. */
export function docToChoice(ref: DocRef | undefined, doc: Doc): string[] {
  if (ref === undefined) throw new Error("task has no doc_to_choice");
  let v: unknown;
  if (Array.isArray(ref)) v = ref;
  else if (typeof ref === "string") {
    if (!Object.hasOwn(doc, ref)) throw new Error(`doc_to_choice "${ref}": use a field name or an object form`);
    v = doc[ref];
  } else if (typeof ref === "number") throw new Error("doc_to_choice cannot be a number");
  else v = evalObjectRef(ref as Exclude<DocRef, string | number | readonly unknown[]>, doc);
  if (v && typeof v === "object" && !Array.isArray(v)) v = Object.values(v);
  if (!Array.isArray(v)) throw new Error("doc_to_choice must give a list");
  return v.map((c) => String(c));
}

/** Python `str(x)` for the values that reach prompts (strings, ints, lists of them). */
export function pyStr(x: unknown): string {
  if (typeof x === "string") return x;
  if (typeof x === "number") return Number.isInteger(x) ? String(x) : pyFloat(x);
  if (typeof x === "boolean") return x ? "True" : "False";
  if (x === null || x === undefined) return "None";
  if (Array.isArray(x)) return "[" + x.map((e) => (typeof e === "string" ? `'${e}'` : pyStr(e))).join(", ") + "]";
  return JSON.stringify(x);
}

function pyFloat(x: number): string {
  const s = String(x);
  return /[.e]/.test(s) || !Number.isFinite(x) ? s : `${s}.0`;
}

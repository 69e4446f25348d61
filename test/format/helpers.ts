// Shared checks for the formatter tests: format-or-fail, AST comparison modulo
// spans, and the comment multiset. Kept independent of format.ts's own safety
// net so the tests do not trust the code they test.
import { expect } from "vitest";
import type { SourceFile } from "../../grammar/ast.js";
import { hasErrors } from "../../grammar/diagnostic.js";
import { formatSource } from "../../grammar/format.js";
import { parseSource } from "../../grammar/parse.js";

export function parseOk(text: string, file = "test.tune"): SourceFile {
  const parsed = parseSource(file, text);
  expect(parsed.diagnostics.map((d) => d.message)).toEqual([]);
  return parsed.value;
}

export function fmt(text: string, file = "test.tune"): string {
  const r = formatSource(file, text);
  if (!r.ok) throw new Error(`format refused ${file}: ${r.diagnostics.map((d) => `${d.code} ${d.message}`).join("; ")}`);
  return r.text;
}

/** The AST as plain data without spans or comments; number text compared with unit spacing normalised. */
export function stripSpans(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(stripSpans);
  if (value === null || typeof value !== "object") return value;
  const out: Record<string, unknown> = {};
  const obj = value as Record<string, unknown>;
  for (const [k, v] of Object.entries(obj)) {
    if (k === "span" || k === "comments" || k === "file") continue;
    out[k] = obj.kind === "number" && k === "raw" ? String(v).replace(/[ \t]+/g, " ") : stripSpans(v);
  }
  return out;
}

/** Comment texts as a sorted multiset; the formatter only drops trailing blanks. */
export function commentBag(sf: SourceFile): string[] {
  return sf.comments.map((c) => c.text.trimEnd()).sort();
}

/** Every invariant of the formatter on one input: output form, idempotence, same AST, same comments. */
export function checkInvariants(text: string, file = "test.tune"): string {
  const before = parseOk(text, file);
  const once = fmt(text, file);
  const after = parseSource(file, once);
  expect(hasErrors(after.diagnostics), `formatted ${file} does not parse`).toBe(false);
  expect(stripSpans(after.value)).toEqual(stripSpans(before));
  expect(commentBag(after.value)).toEqual(commentBag(before));
  expect(fmt(once, file)).toBe(once);
  if (once !== "") expect(once.endsWith("\n") && !once.endsWith("\n\n")).toBe(true);
  for (const line of linesOutsideTripleStrings(once, after.value)) expect(line).not.toMatch(/[ \t]$|\r/);
  return once;
}

/** Output lines, skipping those that end inside a triple-quoted string (their blanks are part of the value). */
function linesOutsideTripleStrings(text: string, sf: SourceFile): string[] {
  const inside: [number, number][] = [];
  const visit = (v: unknown): void => {
    if (Array.isArray(v)) v.forEach(visit);
    else if (v && typeof v === "object") {
      const o = v as { kind?: string; triple?: boolean; span?: { start: number; end: number } };
      if (o.kind === "string" && o.triple && o.span) inside.push([o.span.start, o.span.end]);
      Object.values(v).forEach(visit);
    }
  };
  visit(sf.blocks);
  const out: string[] = [];
  let offset = 0;
  for (const line of text.split("\n")) {
    const end = offset + line.length;
    if (!inside.some(([s, e]) => end >= s && end < e)) out.push(line);
    offset = end + 1;
  }
  return out;
}

/** Formats `input`, checks every invariant, and expects exactly `expected`. */
export function expectFormat(input: string, expected: string): void {
  expect(checkInvariants(input)).toBe(expected);
}

// Robustness of the compiler front end on broken input. Thousands of seeded
// mutations of real recipes (deleted, duplicated, swapped, replaced and inserted
// tokens, truncations, random bytes, emoji, CJK, lone surrogates, NUL, CR, deep
// nesting, references renamed to other blocks) must never make `compile` or
// `formatSource` throw; every diagnostic must carry a code from the catalogue
// and spans inside the file they name; the formatter must be idempotent whenever
// it accepts a mutant; the text renderer must not throw on what compile reports.
//
// Reproduce a failure with the seed and index it prints:
//   FUZZ_SEED=<seed> FUZZ_ONLY=<index> npx vitest run test/fuzz.test.ts
// FUZZ_COUNT=<n> changes the number of mutants (default 10,000).
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { describe, expect, it, vi } from "vitest";
import { STD_MODULES, stdText } from "../cli/host.js";
import { renderDiagnostics, type SourceText } from "../cli/render/index.js";
import { CODES } from "../compiler/codes.js";
import { compile } from "../compiler/compile.js";
import { memoryHost } from "../compiler/host.js";
import type { Diagnostic } from "../grammar/diagnostic.js";
import { formatSource } from "../grammar/format.js";
import { tuneLexer } from "../grammar/tokens.js";

// Parsing is pure, and every compile re-parses the stdlib (1,200 lines, most of
// a compile's time) although only the entry file is mutated. Remember the last
// parse of each file by its exact text, so each mutant's own text is still
// parsed in full but the unchanged stdlib is parsed once per run.
vi.mock("../grammar/parse.js", async (importOriginal) => {
  const real = await importOriginal<typeof import("../grammar/parse.js")>();
  const last = new Map<string, { text: string; result: ReturnType<typeof real.parseSource> }>();
  return {
    ...real,
    parseSource(file: string, text: string) {
      const hit = last.get(file);
      if (hit && hit.text === text) return hit.result;
      const result = real.parseSource(file, text);
      last.set(file, { text, result });
      return result;
    },
  };
});

const SEED = Number(process.env["FUZZ_SEED"] ?? 20240611);
const COUNT = Number(process.env["FUZZ_COUNT"] ?? 10_000);
const ONLY = process.env["FUZZ_ONLY"] === undefined ? null : Number(process.env["FUZZ_ONLY"]);

// ---- corpus

function tuneFilesIn(dir: string, recursive = false): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true })
    .flatMap((e) => {
      const p = `${dir}/${e.name}`;
      if (e.isDirectory()) return recursive ? tuneFilesIn(p, true) : [];
      return e.name.endsWith(".tune") ? [p] : [];
    })
    .sort();
}

const recipes = tuneFilesIn("recipes");
const okCases = ["parse", "resolve", "check", "cross"].flatMap((s) => tuneFilesIn(`test/cases/${s}/ok`, true));
/** The shipped recipes and the golden ok cases; the stdlib joins while fewer than 3 recipes exist. */
const corpus = [...recipes, ...okCases.filter((p) => !p.split("/").pop()!.startsWith("_")), ...(recipes.length < 3 ? tuneFilesIn("stdlib") : [])];

/** The standard library exactly as the CLI serves it. */
function stdlib(): Map<string, string> {
  return new Map(STD_MODULES.map((name) => [name, stdText(name)!] as const));
}

// ---- seeded randomness

/** mulberry32: small, fast, and the same sequence on every platform. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = Math.imul(a ^ (a >>> 15), 1 | a);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

/** Each mutant has its own stream, so one can be replayed without running the others. */
function mutantRng(seed: number, index: number): () => number {
  return rng(Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(index + 1, 0xc2b2ae35));
}

// ---- mutations

interface Tok {
  readonly start: number;
  readonly end: number;
}

/**
 * Names in reference position (right after `=`, `,`, `[` or `(`) and the names
 * blocks define (`kind name {`), for mutations that keep the syntax and change
 * the meaning: a reference now names another block, possibly its own.
 */
function namesOf(text: string): { refs: Tok[]; defs: string[] } {
  const toks = tuneLexer.tokenize(text).tokens;
  const isName = (i: number) => ["Identifier", "From", "As"].includes(toks[i]?.tokenType.name ?? "");
  const refs: Tok[] = [];
  const defs: string[] = [];
  toks.forEach((t, i) => {
    if (!isName(i)) return;
    const before = toks[i - 1]?.tokenType.name ?? "";
    if (["Equals", "Comma", "LBracket", "LParen"].includes(before)) refs.push({ start: t.startOffset, end: (t.endOffset ?? t.startOffset) + 1 });
    if (isName(i - 1) && toks[i + 1]?.tokenType.name === "LBrace") defs.push(t.image);
  });
  return { refs, defs };
}

function tokensOf(text: string): Tok[] {
  const lexed = tuneLexer.tokenize(text);
  return [...lexed.tokens, ...((lexed.groups["comments"] ?? []) as typeof lexed.tokens)]
    .map((t) => ({ start: t.startOffset, end: (t.endOffset ?? t.startOffset) + 1 }))
    .sort((a, b) => a.start - b.start);
}

/** Non-ASCII and control text that has broken lexers, renderers and offset arithmetic elsewhere. */
const ODD_TEXT = [
  "😀", "👩‍💻", "漢字", "日本語の文", "\ud800", "\udc00", "\udbff\udfff", "\0", "\r", "\r\n", "\n\r", "\ufeff", "\u2028",
  "\u2029", "e\u0301", "\u00a0", "\t", "\u000b", "\u000c", "\u001b[31m", "\u200b", "𝔘𝔫𝔦", "ﷺ", "\u202e", "Ω", "\x7f",
];

/** Syntax fragments that stress the parser's recovery and the checker's tolerance of partial trees. */
const FRAGMENTS = [
  "{", "}", "(", ")", "[", "]", '"', '"""', "=", "==", ",", ":", "..", ".", "?", "<", ">", "-", "+", "*", "/", "#",
  "\\", "import", "from", "as", "not", "and", "or", "true", "none", "5%", "2k", "1e999", "-0", "0..0", "1.5", "3 epochs",
  "80 GB", "x = ", "model m {", "stage s { method = sft }", "fields { a: int }", "mix { relative_to = total }", "f()",
  'import "std/evals"', 'import "./fuzz-self.tune"', "task(mmlu, shots = 99)", "filter(a > 1)", "list<list<string>>",
];

type Mutator = (text: string, random: () => number) => { text: string; what: string };

const pickIndex = (n: number, random: () => number) => Math.floor(random() * n);
const pick = <T>(xs: readonly T[], random: () => number): T => xs[pickIndex(xs.length, random)]!;
const show = (s: string) => JSON.stringify(s.length > 40 ? s.slice(0, 40) + "…" : s);

function insertAt(text: string, at: number, piece: string): string {
  return text.slice(0, at) + piece + text.slice(at);
}

const MUTATORS: Record<string, Mutator> = {
  "delete-token": (text, random) => {
    const toks = tokensOf(text);
    if (toks.length === 0) return { text, what: "nothing to delete" };
    const t = pick(toks, random);
    return { text: text.slice(0, t.start) + text.slice(t.end), what: `delete ${show(text.slice(t.start, t.end))} at ${t.start}` };
  },
  "duplicate-token": (text, random) => {
    const toks = tokensOf(text);
    if (toks.length === 0) return { text, what: "nothing to duplicate" };
    const t = pick(toks, random);
    const piece = text.slice(t.start, t.end);
    const sep = random() < 0.5 ? " " : "";
    return { text: insertAt(text, t.end, sep + piece), what: `duplicate ${show(piece)} at ${t.start}` };
  },
  "swap-tokens": (text, random) => {
    const toks = tokensOf(text);
    if (toks.length < 2) return { text, what: "nothing to swap" };
    const i = pickIndex(toks.length - 1, random);
    const j = random() < 0.7 ? i + 1 : i + 1 + pickIndex(toks.length - i - 1, random);
    const a = toks[i]!;
    const b = toks[j]!;
    const out = text.slice(0, a.start) + text.slice(b.start, b.end) + text.slice(a.end, b.start) + text.slice(a.start, a.end) + text.slice(b.end);
    return { text: out, what: `swap ${show(text.slice(a.start, a.end))}@${a.start} with ${show(text.slice(b.start, b.end))}@${b.start}` };
  },
  "replace-token": (text, random) => {
    const toks = tokensOf(text);
    if (toks.length === 0) return { text, what: "nothing to replace" };
    const t = pick(toks, random);
    const other = random() < 0.5 ? pick(FRAGMENTS, random) : ((o) => text.slice(o.start, o.end))(pick(toks, random));
    return { text: text.slice(0, t.start) + other + text.slice(t.end), what: `replace ${show(text.slice(t.start, t.end))}@${t.start} by ${show(other)}` };
  },
  "rename-reference": (text, random) => {
    const { refs, defs } = namesOf(text);
    if (refs.length === 0 || defs.length === 0) return { text, what: "no references" };
    const t = pick(refs, random);
    const other = pick(defs, random);
    return { text: text.slice(0, t.start) + other + text.slice(t.end), what: `rename ${show(text.slice(t.start, t.end))}@${t.start} to ${show(other)}` };
  },
  "insert-fragment": (text, random) => {
    const toks = tokensOf(text);
    const at = toks.length > 0 && random() < 0.8 ? (random() < 0.5 ? pick(toks, random).start : pick(toks, random).end) : pickIndex(text.length + 1, random);
    const piece = pick(FRAGMENTS, random);
    return { text: insertAt(text, at, piece), what: `insert ${show(piece)} at ${at}` };
  },
  truncate: (text, random) => {
    const at = pickIndex(text.length + 1, random);
    return { text: text.slice(0, at), what: `truncate at ${at} of ${text.length}` };
  },
  "insert-bytes": (text, random) => {
    const at = pickIndex(text.length + 1, random);
    const n = 1 + pickIndex(4, random);
    let piece = "";
    for (let i = 0; i < n; i++) piece += String.fromCharCode(pickIndex(256, random));
    return { text: insertAt(text, at, piece), what: `insert bytes ${show(piece)} at ${at}` };
  },
  "deep-nesting": (text, random) => {
    const toks = tokensOf(text);
    const at = toks.length > 0 ? pick(toks, random).start : 0;
    const n = 1 + pickIndex(random() < 0.7 ? 100 : 3000, random);
    const unit = pick(["[", "(", "{", "not ", "-", "a + ", "model m {", "f("], random);
    const closer = unit === "[" ? "]" : unit === "(" || unit === "f(" ? ")" : unit.endsWith("{") ? "}" : "";
    const piece = unit.repeat(n) + (random() < 0.5 ? "1" + closer.repeat(n) : "");
    return { text: insertAt(text, at, piece), what: `insert ${n} × ${show(unit)} at ${at}` };
  },
  "insert-unicode": (text, random) => {
    const at = pickIndex(text.length + 1, random);
    const piece = pick(ODD_TEXT, random);
    return { text: insertAt(text, at, piece), what: `insert ${show(piece)} at ${at}` };
  },
};

const SINGLE = Object.keys(MUTATORS);

/** One mutant: usually one mutation, sometimes a few stacked (a quarter of the time). */
function mutate(text: string, random: () => number): { text: string; what: string[] } {
  const rounds = random() < 0.25 ? 2 + pickIndex(3, random) : 1;
  const what: string[] = [];
  let out = text;
  for (let i = 0; i < rounds; i++) {
    const kind = pick(SINGLE, random);
    const r = MUTATORS[kind]!(out, random);
    out = r.text;
    what.push(`${kind}: ${r.what}`);
  }
  return { text: out, what };
}

// ---- invariants

function spanProblems(diags: readonly Diagnostic[], texts: ReadonlyMap<string, string>): string[] {
  const problems: string[] = [];
  for (const d of diags) {
    if (!CODES[d.code]) problems.push(`code ${d.code} is not in CODES (${d.message})`);
    if (d.labels.length === 0) problems.push(`${d.code} has no label`);
    for (const l of d.labels) {
      const text = texts.get(l.span.file);
      const { start, end } = l.span;
      if (text === undefined) problems.push(`${d.code} names unknown file ${JSON.stringify(l.span.file)}`);
      else if (!Number.isInteger(start) || !Number.isInteger(end) || start < 0 || start > end || end > text.length) {
        problems.push(`${d.code} has span [${start}, ${end}) outside ${l.span.file} (length ${text.length}): ${d.message}`);
      }
    }
  }
  return problems;
}

interface Checked {
  readonly problems: string[];
  readonly compiled: boolean;
  readonly formatted: boolean;
  readonly diagnostics: number;
}

function checkMutant(path: string, text: string, files: Map<string, string>, std: Map<string, string>): Checked {
  const problems: string[] = [];
  const host = memoryHost(new Map([...files, [path, text]]), std);
  let compiled = false;
  let diagnostics = 0;
  try {
    const c = compile(path, text, host);
    compiled = c.graph !== null;
    diagnostics = c.diagnostics.length;
    const texts = new Map([...c.program.modules.values()].map((m) => [m.path, m.text] as const));
    problems.push(...spanProblems(c.diagnostics, texts));
    if (problems.length === 0 && c.diagnostics.length > 0) {
      const sources = new Map<string, SourceText>([...texts].map(([file, t]) => [file, { file, text: t }]));
      renderDiagnostics(c.diagnostics, sources, { format: "text", color: false, toolVersion: "fuzz" });
    }
  } catch (e) {
    problems.push(`compile or render threw: ${(e as Error).stack ?? String(e)}`);
  }
  let formatted = false;
  try {
    const f = formatSource(path, text);
    if (!f.ok) {
      problems.push(...spanProblems(f.diagnostics, new Map([[path, text]])));
      const internal = f.diagnostics.find((d) => d.code === "T1900");
      if (internal) problems.push(`formatter internal error: ${internal.message}`);
    } else {
      formatted = true;
      const again = formatSource(path, f.text);
      if (!again.ok) problems.push(`formatted text does not format again: ${again.diagnostics.map((d) => d.code + " " + d.message).join("; ")}`);
      else if (again.text !== f.text) problems.push("formatting is not idempotent");
    }
  } catch (e) {
    problems.push(`formatSource threw: ${(e as Error).stack ?? String(e)}`);
  }
  return { problems, compiled, formatted, diagnostics };
}

// ---- the run

describe("fuzz", () => {
  it("finds a corpus of at least 3 files", () => {
    expect(corpus.length).toBeGreaterThanOrEqual(3);
  });

  it(`${COUNT} mutants: no throw, valid spans and codes, idempotent format`, () => {
    const std = stdlib();
    // Files a corpus entry may import by relative path (`./_shared.tune`), under their repo paths.
    const files = new Map(okCases.map((p) => [p, readFileSync(p, "utf8")] as const));
    const originals = corpus.map((p) => ({ path: p, text: readFileSync(p, "utf8") }));
    const failures: string[] = [];
    const stats = { mutants: 0, compiled: 0, formatted: 0, withDiagnostics: 0 };
    const started = performance.now();
    for (let i = 0; i < COUNT && failures.length < 10; i++) {
      if (ONLY !== null && i !== ONLY) continue;
      const random = mutantRng(SEED, i);
      const original = originals[i % originals.length]!;
      const m = mutate(original.text, random);
      const r = checkMutant(original.path, m.text, files, std);
      stats.mutants++;
      if (r.compiled) stats.compiled++;
      if (r.formatted) stats.formatted++;
      if (r.diagnostics > 0) stats.withDiagnostics++;
      if (r.problems.length > 0) {
        failures.push(
          [
            `mutant ${i} of ${original.path} (FUZZ_SEED=${SEED} FUZZ_ONLY=${i})`,
            ...m.what.map((w) => `  mutation: ${w}`),
            ...r.problems.map((p) => `  problem: ${p}`),
          ].join("\n"),
        );
      }
    }
    const seconds = (performance.now() - started) / 1000;
    console.log(
      `fuzz: seed ${SEED}, ${stats.mutants} mutants of ${originals.length} files in ${seconds.toFixed(1)} s; ` +
        `${stats.withDiagnostics} with diagnostics, ${stats.compiled} compiled to a graph, ${stats.formatted} formatted`,
    );
    expect(failures, failures.join("\n\n")).toEqual([]);
  }, 300_000);
});

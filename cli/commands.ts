// The CLI's commands as plain functions returning an exit code, so tests can
// call them in-process and capture exactly what a user sees. I/O happens here
// and in host.ts only; everything below (compiler, grammar) is pure.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { compile, sortDiagnostics, type Compilation } from "../compiler/compile.js";
import { ALL_CODES as CODES } from "./catalogue.js";
import { allowedCodes, applyAllow } from "../compiler/allow.js";
import { explainBlock, languageReference } from "../compiler/schema/doc.js";
import { TOP_LEVEL } from "../compiler/schema/blocks.js";
import type { Diagnostic } from "../grammar/diagnostic.js";
import { formatSource } from "../grammar/format.js";
import { atomicWrite } from "./fs-util.js";
import { displayPath, fsHost, packageRoot } from "./host.js";
import { renderDiagnostics, type RenderFormat, type SourceText } from "./render/index.js";
import { lineDiff } from "./diff.js";
import { planText, type PlanFormat } from "./plan.js";

import { TUNE_VERSION as VERSION } from "../compiler/version.js";

export { VERSION };

export interface Io {
  out(text: string): void;
  err(text: string): void;
}

export const processIo: Io = { out: (t) => process.stdout.write(t), err: (t) => process.stderr.write(t) };

export class UsageError extends Error {}

/** Expand files and directories (recursively, *.tune) in argument order, sorted within a directory. */
export function expandPaths(paths: readonly string[]): string[] {
  const out: string[] = [];
  const walk = (p: string): void => {
    let st;
    try {
      st = statSync(p);
    } catch {
      throw new UsageError(`cannot read \`${p}\`: no such file or directory`);
    }
    if (st.isDirectory()) {
      for (const name of readdirSync(p).sort()) {
        const child = join(p, name);
        if (name.startsWith(".") || name === "node_modules") continue;
        if (statSync(child).isDirectory() || name.endsWith(".tune")) walk(child);
      }
    } else out.push(p);
  };
  for (const p of paths) walk(p);
  return out;
}

function readSource(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (e) {
    throw new UsageError(`cannot read \`${path}\`: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

export function sourcesOf(c: Compilation): Map<string, SourceText> {
  const m = new Map<string, SourceText>();
  for (const mod of c.program.modules.values()) m.set(mod.path, { file: mod.path, text: mod.text });
  return m;
}

const rulesHelp = (code: string) => {
  const info = CODES[code];
  return info ? { title: info.title, explanation: info.explanation } : undefined;
};

function render(diags: readonly Diagnostic[], sources: Map<string, SourceText>, format: RenderFormat, color: boolean): string {
  return renderDiagnostics(diags, sources, { format, color, toolVersion: VERSION, rulesHelp });
}

export function compileFile(path: string): Compilation {
  const display = displayPath(path);
  return compile(display, readSource(path), fsHost());
}

export interface LintOptions {
  format: RenderFormat;
  color: boolean;
}

export function lintCommand(paths: readonly string[], opts: LintOptions, io: Io): number {
  return emitLint(collectLint(paths), opts, io);
}

/** `tune lint` plus the data-aware T5540 truncation check (cli/lint-truncation.ts: loaded only for recipes that tokenize). */
export async function lintCommandWithData(paths: readonly string[], opts: LintOptions, io: Io): Promise<number> {
  const r = collectLint(paths);
  for (const { file, c } of r.compiled) {
    if (!c.graph || c.diagnostics.some((d) => d.severity === "error") || !c.graph.nodes.some((n) => n.op === "tokenize")) continue;
    const { truncationWarnings } = await import("./lint-truncation.js");
    r.diags.push(...applyAllow(await truncationWarnings(c.graph, file, packageRoot()), allowedCodes(c.checked?.entry)));
  }
  return emitLint(r, opts, io);
}

interface Linted {
  diags: Diagnostic[];
  sources: Map<string, SourceText>;
  compiled: { file: string; c: Compilation }[];
}

function collectLint(paths: readonly string[]): Linted {
  const files = expandPaths(paths.length > 0 ? paths : ["."]);
  const r: Linted = { diags: [], sources: new Map(), compiled: [] };
  for (const file of files) {
    const c = compileFile(file);
    r.compiled.push({ file, c });
    for (const [k, v] of sourcesOf(c)) r.sources.set(k, v);
    const own = c.diagnostics.filter((d) => !d.labels[0] || !d.labels[0].span.file.startsWith("std/") || d.severity === "error");
    r.diags.push(...applyAllow([...own, ...planDiagnostics(c)], allowedCodes(c.checked?.entry)));
  }
  return r;
}

function emitLint(r: Linted, opts: LintOptions, io: Io): number {
  const unique = dedupe(r.diags);
  const text = render(unique, r.sources, opts.format, opts.color);
  if (text) io.out(text);
  return unique.some((d) => d.severity !== "info") ? 1 : 0;
}

/** A diagnostic from an imported file appears once even when several linted files import it. */
function dedupe(diags: Diagnostic[]): Diagnostic[] {
  const seen = new Set<string>();
  return sortDiagnostics(diags).filter((d) => {
    const s = d.labels[0]?.span;
    const key = `${d.code}|${s?.file}|${s?.start}|${d.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function planDiagnostics(c: Compilation): Diagnostic[] {
  return c.graph ? planText(c.graph, "diagnostics", false).diagnostics : [];
}

export interface FmtOptions {
  check: boolean;
  diff: boolean;
  color: boolean;
}

export function fmtCommand(paths: readonly string[], opts: FmtOptions, io: Io): number {
  const files = expandPaths(paths.length > 0 ? paths : ["."]);
  let broken = false;
  let changed = 0;
  for (const file of files) {
    const text = readSource(file);
    const display = displayPath(file);
    const res = formatSource(display, text);
    if (!res.ok) {
      broken = true;
      io.err(render(res.diagnostics, new Map([[display, { file: display, text }]]), "text", opts.color));
      io.err(`error: ${display} has syntax errors; not formatted\n`);
      continue;
    }
    if (res.text === text) continue;
    changed++;
    if (opts.diff) io.out(lineDiff(display, text, res.text));
    if (opts.check) io.out(opts.diff ? "" : `would reformat ${display}\n`);
    else if (!opts.diff) {
      atomicWrite(file, res.text);
      io.out(`formatted ${display}\n`);
    }
  }
  if (broken) return 2;
  if (opts.check || opts.diff) {
    if (changed === 0) io.out(`${files.length} file(s) already formatted\n`);
    return changed > 0 ? 1 : 0;
  }
  return 0;
}

export interface PlanOptions {
  format: PlanFormat;
  color: boolean;
}

/** Compile a runnable recipe; print its diagnostics; return the compilation or null (exit 1) on errors. */
export function compileRecipe(path: string, color: boolean, io: Io): Compilation | null {
  const c = compileFile(path);
  const diags = applyAllow([...c.diagnostics, ...planDiagnostics(c)], allowedCodes(c.checked?.entry));
  if (diags.length > 0) io.err(render(sortDiagnostics(diags), sourcesOf(c), "text", color));
  if (!c.graph) return null;
  if (!c.checked?.entry.some((b) => b.kind === "recipe")) {
    throw new UsageError(`${displayPath(path)} has no \`recipe\` block; only a recipe can be planned or run (it may be a library file)`);
  }
  return c;
}

export function planCommand(path: string, opts: PlanOptions, io: Io): number {
  const c = compileRecipe(path, opts.color, io);
  if (!c || !c.graph) return 1;
  io.out(planText(c.graph, opts.format, opts.color).text);
  return 0;
}

export function explainCommand(code: string, io: Io): number {
  const key = code.toUpperCase();
  const info = CODES[key];
  const block = explainBlock(code);
  if (!info && block) {
    io.out(block);
    return 0;
  }
  if (!info) {
    throw new UsageError(`unknown diagnostic code or block kind \`${code}\`; codes look like T2001 (T1 syntax, T2 names, T3 values, T4 cross-stage, T5 data); block kinds: ${Object.keys(TOP_LEVEL).join(", ")}`);
  }
  io.out(`${key}: ${info.title}\n\n${info.explanation}\n`);
  return 0;
}

export function referenceCommand(io: Io): number {
  io.out(languageReference());
  return 0;
}

export function listCodes(io: Io): number {
  for (const [code, info] of Object.entries(CODES)) io.out(`${code}  ${info.title}\n`);
  return 0;
}

export { atomicWrite };

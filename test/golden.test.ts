// Golden tests by stage (style.md §7): every `test/cases/<stage>/{ok,err}/<name>.tune`
// is linted in-process exactly as `tune lint <file> --no-color` would, and the
// output is compared with `<name>.out` (first line `exit N`, then the output).
// The goldens are the spec of the compiler's messages, spans and help; run
// `UPDATE=1 npx vitest run test/golden.test.ts` to rewrite them after a deliberate
// change, and read the diff. See test/cases/README.md for the conventions.
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { lintCommand, type Io } from "../cli/commands.js";
import { CODES } from "../compiler/codes.js";
import { ALL_CODES } from "../cli/catalogue.js";

/** Runtime-owned codes (data T55xx, judge T56xx, model files T60xx, executors T7xxx, store T9xxx) live with their modules. */
const RUNTIME_CODE = /^T(5[5-9]|6|7|9)\d+$/;

const ROOT = "test/cases";
const STAGES = ["parse", "resolve", "check", "cross"] as const;
const UPDATE = process.env["UPDATE"] === "1";

/** Codes no golden case can produce: T1900 is the formatter's internal-error net (lint never formats). */
const NEVER_COVERED = new Set(["T1900"]);

interface Case {
  readonly stage: string;
  readonly kind: "ok" | "err";
  readonly name: string;
  /** Path relative to the repo root, as the CLI displays it. */
  readonly path: string;
}

/** Case files of one folder; names starting with `_` are helpers that cases import. */
function casesIn(stage: string, kind: "ok" | "err"): Case[] {
  const dir = join(ROOT, stage, kind);
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith(".tune") && !f.startsWith("_"))
    .sort()
    .map((f) => ({ stage, kind, name: f.slice(0, -5), path: `${dir}/${f}` }));
}

const ALL: Case[] = STAGES.flatMap((s) => [...casesIn(s, "ok"), ...casesIn(s, "err")]);
const ERR = ALL.filter((c) => c.kind === "err");

/** Runs `tune lint <path> --no-color` in-process; cwd is the repo root, so paths print as given. */
function lint(path: string): { exit: number; out: string } {
  let out = "";
  const io: Io = { out: (t) => (out += t), err: (t) => (out += t) };
  const exit = lintCommand([path], { format: "text", color: false }, io);
  return { exit, out };
}

function golden(c: Case): string {
  const { exit, out } = lint(c.path);
  return `exit ${exit}\n${out}`;
}

describe.each(STAGES)("golden %s", (stage) => {
  const ok = casesIn(stage, "ok");
  const err = casesIn(stage, "err");

  it.each(ok.map((c) => [c.name, c] as const))("ok/%s lints clean", (_name, c) => {
    expect(lint(c.path)).toEqual({ exit: 0, out: "" });
  });

  it.each(err.map((c) => [c.name, c] as const))("err/%s matches its .out", (_name, c) => {
    const outPath = c.path.replace(/\.tune$/, ".out");
    const actual = golden(c);
    if (UPDATE) {
      writeFileSync(outPath, actual);
      return;
    }
    expect(existsSync(outPath), `${outPath} is missing; run UPDATE=1 npx vitest run test/golden.test.ts`).toBe(true);
    expect(actual).toBe(readFileSync(outPath, "utf8"));
    expect(actual === "exit 0\n", `${c.path} is an err case but lints clean`).toBe(false);
  });
});

// ---- the catalogue and the goldens agree

/** Every `"T1234"` string in the compiler, grammar and CLI sources. */
function codesUsedInSources(): Map<string, string[]> {
  const used = new Map<string, string[]>();
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, entry.name);
      if (entry.isDirectory()) walk(p);
      else if (entry.name.endsWith(".ts") && p !== join("compiler", "codes.ts")) {
        for (const m of readFileSync(p, "utf8").matchAll(/"(T\d{4})"/g)) used.set(m[1]!, [...(used.get(m[1]!) ?? []), p]);
      }
    }
  };
  for (const dir of ["compiler", "grammar", "cli"]) walk(dir);
  return used;
}

/** Codes the golden .out files show (`error[T2001]`, `warning[T4011]`, …). */
function codesInGoldens(): Map<string, string[]> {
  const seen = new Map<string, string[]>();
  for (const c of ERR) {
    const outPath = c.path.replace(/\.tune$/, ".out");
    if (!existsSync(outPath)) continue;
    for (const m of readFileSync(outPath, "utf8").matchAll(/^(?:error|warning|info)\[(T\d{4})\]/gm)) {
      seen.set(m[1]!, [...(seen.get(m[1]!) ?? []), c.path]);
    }
  }
  return seen;
}

describe("diagnostic catalogue", () => {
  const used = codesUsedInSources();

  it("lists every code the sources use", () => {
    const unlisted = [...used.keys()].filter((c) => !ALL_CODES[c] && !RUNTIME_CODE.test(c));
    expect(unlisted, `used but not in compiler/codes.ts: ${unlisted.map((c) => `${c} (${used.get(c)!.join(", ")})`).join("; ")}`).toEqual([]);
  });

  it("has a golden case for every code the compiler can emit", () => {
    const excluded = NEVER_COVERED;
    const covered = codesInGoldens();
    const missing = Object.keys(CODES).filter((c) => !excluded.has(c) && !covered.has(c));
    expect(missing, "add a case under test/cases/<stage>/err/ for each").toEqual([]);
  });

  it("files each error case under a stage that one of its codes belongs to", () => {
    const stageOf = (code: string): string =>
      code.startsWith("T1") ? "parse" : code.startsWith("T4") ? "cross" : Number(code.slice(1)) <= 2007 ? "resolve" : "check";
    const wrong: string[] = [];
    for (const c of ERR) {
      const outPath = c.path.replace(/\.tune$/, ".out");
      if (!existsSync(outPath)) continue;
      const codes = [...readFileSync(outPath, "utf8").matchAll(/^(?:error|warning|info)\[(T\d{4})\]/gm)].map((m) => m[1]!);
      if (!codes.some((code) => stageOf(code) === c.stage)) wrong.push(`${c.path}: ${codes.join(", ")}`);
    }
    expect(wrong).toEqual([]);
  });

  it("has no .out file without its case", () => {
    const orphans = STAGES.flatMap((stage) =>
      ["ok", "err"].flatMap((kind) => {
        const dir = join(ROOT, stage, kind);
        if (!existsSync(dir)) return [];
        return readdirSync(dir)
          .filter((f) => f.endsWith(".out") && !existsSync(join(dir, f.replace(/\.out$/, ".tune"))))
          .map((f) => join(dir, f));
      }),
    );
    expect(orphans).toEqual([]);
  });

  it("has at least 40 error cases", () => {
    expect(ERR.length).toBeGreaterThanOrEqual(40);
  });

  it("reports every independent mistake of a recipe at once", () => {
    const out = readFileSync(join(ROOT, "check", "err", "many-errors.out"), "utf8");
    const codes = [...out.matchAll(/^error\[(T\d{4})\]/gm)].map((m) => m[1]);
    expect(codes.length).toBeGreaterThanOrEqual(5);
    expect(new Set(codes).size).toBeGreaterThanOrEqual(5);
  });
});

// Whole-file properties of `tune fmt`: on every .tune file under recipes/ and
// stdlib/ (globbed at test time, the directories keep growing) and on rich
// inline recipes that use every construct, formatting is idempotent, keeps the
// AST and the comments, and undoes any re-spacing of the canonical text.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { tuneLexer } from "../../grammar/tokens.js";
import { checkInvariants, fmt } from "./helpers.js";
import { RICH_RECIPES } from "./rich-recipes.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));

function tuneFiles(dir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  return names.flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return tuneFiles(path);
    return name.endsWith(".tune") ? [path] : [];
  });
}

const corpus = [...tuneFiles(join(ROOT, "recipes")), ...tuneFiles(join(ROOT, "stdlib"))].sort();

/** Deterministic PRNG (mulberry32) so a failing perturbation can be replayed. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = Math.imul(a ^ (a >>> 15), 1 | a);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Re-spaces a file without changing its meaning or its comments' placement:
 * random blanks between tokens, random indentation, single line breaks joined
 * where no comment is involved, empty-line runs of random length, and random
 * blanks before unit words. Token text is otherwise untouched.
 */
function perturb(text: string, seed: number): string {
  const random = rng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
  const blanks = (): string => pick([" ", "  ", "\t", " \t ", "   "]);
  const lexed = tuneLexer.tokenize(text);
  const tokens = [...lexed.tokens, ...(lexed.groups["comments"] ?? [])].sort((a, b) => a.startOffset - b.startOffset);
  let out = pick(["", "\n", "  \n\n"]);
  let prevEnd = 0;
  tokens.forEach((tok, i) => {
    const gap = text.slice(prevEnd, tok.startOffset);
    const prev = tokens[i - 1];
    const breaks = gap.split("\n").length - 1;
    const commentNear = prev?.tokenType.name === "Comment" || tok.tokenType.name === "Comment";
    const unitRisk = prev?.tokenType.name === "NumberLit" && /^[A-Za-z_]/.test(tok.image);
    if (i === 0) {
      // the random prefix above stands in for leading blanks
    } else if (breaks >= 2) out += "\n".repeat(2 + Math.floor(random() * 2)) + pick(["", "  ", "\t"]);
    else if (breaks === 1 && (commentNear || unitRisk || random() < 0.5)) out += pick(["\n", " \n", "\r\n"]) + pick(["", "    ", "\t"]);
    else if (breaks === 1) out += blanks();
    else out += gap === "" ? pick(["", "", " "]) : blanks();
    out += tok.tokenType.name === "NumberLit" ? tok.image.replace(/[ \t]+/, blanks()) : tok.image;
    prevEnd = (tok.endOffset ?? tok.startOffset) + 1;
  });
  return out + pick(["", "\n", "\n\n\n", "  "]);
}

describe("recipes/ and stdlib/", () => {
  it("finds the corpus (may be small while it is being written)", () => {
    expect(Array.isArray(corpus)).toBe(true);
  });
  for (const path of corpus) {
    const name = relative(ROOT, path);
    it(`${name}: idempotent, same AST, same comments`, () => {
      checkInvariants(readFileSync(path, "utf8"), name);
    });
    it(`${name}: re-spacing the canonical text formats back to it`, () => {
      const canonical = fmt(readFileSync(path, "utf8"), name);
      for (let seed = 1; seed <= 2; seed++) expect(fmt(perturb(canonical, seed), name), `seed ${seed}`).toBe(canonical);
    });
  }
});

describe("rich inline recipes", () => {
  for (const [name, source] of Object.entries(RICH_RECIPES)) {
    it(`${name}: idempotent, same AST, same comments`, () => {
      checkInvariants(source, `${name}.tune`);
    });
    it(`${name}: re-spacing the canonical text formats back to it`, () => {
      const canonical = fmt(source);
      for (let seed = 1; seed <= 12; seed++) expect(fmt(perturb(canonical, seed)), `seed ${seed}`).toBe(canonical);
    });
  }
  it("the canonical recipe is already formatted", () => {
    expect(fmt(RICH_RECIPES.canonical!)).toBe(RICH_RECIPES.canonical);
  });
});

// Input → expected output for every construct of the language, one small case
// each. Every case also goes through checkInvariants (idempotence, same AST,
// same comments, no trailing blanks).
import { describe, expect, it } from "vitest";
import { formatSource } from "../../grammar/format.js";
import { parseSource } from "../../grammar/parse.js";
import { expectFormat } from "./helpers.js";

const t = (...lines: string[]): string => lines.join("\n") + "\n";

describe("blocks and entries", () => {
  it("indents with two spaces, one entry per line", () => {
    expectFormat('model base { hub="x" dtype=bf16 }', t("model base {", '  hub = "x"', "  dtype = bf16", "}"));
  });
  it("prints empty blocks as {}", () => {
    expectFormat("model base {\n\n}\neval   {  }", t("model base {}", "", "eval {}"));
  });
  it("nests blocks", () => {
    expectFormat(
      "stage sft{adapter lora{rank=16 targets=[q,v]}\nhardware{}}",
      t("stage sft {", "  adapter lora {", "    rank = 16", "    targets = [q, v]", "  }", "  hardware {}", "}"),
    );
  });
  it("keeps one blank line where the user had one or more, none at the edges", () => {
    expectFormat(
      t("model m {", "", "  a = 1", "  b = 2", "", "", "", "  c = 3", "", "}"),
      t("model m {", "  a = 1", "  b = 2", "", "  c = 3", "}"),
    );
  });
  it("prints fields with every part", () => {
    expectFormat(
      t("fields {", '  input : string ? = ""   from "context"', "  tags:list< list <string> >", "  n: int=3", '  x: string from "y"', "}"),
      t("fields {", '  input: string? = "" from "context"', "  tags: list<list<string>>", "  n: int = 3", '  x: string from "y"', "}"),
    );
  });
  it("prints steps with positional and named arguments", () => {
    expectFormat(
      t("data d {", "  filter( score>=4.5 )", "  task(mmlu,shots=5 , )", "  dedupe( )", "}"),
      t("data d {", "  filter(score >= 4.5)", "  task(mmlu, shots = 5)", "  dedupe()", "}"),
    );
  });
  it("accepts soft keywords as names", () => {
    expectFormat("x { from = as\n as = from }", t("x {", "  from = as", "  as = from", "}"));
  });
});

describe("top level", () => {
  it("separates blocks by exactly one blank line", () => {
    expectFormat("model a {}\n\n\n\nmodel b {} model c {}", t("model a {}", "", "model b {}", "", "model c {}"));
  });
  it("groups imports, then one blank line", () => {
    expectFormat(
      'import "a"\n\nimport   "b"  as  bee\nimport {x,y,} from "c"\nmodel m {}',
      t('import "a"', 'import "b" as bee', 'import { x, y } from "c"', "", "model m {}"),
    );
  });
  it("moves imports written after blocks up to the import group", () => {
    expectFormat('model m {}\nimport "a"\nmodel n {}\nimport "b"', t('import "a"', 'import "b"', "", "model m {}", "", "model n {}"));
  });
  it("breaks a long import name list one per line", () => {
    const names = Array.from({ length: 12 }, (_, i) => `template_number_${i}`);
    const out = t("import {", ...names.map((n) => `  ${n},`), '} from "std/templates"');
    expectFormat(`import { ${names.join(", ")} } from "std/templates"`, out);
  });
  it("leaves an empty or blank file empty", () => {
    expect(formatSource("e.tune", "")).toEqual({ ok: true, text: "" });
    expect(formatSource("e.tune", "  \n\n\t\n")).toEqual({ ok: true, text: "" });
  });
  it("ends with exactly one newline and uses \\n line breaks", () => {
    expectFormat("model a {\r\n  x = 1\r\n}\r\n\r\n\r\n", t("model a {", "  x = 1", "}"));
    expectFormat("model a {}", "model a {}\n");
  });
});

describe("expressions", () => {
  const value = (src: string): string => {
    const r = formatSource("v.tune", `x {\n  v = ${src}\n}\n`);
    if (!r.ok) throw new Error(r.diagnostics[0]!.message);
    const [, line] = r.text.split("\n");
    return line!.replace(/^ {2}v = /, "");
  };
  const cases: [string, string][] = [
    ["a+b*c", "a + b * c"],
    ["(a+b)*c", "(a + b) * c"],
    ["a-(b-c)", "a - (b - c)"],
    ["(a-b)-c", "a - b - c"],
    ["a/(b/c)", "a / (b / c)"],
    ["(a*b)+c", "a * b + c"],
    ["a and (b or c)", "a and (b or c)"],
    ["(a and b) or c", "a and b or c"],
    ["a or (b or c)", "a or (b or c)"],
    ["not (a == b)", "not a == b"],
    ["(not a) == b", "(not a) == b"],
    ["not(a and b)", "not (a and b)"],
    ["not not a", "not not a"],
    ["a and not b", "a and not b"],
    ["(a == b) != c", "(a == b) != c"],
    ["a == (b < c)", "a == (b < c)"],
    ["a<=b", "a <= b"],
    ["a>=b", "a >= b"],
    ["a>b", "a > b"],
    ["a != b", "a != b"],
    ["0 .. 5", "0..5"],
    ["(0..5)..6", "(0..5)..6"],
    ["(a..b) + 1", "(a..b) + 1"],
    ["a + 1 .. b * 2", "a + 1..b * 2"],
    ["(a..b) == c", "a..b == c"],
    ["-(x + 1)", "-(x + 1)"],
    ["-(not a)", "-(not a)"],
    ["(-a) * b", "-a * b"],
    ["- x", "-x"],
    ["- - x", "--x"],
    ["- 5", "-5"],
    ["- - 5", "--5"],
    ["a - -5", "a - -5"],
    ["a - (-b)", "a - -b"],
    ["0..-5", "0..-5"],
    ["((((a))))", "a"],
    ["templates . alpaca", "templates.alpaca"],
    ["f( )", "f()"],
    ["f(a,b=c)", "f(a, b = c)"],
    ["std.f(x)", "std.f(x)"],
    ["[ ]", "[]"],
    ["[1,2,3,]", "[1, 2, 3]"],
    ["[[1,2],[ ]]", "[[1, 2], []]"],
    ["true", "true"],
    ["false", "false"],
    ["none", "none"],
  ];
  for (const [input, output] of cases) {
    it(`${input} → ${output}`, () => {
      expect(value(input)).toBe(output);
      expectFormat(`x {\n  v = ${input}\n}\n`, `x {\n  v = ${output}\n}\n`);
    });
  }
});

describe("literals", () => {
  it("keeps number text and normalises the blank before a unit word", () => {
    const nums = ["1_000", "1e-5", "2.5E+3", ".5", "5%", "2k", "1.5M", "7B", "1T", "4K"];
    const units = ["tokens", "steps", "rows", "epochs", "GB", "GiB", "MB", "MiB"];
    const input = t("x {", ...nums.map((n, i) => `  n${i} = ${n}`), ...units.map((u, i) => `  u${i} = 256 \t  ${u}`), "}");
    const output = t("x {", ...nums.map((n, i) => `  n${i} = ${n}`), ...units.map((u, i) => `  u${i} = 256 ${u}`), "}");
    expectFormat(input, output);
  });
  it("keeps string text exactly, escapes included", () => {
    expectFormat(t("x {", '  s = "a\\"b\\n\\t\\u{1F600} é"', "}"), t("x {", '  s = "a\\"b\\n\\t\\u{1F600} é"', "}"));
  });
  it("keeps triple-quoted strings byte for byte, trailing blanks and odd indentation included", () => {
    const triple = '"""\n     odd   \n\tindent \r\n  {{ input }}\n"""';
    const input = `stage s {\n      template   t {\n prompt =   ${triple}\n  }\n}`;
    const out = fmtText(input);
    expect(out).toContain(`    prompt = ${triple}\n  }`);
    expectFormat(input, out);
  });
  it("keeps a triple-quoted string inside a list", () => {
    expectFormat('x {\n  v = [ """\na\n""", "b" ]\n}', 'x {\n  v = ["""\na\n""", "b"]\n}\n');
  });
});

describe("line width", () => {
  const item = (n: number, w: number): string => `"${String(n).padEnd(w - 2, "x")}"`;
  it("keeps a list on one line when the whole line is exactly 100 columns", () => {
    // "  v = [" is 7 columns, "]" is 1, three ", " are 6, items 21 + 21 + 21 + 23.
    const items = [item(1, 21), item(2, 21), item(3, 21), item(4, 23)];
    const line = `  v = [${items.join(", ")}]`;
    expect(line.length).toBe(100);
    expectFormat(`x {\n${line}\n}`, `x {\n${line}\n}\n`);
  });
  it("breaks it one item per line with a trailing comma at 101 columns", () => {
    const items = [item(1, 21), item(2, 21), item(3, 21), item(4, 24)];
    expectFormat(`x {\n  v = [${items.join(", ")}]\n}`, t("x {", "  v = [", ...items.map((i) => `    ${i},`), "  ]", "}"));
  });
  it("breaks the outer list first and keeps inner ones flat when they fit", () => {
    const inner = `[${item(1, 30)}, ${item(2, 30)}]`;
    expectFormat(`x { v = [${inner}, ${inner}] }`, t("x {", "  v = [", `    ${inner},`, `    ${inner},`, "  ]", "}"));
  });
  it("breaks step and call arguments the same way", () => {
    const args = ["first_argument_is_long", "second_argument_is_longer", "named = third_argument_value", "k = 5"];
    const inner = `f(${args.slice(0, 3).join(", ")})`;
    expectFormat(
      `d {\n  step_op(${args.join(", ")}, other = ${inner})\n}`,
      t("d {", "  step_op(", ...args.map((a) => `    ${a},`), `    other = ${inner},`, "  )", "}"),
    );
    expectFormat(
      `d {\n  v = f(${args.join(", ")}, more)\n}`,
      t("d {", "  v = f(", ...args.map((a) => `    ${a},`), "    more,", "  )", "}"),
    );
  });
  it("counts the rest of the line after a list", () => {
    const long = "a".repeat(45);
    expectFormat(`x {\n  v = [${long}] + [${long}, b]\n}`, t("x {", `  v = [${long}] + [`, `    ${long},`, "    b,", "  ]", "}"));
  });
});

describe("blank lines inside brackets", () => {
  it("disappear when the list fits on one line", () => {
    expectFormat("x {\n  v = [a,\n\n\n  b]\n}", "x {\n  v = [a, b]\n}\n");
  });
  it("are kept (collapsed to one) when the list breaks", () => {
    const a = "a".repeat(50);
    const b = "b".repeat(50);
    expectFormat(`x {\n  v = [${a},\n\n\n  ${b}]\n}`, t("x {", "  v = [", `    ${a},`, "", `    ${b},`, "  ]", "}"));
  });
});

describe("refusing files with syntax errors", () => {
  const bad = ['model m { hub = "x"', 'model m { hub = "x }', "model m { $ }", "model m { a = }", "model m { a = [1, 2 }"];
  for (const src of bad) {
    it(`returns the syntax diagnostics for ${JSON.stringify(src)}`, () => {
      const r = formatSource("bad.tune", src);
      expect(r.ok).toBe(false);
      if (r.ok) return;
      const expected = parseSource("bad.tune", src).diagnostics.map((d) => d.code + d.message);
      expect(expected.length).toBeGreaterThan(0);
      expect(r.diagnostics.map((d) => d.code + d.message)).toEqual(expected);
    });
  }
  // The parser accepts these so that it can explain them; the AST has no place
  // for them, so formatting must refuse rather than drop the text.
  for (const src of ["hub = 1\nmodel m {}", "import std/templates\nmodel m {}"]) {
    it(`refuses rather than drops ${JSON.stringify(src)}`, () => {
      expect(formatSource("bad.tune", src).ok).toBe(false);
    });
  }
});

function fmtText(src: string): string {
  const r = formatSource("x.tune", src);
  if (!r.ok) throw new Error(r.diagnostics[0]!.message);
  return r.text;
}

// Golden tests for the rich `text` format: exact strings, no color unless stated.
import { describe, expect, test } from "vitest";
import { diag } from "../../grammar/diagnostic.js";
import { ALPAGASUS, ALPAGASUS_FILE, find, render, sourcesOf, unknownOptimizer } from "./helpers.js";

const lines = (...ls: string[]) => ls.join("\n") + "\n";

describe("rich text format", () => {
  test("the style guide's example, byte for byte", () => {
    const out = render([unknownOptimizer()], sourcesOf({ [ALPAGASUS_FILE]: ALPAGASUS }), "text");
    expect(out).toBe(
      lines(
        "error[T2003]: unknown optimizer `adamw8`",
        "  --> recipes/alpagasus.tune:14:15",
        "   |",
        "14 |   optimizer = adamw8(lr = 3e-4)",
        "   |               ^^^^^^ not a known optimizer",
        "   = help: did you mean `adamw`?",
        "",
        "error: 1 error in 1 file",
      ),
    );
  });

  test("no diagnostics renders nothing", () => {
    expect(render([], sourcesOf({}), "text")).toBe("");
  });

  test("secondary labels on other lines: shown in order, `...` between non-adjacent ones", () => {
    const f = ALPAGASUS_FILE;
    const d = diag("T2004", "error", "`alpaca` is defined twice", find(f, ALPAGASUS, "alpaca"), "redefined here", {
      secondary: [
        { span: find(f, ALPAGASUS, "data"), message: "first block" },
        { span: find(f, ALPAGASUS, "filter", 1), message: "" },
        { span: find(f, ALPAGASUS, "from", 1), message: "source" },
        { span: find(f, ALPAGASUS, "base"), message: "model" },
      ],
      notes: ["block names share one namespace"],
    });
    // `filter` and `from` occur earlier too, so take their second occurrence; lines 8-10 are adjacent.
    const out = render([d], sourcesOf({ [f]: ALPAGASUS }), "text");
    expect(out).toBe(
      lines(
        "error[T2004]: `alpaca` is defined twice",
        "  --> recipes/alpagasus.tune:8:6",
        "   |",
        " 3 | model base {",
        "   |       ---- model",
        "...",
        " 8 | data alpaca {",
        "   | ---- ^^^^^^ redefined here",
        "   | |",
        "   | first block",
        " 9 |   from = \"hf:yahma/alpaca-cleaned\"",
        "   |   ---- source",
        "10 |   filter = score > 4.5",
        "   |   ------",
        "   = note: block names share one namespace",
        "",
        "error: 1 error in 1 file",
      ),
    );
  });

  test("several labels on one line hang right to left (rustc layout)", () => {
    const text = "x = f(a, b)\n";
    const d = diag("T3001", "warning", "argument order looks swapped", find("f", text, "b"), "second", {
      secondary: [
        { span: find("f", text, "a"), message: "first" },
        { span: find("f", text, "f"), message: "callee" },
      ],
    });
    expect(render([d], sourcesOf({ f: text }), "text")).toBe(
      lines(
        "warning[T3001]: argument order looks swapped",
        " --> f:1:10",
        "  |",
        "1 | x = f(a, b)",
        "  |     - -  ^ second",
        "  |     | |",
        "  |     | first",
        "  |     callee",
        "",
        "warning: 1 warning in 1 file",
      ),
    );
  });

  test("a span across lines is underlined to the end of its first line", () => {
    const text = "train {\n  steps = 10\n}\n";
    const d = diag("T3004", "error", "`train` needs an optimizer", { file: "t", start: 0, end: text.length - 1 }, "in this block");
    expect(render([d], sourcesOf({ t: text }), "text")).toBe(
      lines(
        "error[T3004]: `train` needs an optimizer",
        " --> t:1:1",
        "  |",
        "1 | train {",
        "  | ^^^^^^^ in this block",
        "",
        "error: 1 error in 1 file",
      ),
    );
  });

  test("EOF span: one caret after the last character, or on the empty last line", () => {
    const noBreak = "train {";
    const a = diag("T1002", "error", "`{` is not closed", { file: "a", start: 7, end: 7 }, "expected `}`");
    const withBreak = "train {\n";
    const b = diag("T1002", "error", "`{` is not closed", { file: "b", start: 8, end: 8 }, "expected `}`");
    expect(render([a, b], sourcesOf({ a: noBreak, b: withBreak }), "text")).toBe(
      lines(
        "error[T1002]: `{` is not closed",
        " --> a:1:8",
        "  |",
        "1 | train {",
        "  |        ^ expected `}`",
        "",
        "error[T1002]: `{` is not closed",
        " --> b:2:1",
        "  |",
        "2 |",
        "  | ^ expected `}`",
        "",
        "error: 2 errors in 2 files",
      ),
    );
  });

  test("CRLF input: same lines and columns as LF, no stray \\r", () => {
    const lf = ALPAGASUS;
    const crlf = ALPAGASUS.replace(/\n/g, "\r\n");
    const at = (text: string) =>
      diag("T2003", "error", "unknown optimizer `adamw8`", find(ALPAGASUS_FILE, text, "adamw8"), "not a known optimizer", {
        help: "did you mean `adamw`?",
      });
    const fromCrlf = render([at(crlf)], sourcesOf({ [ALPAGASUS_FILE]: crlf }), "text");
    expect(fromCrlf).not.toContain("\r");
    expect(fromCrlf).toBe(render([at(lf)], sourcesOf({ [ALPAGASUS_FILE]: lf }), "text"));
  });

  test("tabs are drawn as 4 spaces in the excerpt and the carets follow", () => {
    const text = "train {\n\toptimizer =\tadamw8()\n}\n";
    const d = diag("T2003", "error", "unknown optimizer `adamw8`", find("t", text, "adamw8"), "here");
    expect(render([d], sourcesOf({ t: text }), "text")).toBe(
      lines(
        "error[T2003]: unknown optimizer `adamw8`",
        " --> t:2:14",
        "  |",
        "2 |     optimizer =    adamw8()",
        "  |                    ^^^^^^ here",
        "",
        "error: 1 error in 1 file",
      ),
    );
  });

  test("zero-width span shows one caret; wide characters shift the carets by their screen width", () => {
    const text = 'name = "😀" x\n';
    const d = diag("T1004", "error", "missing `,`", { file: "u", start: text.indexOf(" x"), end: text.indexOf(" x") }, "insert `,` here");
    // Column 12 in UTF-16 units (the emoji counts 2); on screen the emoji is 2 columns wide too.
    expect(render([d], sourcesOf({ u: text }), "text")).toBe(
      lines(
        "error[T1004]: missing `,`",
        " --> u:1:12",
        "  |",
        '1 | name = "😀" x',
        "  |            ^ insert `,` here",
        "",
        "error: 1 error in 1 file",
      ),
    );
  });

  test("labels in another file get a `:::` section; gutter fits the widest line number", () => {
    const main = "use lib.base\n";
    const lib = Array.from({ length: 11 }, (_, i) => (i === 10 ? "model base {}" : `# ${i}`)).join("\n");
    const d = diag("T4001", "error", "`base` has no tokenizer", find("main", main, "lib.base"), "used here", {
      secondary: [{ span: find("lib", lib, "base"), message: "defined here" }],
    });
    const sources = new Map([
      ["main", { file: "recipes/main.tune", text: main }],
      ["lib", { file: "recipes/lib.tune", text: lib }],
    ]);
    expect(render([d], sources, "text")).toBe(
      lines(
        "error[T4001]: `base` has no tokenizer",
        "  --> recipes/main.tune:1:5",
        "   |",
        " 1 | use lib.base",
        "   |     ^^^^^^^^ used here",
        "   |",
        "  ::: recipes/lib.tune:11:7",
        "   |",
        "11 | model base {}",
        "   |       ---- defined here",
        "",
        "error: 1 error in 1 file",
      ),
    );
  });

  test("no labels, unknown source, multi-line notes, warnings and infos in the summary", () => {
    const noLabel = diag("T4002", "warning", "no recipe declares `seed`", { file: "x", start: 0, end: 0 });
    const bare = { ...noLabel, labels: [], notes: ["runs will not be reproducible", "set `seed = 0`\nin `train`"] };
    const unknown = diag("T5001", "info", "dataset is cached", { file: "data/train.jsonl", start: 10, end: 20 }, "rows 1–3");
    expect(render([bare, unknown], sourcesOf({}), "text")).toBe(
      lines(
        "warning[T4002]: no recipe declares `seed`",
        "  = note: runs will not be reproducible",
        "  = note: set `seed = 0`",
        "          in `train`",
        "",
        "info[T5001]: dataset is cached",
        " --> data/train.jsonl",
        "  = label: rows 1–3",
        "",
        "warning: 1 warning and 1 info in 1 file",
      ),
    );
  });

  test("summary counts every severity and distinct files", () => {
    const a = "a = 1\n";
    const b = "b = 2\n";
    const err = (f: string, t: string) => diag("T3002", "error", "bad", find(f, t, "="), "");
    const warn = diag("T3003", "warning", "odd", find("a", a, "1"), "");
    const out = render([err("a", a), err("b", b), err("a", a), warn], sourcesOf({ a, b }), "text");
    expect(out.trimEnd().split("\n").at(-1)).toBe("error: 3 errors and 1 warning in 2 files");
  });

  test("color: ANSI codes only when asked, and the text underneath is unchanged", () => {
    const sources = sourcesOf({ [ALPAGASUS_FILE]: ALPAGASUS });
    const plain = render([unknownOptimizer()], sources, "text");
    const colored = render([unknownOptimizer()], sources, "text", { color: true });
    expect(plain).not.toContain("\x1b[");
    expect(colored).toContain("\x1b[1;31merror[T2003]\x1b[0m"); // bold red header
    expect(colored).toContain("\x1b[1m: unknown optimizer `adamw8`\x1b[0m"); // bold message
    expect(colored).toContain("\x1b[34m14 |\x1b[0m"); // blue gutter
    expect(colored).toContain("\x1b[31m^^^^^^ not a known optimizer\x1b[0m"); // red carets
    expect(colored.replace(/\x1b\[[0-9;]*m/g, "")).toBe(plain);
  });

  test("warnings are yellow", () => {
    const text = "a = 1\n";
    const d = diag("T3003", "warning", "odd", find("a", text, "1"), "here");
    const colored = render([d], sourcesOf({ a: text }), "text", { color: true });
    expect(colored).toContain("\x1b[1;33mwarning[T3003]\x1b[0m");
    expect(colored).toContain("\x1b[33m^ here\x1b[0m");
  });
});

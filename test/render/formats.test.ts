// Golden tests for the machine-facing formats: short, json and github.
import { describe, expect, test } from "vitest";
import { diag } from "../../grammar/diagnostic.js";
import { escapeData, escapeProperty } from "../../cli/render/github.js";
import { ALPAGASUS, ALPAGASUS_FILE, find, render, sourcesOf, unknownOptimizer } from "./helpers.js";

const alpagasus = () => sourcesOf({ [ALPAGASUS_FILE]: ALPAGASUS });

describe("short format", () => {
  test("one line per diagnostic", () => {
    const warn = diag("T3001", "warning", "`epochs` is set\ntwice", find(ALPAGASUS_FILE, ALPAGASUS, "epochs"), "");
    const noLabel = { ...warn, code: "T4001", severity: "info" as const, message: "no seed", labels: [] };
    const unknown = diag("T5001", "error", "bad row", { file: "data/x.jsonl", start: 3, end: 4 }, "");
    expect(render([unknownOptimizer(), warn, noLabel, unknown], alpagasus(), "short")).toBe(
      [
        "recipes/alpagasus.tune:14:15: error[T2003]: unknown optimizer `adamw8`",
        "recipes/alpagasus.tune:15:3: warning[T3001]: `epochs` is set twice",
        "info[T4001]: no seed",
        "data/x.jsonl: error[T5001]: bad row",
        "",
      ].join("\n"),
    );
    expect(render([], alpagasus(), "short")).toBe("");
  });

  test("CRLF and tabs do not change columns (UTF-16 units, a tab is one)", () => {
    const text = "a = 1\r\n\tb = 2\r\n";
    const d = diag("T3002", "error", "bad", find("f", text, "b"), "");
    expect(render([d], sourcesOf({ f: text }), "short")).toBe("f:2:2: error[T3002]: bad\n");
  });
});

describe("json format", () => {
  test("golden: stable keys, primary location, labels, notes and help", () => {
    const f = ALPAGASUS_FILE;
    const d = diag("T2003", "error", "unknown optimizer `adamw8`", find(f, ALPAGASUS, "adamw8"), "not a known optimizer", {
      help: "did you mean `adamw`?",
      notes: ["optimizers come from `stdlib/optim`"],
      secondary: [{ span: find(f, ALPAGASUS, "train"), message: "in this block" }],
    });
    const out = render([d], sourcesOf({ [f]: ALPAGASUS }), "json");
    expect(out).toBe(
      `[
  {
    "code": "T2003",
    "severity": "error",
    "message": "unknown optimizer \`adamw8\`",
    "file": "recipes/alpagasus.tune",
    "start": {
      "line": 14,
      "column": 15,
      "offset": 233
    },
    "end": {
      "line": 14,
      "column": 21,
      "offset": 239
    },
    "labels": [
      {
        "file": "recipes/alpagasus.tune",
        "start": {
          "line": 14,
          "column": 15,
          "offset": 233
        },
        "end": {
          "line": 14,
          "column": 21,
          "offset": 239
        },
        "message": "not a known optimizer",
        "primary": true
      },
      {
        "file": "recipes/alpagasus.tune",
        "start": {
          "line": 13,
          "column": 1,
          "offset": 207
        },
        "end": {
          "line": 13,
          "column": 6,
          "offset": 212
        },
        "message": "in this block",
        "primary": false
      }
    ],
    "notes": [
      "optimizers come from \`stdlib/optim\`"
    ],
    "help": "did you mean \`adamw\`?"
  }
]
`,
    );
  });

  test("empty, label-less, unknown-source, multi-line and EOF diagnostics", () => {
    expect(render([], sourcesOf({}), "json")).toBe("[]\n");
    const text = "a {\n}";
    const diags = [
      { ...diag("T4001", "info", "no seed", { file: "x", start: 0, end: 0 }), labels: [] },
      diag("T5001", "error", "bad row", { file: "data/x.jsonl", start: 3, end: 4 }, ""),
      diag("T1002", "error", "block", { file: "t", start: 0, end: text.length }, ""),
    ];
    const [none, unknown, multi] = JSON.parse(render(diags, sourcesOf({ t: text }), "json"));
    expect(none).toMatchObject({ file: null, start: null, end: null, labels: [], notes: [], help: null });
    expect(unknown).toMatchObject({
      file: "data/x.jsonl",
      start: { line: null, column: null, offset: 3 },
      end: { line: null, column: null, offset: 4 },
    });
    expect(multi).toMatchObject({ start: { line: 1, column: 1, offset: 0 }, end: { line: 2, column: 2, offset: 5 } });
  });
});

describe("github format", () => {
  test("golden: error, warning, notice; help and notes follow the message", () => {
    const f = ALPAGASUS_FILE;
    const warn = diag("T3001", "warning", "`epochs` is set twice", find(f, ALPAGASUS, "epochs"), "", { notes: ["the last one wins"] });
    const info = diag("T4002", "info", "block spans lines", { file: f, start: ALPAGASUS.indexOf("train"), end: ALPAGASUS.length - 1 }, "");
    const noLabel = { ...info, code: "T4003", message: "no seed", labels: [] };
    expect(render([unknownOptimizer(), warn, info, noLabel], sourcesOf({ [f]: ALPAGASUS }), "github")).toBe(
      [
        "::error file=recipes/alpagasus.tune,line=14,col=15,endLine=14,endColumn=21,title=T2003::unknown optimizer `adamw8`%0Ahelp: did you mean `adamw`?",
        "::warning file=recipes/alpagasus.tune,line=15,col=3,endLine=15,endColumn=9,title=T3001::`epochs` is set twice%0Anote: the last one wins",
        // Columns are only allowed when the annotation is on one line.
        "::notice file=recipes/alpagasus.tune,line=13,endLine=16,title=T4002::block spans lines",
        "::notice title=T4003::no seed",
        "",
      ].join("\n"),
    );
  });

  test("escaping: %, CR and LF in data; also : and , in properties", () => {
    expect(escapeData("100% done\r\nnext: a, b")).toBe("100%25 done%0D%0Anext: a, b");
    expect(escapeProperty("C:\\a,b%\n")).toBe("C%3A\\a%2Cb%25%0A");
    const text = "x = 1\n";
    const d = diag("T3002", "error", "50% of `a:b, c`\nis wrong", find("f", text, "1"), "");
    const sources = new Map([["f", { file: "dir,1\\odd:name.tune", text }]]);
    expect(render([d], sources, "github")).toBe(
      "::error file=dir%2C1/odd%3Aname.tune,line=1,col=5,endLine=1,endColumn=6,title=T3002::50%25 of `a:b, c`%0Ais wrong\n",
    );
  });

  test("EOF and zero-width spans have endColumn equal to col; unknown source gives the file only", () => {
    const text = "a = \n";
    const eof = diag("T1002", "error", "missing value", { file: "f", start: 4, end: 4 }, "");
    const unknown = diag("T5001", "warning", "bad row", { file: "data/x.jsonl", start: 3, end: 4 }, "");
    expect(render([eof, unknown], sourcesOf({ f: text }), "github")).toBe(
      "::error file=f,line=1,col=5,endLine=1,endColumn=5,title=T1002::missing value\n" +
        "::warning file=data/x.jsonl,title=T5001::bad row\n",
    );
  });
});

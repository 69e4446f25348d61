// Where `tune fmt` puts comments: every placement rule of format-comments.ts
// with input → expected output. checkInvariants also asserts that the multiset
// of comment texts is the same before and after, so none is lost or duplicated.
import { describe, it } from "vitest";
import { expectFormat } from "./helpers.js";

const t = (...lines: string[]): string => lines.join("\n") + "\n";

describe("own-line comments", () => {
  it("stay above the next entry at its indentation", () => {
    expectFormat(
      t("model m {", "# about hub", "        # more", '  hub = "x"', "}"),
      t("model m {", "  # about hub", "  # more", '  hub = "x"', "}"),
    );
  });
  it("keep the user's paragraphs around them", () => {
    expectFormat(
      t("model m {", "  a = 1", "", "", "  # section", "", "  b = 2", "}"),
      t("model m {", "  a = 1", "", "  # section", "", "  b = 2", "}"),
    );
  });
  it("stay above top-level items, after the separating blank line", () => {
    expectFormat(t("model a {}", "# about b", "model b {}"), t("model a {}", "", "# about b", "model b {}"));
  });
  it("keep a file header and its blank line", () => {
    expectFormat(t("# Copyright", "# License", "", "", 'import "a"'), t("# Copyright", "# License", "", 'import "a"'));
  });
  it("go with an import when it moves up", () => {
    expectFormat(
      t("model m {}", "# why b", 'import "b"'),
      t("# why b", 'import "b"', "", "model m {}"),
    );
  });
});

describe("end-of-line comments", () => {
  it("stay at the end of their entry's line after one space", () => {
    expectFormat(t("model m {", "  a = 1      # one", "  b = 2\t# two   ", "}"), t("model m {", "  a = 1 # one", "  b = 2 # two", "}"));
  });
  it("stay after a closing brace", () => {
    expectFormat(t("model m {", "  x {", "  }   # inner", "}  # outer"), t("model m {", "  x {} # inner", "} # outer"));
  });
  it("stay on an import's line", () => {
    expectFormat('import "a"#why\nimport { b } from "c" # names', t('import "a" #why', 'import { b } from "c" # names'));
  });
  it("stay on the opener's line", () => {
    expectFormat(t("model m {   # the base", "  a = 1", "}"), t("model m { # the base", "  a = 1", "}"));
    expectFormat(t("model m # header", "{", "  a = 1", "}"), t("model m { # header", "  a = 1", "}"));
    expectFormat(t("model m { # only", "}"), t("model m { # only", "}"));
  });
  it("follow entries written on one line", () => {
    expectFormat("model m { a = 1 b = 2 # on b\n}", t("model m {", "  a = 1", "  b = 2 # on b", "}"));
  });
  it("are not counted in the line width", () => {
    const list = `[${Array.from({ length: 8 }, (_, i) => `item_${i}`).join(", ")}]`;
    const comment = "# " + "c".repeat(80);
    expectFormat(t("x {", `  v = ${list} ${comment}`, "}"), t("x {", `  v = ${list} ${comment}`, "}"));
  });
});

describe("comments before a closer", () => {
  it("stay inside the block", () => {
    expectFormat(t("model m {", "  a = 1", "", "# todo", "}"), t("model m {", "  a = 1", "", "  # todo", "}"));
  });
  it("stay inside an otherwise empty block", () => {
    expectFormat(t("model m {", "# nothing yet", "}"), t("model m {", "  # nothing yet", "}"));
  });
  it("stay inside a list and make it break", () => {
    expectFormat(t("x {", "  v = [a, b", "  # more later", "  ]", "}"), t("x {", "  v = [", "    a,", "    b,", "    # more later", "  ]", "}"));
  });
});

describe("comments inside lists and arguments", () => {
  it("keep their item and force one item per line", () => {
    expectFormat(
      t("x {", "  v = [a, # first", "    # about b", "       b]", "}"),
      t("x {", "  v = [", "    a, # first", "    # about b", "    b,", "  ]", "}"),
    );
  });
  it("after the opener stay on the opener's line", () => {
    expectFormat(t("x {", "  v = [ # names", "a, b]", "}"), t("x {", "  v = [ # names", "    a,", "    b,", "  ]", "}"));
    expectFormat(t("d {", "  task( # which", "mmlu, shots = 5)", "}"), t("d {", "  task( # which", "    mmlu,", "    shots = 5,", "  )", "}"));
  });
  it("in a nested list break the outer lists too", () => {
    expectFormat(
      t("x {", "  v = f([1, 2 # two", "  ], y)", "}"),
      t("x {", "  v = f(", "    [", "      1,", "      2, # two", "    ],", "    y,", "  )", "}"),
    );
  });
  it("keep blank lines between items of a broken list", () => {
    expectFormat(
      t("x {", "  v = [", "    # group a", "    a,", "", "", "    # group b", "    b,", "  ]", "}"),
      t("x {", "  v = [", "    # group a", "    a,", "", "    # group b", "    b,", "  ]", "}"),
    );
  });
});

describe("comments in the middle of an expression", () => {
  it("move above the entry", () => {
    expectFormat(t("x {", "  v = a + # why", "    b", "}"), t("x {", "  # why", "  v = a + b", "}"));
  });
  it("move above a list item", () => {
    expectFormat(t("x {", "  v = [a and # why", "  b, c]", "}"), t("x {", "  v = [", "    # why", "    a and b,", "    c,", "  ]", "}"));
  });
  it("move above a block when inside its header", () => {
    expectFormat(t("model # kind", "m {}"), t("# kind", "model m {}"));
  });
  it("move above an import when inside its names", () => {
    expectFormat(t("import { a, # first", "  b } from \"x\""), t("# first", 'import { a, b } from "x"'));
  });
  it("move above a field", () => {
    expectFormat(t("fields {", "  a: # t", "  int", "}"), t("fields {", "  # t", "  a: int", "}"));
  });
});

describe("comments at the end of the file", () => {
  it("stay at the end", () => {
    expectFormat(t("model m {}", "# end"), t("model m {}", "# end"));
    expectFormat(t("model m {}", "", "", "# end", "", "# really"), t("model m {}", "", "# end", "", "# really"));
  });
  it("make up a file of only comments", () => {
    expectFormat("# a\n\n\n# b", t("# a", "", "# b"));
  });
});

describe("comments in otherwise empty brackets", () => {
  it("keep a header-only list and call", () => {
    expectFormat(t("x {", "  v = [ # none yet", "  ]", "  w = f( # none", ")", "}"), t("x {", "  v = [ # none yet", "  ]", "  w = f( # none", "  )", "}"));
  });
  it("keep an own-line comment in an empty list", () => {
    expectFormat(t("x {", "  v = [", "# none yet", "]", "}"), t("x {", "  v = [", "    # none yet", "  ]", "}"));
  });
});

describe("the file header", () => {
  it("stays at the top when imports below the first block move up", () => {
    expectFormat(
      t("# File header", "", "# about m", "model m {}", "# about a", 'import "a"'),
      t("# File header", "", "# about a", 'import "a"', "", "# about m", "model m {}"),
    );
  });
});

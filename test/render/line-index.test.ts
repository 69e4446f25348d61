// LineIndex is the single offset → line/column conversion behind every format.
import { describe, expect, test } from "vitest";
import { LineIndex } from "../../cli/render/index.js";

describe("LineIndex", () => {
  test("\\n line breaks", () => {
    const idx = new LineIndex("ab\ncd\n");
    expect(idx.lineCount).toBe(3);
    expect(idx.position(0)).toEqual({ line: 1, column: 1 });
    expect(idx.position(2)).toEqual({ line: 1, column: 3 }); // the break itself ends line 1
    expect(idx.position(3)).toEqual({ line: 2, column: 1 });
    expect(idx.position(6)).toEqual({ line: 3, column: 1 }); // EOF after a final break
    expect([1, 2, 3].map((l) => idx.lineText(l))).toEqual(["ab", "cd", ""]);
  });

  test("\\r\\n counts as one break and is not part of the line text", () => {
    const idx = new LineIndex("ab\r\ncd\r\n");
    expect(idx.lineCount).toBe(3);
    expect(idx.position(4)).toEqual({ line: 2, column: 1 });
    expect(idx.position(3)).toEqual({ line: 1, column: 4 }); // between \r and \n
    expect(idx.lineText(1)).toBe("ab");
    expect(idx.lineText(2)).toBe("cd");
    expect(idx.lineStart(2)).toBe(4);
    expect(idx.lineEnd(2)).toBe(6);
  });

  test("lone \\r and mixed breaks", () => {
    const text = "a\rb\nc\r\nd\n\re";
    const idx = new LineIndex(text);
    expect(idx.lineCount).toBe(6);
    expect([1, 2, 3, 4, 5, 6].map((l) => idx.lineText(l))).toEqual(["a", "b", "c", "d", "", "e"]);
    expect(idx.position(2)).toEqual({ line: 2, column: 1 });
    expect(idx.position(text.indexOf("e"))).toEqual({ line: 6, column: 1 });
    expect(idx.position(text.length)).toEqual({ line: 6, column: 2 });
  });

  test("empty file has one empty line; EOF and out-of-range offsets clamp", () => {
    const idx = new LineIndex("");
    expect(idx.lineCount).toBe(1);
    expect(idx.lineText(1)).toBe("");
    expect(idx.position(0)).toEqual({ line: 1, column: 1 });
    expect(idx.position(99)).toEqual({ line: 1, column: 1 });
    const abc = new LineIndex("abc");
    expect(abc.position(3)).toEqual({ line: 1, column: 4 });
    expect(abc.position(10)).toEqual({ line: 1, column: 4 });
    expect(abc.position(-5)).toEqual({ line: 1, column: 1 });
  });

  test("columns are UTF-16 code units: astral characters count twice", () => {
    const text = "é😀x\n";
    const idx = new LineIndex(text);
    expect(idx.position(text.indexOf("x"))).toEqual({ line: 1, column: 4 });
  });

  test("lineText rejects lines outside the file", () => {
    const idx = new LineIndex("a\nb");
    expect(() => idx.lineText(0)).toThrow(RangeError);
    expect(() => idx.lineText(3)).toThrow(RangeError);
  });

  test("binary search agrees with a linear scan on many lines", () => {
    const text = Array.from({ length: 500 }, (_, i) => "x".repeat(i % 7)).join("\n");
    const idx = new LineIndex(text);
    let line = 1;
    let column = 1;
    for (let o = 0; o <= text.length; o++) {
      expect(idx.position(o)).toEqual({ line, column });
      if (text[o] === "\n") {
        line++;
        column = 1;
      } else column++;
    }
  });
});

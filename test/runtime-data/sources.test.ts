import { describe, expect, it } from "vitest";
import { ArraySplitter } from "../../runtime/data/sources/json.js";
import {
  BadRowLog,
  collect,
  countRows,
  DataError,
  detectFormat,
  formatFromPath,
  fromParquetValue,
  openSource,
  readCsv,
  readJsonArray,
  readJsonl,
  readParquet,
} from "../../runtime/data/index.js";
import { DATA, FIX, rejection } from "./helpers.js";

const fail = () => new BadRowLog("fail");

describe("JSONL source", () => {
  it("streams objects with line numbers, skipping blank lines", async () => {
    const rows = await collect(readJsonl(`${FIX}/small.jsonl`, fail()));
    expect(rows.map((r) => [r.origin.line, r.origin.row])).toEqual([[1, 0], [2, 1], [4, 2]]);
    expect(rows[2].values).toEqual({ instruction: "What is 2+2?", input: "", output: "4", score: 4.5 });
    expect(rows[0].origin).toEqual({ file: `${FIX}/small.jsonl`, format: "jsonl", line: 1, row: 0 });
  });

  it("handles CRLF line endings", async () => {
    const rows = await collect(readJsonl(`${FIX}/crlf.jsonl`, fail()));
    expect(rows.map((r) => [r.origin.line, r.values.instruction])).toEqual([[1, "a"], [2, "b"]]);
  });

  it("reports a malformed line with file:line (T5502)", async () => {
    const e = await rejection(collect(readJsonl(`${FIX}/bad.jsonl`, fail())));
    expect(e).toBeInstanceOf(DataError);
    expect((e as DataError).code).toBe("T5502");
    expect(e.message).toMatch(new RegExp(`^${FIX}/bad.jsonl:3: malformed JSON record: `));
  });

  it("is replayable: a second pass reads the file again", async () => {
    const s = readJsonl(`${FIX}/small.jsonl`, fail());
    expect(await countRows(s)).toBe(3);
    expect(await countRows(s)).toBe(3);
  });
});

describe("JSON array source", () => {
  it("streams elements with the line each starts on, unfazed by brackets in strings", async () => {
    const rows = await collect(readJsonArray(`${FIX}/array.json`, fail()));
    expect(rows.map((r) => [r.origin.line, r.origin.row])).toEqual([[2, 0], [7, 1], [9, 2]]);
    expect(rows[0].values.instruction).toBe('Brackets ] and } inside "strings" [ {');
    expect(rows[1].values).toEqual({ instruction: "second", input: "line\nbreak", output: "done", nested: { a: [1, { b: "]" }] } });
  });

  it("gives the same elements whatever the chunking (1-char chunks)", () => {
    const text = '[ {"a": "x\\"]"}, 1,\n"s", [2, [3]], {"b": {"c": "}"}}, {"d": "\\\\"} ]';
    const whole = new ArraySplitter("t").push(text).map((e) => e.text);
    const sp = new ArraySplitter("t");
    const pieces = [...text].flatMap((ch) => sp.push(ch)).map((e) => e.text);
    sp.finish();
    expect(pieces).toEqual(whole);
    expect(whole).toEqual(['{"a": "x\\"]"}', "1", '"s"', "[2, [3]]", '{"b": {"c": "}"}}', '{"d": "\\\\"}']);
    expect(whole.map((t) => JSON.parse(t))).toHaveLength(6);
  });

  it("rejects a top-level object and a missing comma with a located T5502", async () => {
    const e1 = await rejection(collect(readJsonArray(`${FIX}/not-array.json`, fail())));
    expect(e1.message).toBe(`${FIX}/not-array.json:1: malformed JSON array: expected a JSON array (\`[\`) at the top level, found \`{\``);
    const e2 = await rejection(collect(readJsonArray(`${FIX}/missing-comma.json`, fail())));
    expect(e2.message).toBe(`${FIX}/missing-comma.json:3: malformed JSON array: expected \`,\` or \`]\` after an element, found \`{\``);
  });

  it("reads the shipped data sets completely", async () => {
    const counts: Record<string, number> = {};
    for (const f of [
      "alpaca/alpaca_tiny.json",
      "alpagasus/claude_t45.json",
      "llm_from_scratch_preference/instruction-data-with-preference.json",
      "llamafactory_alpaca_en_demo/alpaca_en_demo.json",
    ]) {
      counts[f] = await countRows(readJsonArray(`${DATA}/${f}`, fail()));
    }
    expect(Object.values(counts)).toEqual([100, 5305, 1100, 999]);
  });
});

describe("CSV source", () => {
  it("keeps the start line of multi-line records and skips blank lines", async () => {
    const rows = await collect(readCsv(`${FIX}/small.csv`, fail()));
    expect(rows.map((r) => r.origin.line)).toEqual([2, 3, 6]);
    expect(rows[1].values).toEqual({ question: "A question\nspanning lines", answer: "yes", score: "2", ok: "false" });
  });

  it("counts lines correctly in CRLF files", async () => {
    const rows = await collect(readCsv(`${FIX}/crlf.csv`, fail()));
    expect(rows.map((r) => [r.origin.line, r.values.answer])).toEqual([[2, "a"], [5, "b"]]);
    expect(rows[0].values.question).toBe("multi\r\nline");
  });

  it("reads header-less files with declared columns (MMLU layout)", async () => {
    const rows = await collect(readCsv(`${FIX}/mmlu_like.csv`, fail(), { header: false, columns: ["question", "A", "B", "C", "D", "answer"] }));
    expect(rows.map((r) => [r.origin.line, r.values.answer, r.values.D])).toEqual([[1, "B", "6"], [2, "C", "120"]]);
  });

  it("reports a record with the wrong number of fields at its line", async () => {
    const e = await rejection(collect(readCsv(`${FIX}/bad.csv`, fail())));
    expect(e.message).toBe(`${FIX}/bad.csv:3: record has 2 field(s), expected 3 (question, answer, score)`);
  });
});

describe("Parquet source", () => {
  it("reads both row groups (plain and gzip) with absolute row indices", async () => {
    const rows = await collect(readParquet(`${FIX}/small.parquet`));
    expect(rows.map((r) => r.origin.row)).toEqual([0, 1, 2, 3, 4]);
    expect(rows.map((r) => r.values.id)).toEqual([1, 2, 3, 4, 5]);
    expect(rows[2].values).toMatchObject({ instruction: "Describe the structure of an atom.", input: "ünïcödé ✓", score: 5, keep: true });
    expect(rows[1].values.input).toBeNull();
    expect(rows[4].values).toMatchObject({ input: "good morning", keep: true });
  });

  it("converts INT64 to number when safe and to a decimal string otherwise", async () => {
    const rows = await collect(readParquet(`${FIX}/small.parquet`));
    expect(rows.map((r) => r.values.big)).toEqual([9007199254740991, "9007199254740993", "-9223372036854775808", 42, -7]);
    expect(fromParquetValue({ a: [1n, 2n ** 60n] })).toEqual({ a: [1, "1152921504606846976"] });
  });
});

describe("format detection and file errors", () => {
  it("maps extensions and sniffs JSON Lines inside .json", async () => {
    expect(formatFromPath("x/Y.JSONL")).toBe("jsonl");
    expect(formatFromPath("a.tsv")).toBe("csv");
    expect(formatFromPath("a.parquet")).toBe("parquet");
    expect(await detectFormat(`${FIX}/array.json`)).toBe("json");
    expect(await detectFormat(`${FIX}/not-array.json`)).toBe("json");
  });

  it("T5504 for an unknown extension, T5501 for a missing file", async () => {
    expect(() => formatFromPath(`${FIX}/notes.txt`)).toThrow(/cannot tell the format of .*notes\.txt/);
    const e = await rejection(openSource(`${FIX}/nope.jsonl`).then((s) => collect(s.rows)));
    expect((e as DataError).code).toBe("T5501");
    expect(e.message).toBe(`data file ${FIX}/nope.jsonl does not exist`);
  });

  it("openSource picks the reader from the file", async () => {
    for (const [f, n] of [["small.jsonl", 3], ["array.json", 3], ["small.csv", 3], ["small.parquet", 5]] as const) {
      const s = await openSource(`${FIX}/${f}`);
      expect(await countRows(s.rows)).toBe(n);
    }
  });
});

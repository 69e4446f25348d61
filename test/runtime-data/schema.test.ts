import { describe, expect, it } from "vitest";
import {
  checkRow,
  collect,
  DataError,
  detectFormat,
  fromValues,
  inferSchema,
  formatInferred,
  openSource,
  validateSchema,
  type FieldSpec,
} from "../../runtime/data/index.js";
import { DATA, FIX, rejection } from "./helpers.js";

const ALPACA: FieldSpec[] = [
  { name: "instruction", type: "string" },
  { name: "input", type: "string", default: "" },
  { name: "output", type: "string" },
];

describe("typed rows: fail policy", () => {
  it("stops at the first bad row with file:line, field and expectation", async () => {
    const src = await openSource(`${FIX}/bad.jsonl`, { schema: ALPACA });
    const e = (await rejection(collect(src.rows))) as DataError;
    expect(e.code).toBe("T5502");
    expect(e.message.startsWith(`${FIX}/bad.jsonl:3: malformed JSON record`)).toBe(true);
    expect(e.hint).toContain("line 3");
  });

  it("names the missing field and the wrong type exactly", async () => {
    const rows = fromValues("inline", [{ instruction: "a", output: 42 }, { instruction: "b" }]);
    const [r0, r1] = await collect(rows);
    const e0 = checkRow(r0, ALPACA) as DataError;
    expect(e0.message).toBe('inline (row 0): field "output": expected string, got number 42');
    expect(e0.code).toBe("T5511");
    expect(e0.field).toBe("output");
    const e1 = checkRow(r1, ALPACA) as DataError;
    expect(e1.message).toBe('inline (row 1): field "output" is missing (expected string)');
    expect(e1.code).toBe("T5510");
  });
});

describe("typed rows: skip policy", () => {
  it("skips and counts every kind of bad row, keeping the first reasons", async () => {
    const src = await openSource(`${FIX}/bad.jsonl`, { schema: ALPACA, onBadRows: "skip" });
    const rows = await collect(src.rows);
    expect(rows.map((r) => r.values.instruction)).toEqual(["ok one", "ok two"]);
    const s = src.badRows.summary();
    expect(s.skipped).toBe(5);
    expect(s.byCode).toEqual({ T5502: 1, T5510: 2, T5511: 1, T5503: 1 });
    expect(s.firstReasons[1]).toBe(
      `${FIX}/bad.jsonl:4: error[T5510]: field "output" is missing (expected string)\n` +
        '  = help: mark the field optional or give it a default; the record has: instruction, input',
    );
    expect(s.firstReasons[2]).toContain(`${FIX}/bad.jsonl:5: error[T5511]: field "output": expected string, got number 42`);
    expect(s.firstReasons[3]).toContain(`${FIX}/bad.jsonl:7: error[T5503]: record is an array, expected a JSON object`);
    expect(s.firstReasons[4]).toContain("did you mean `ouput`?");
    expect(src.badRows.report()).toMatch(/^skipped 5 bad row\(s\) \(T5502 ×1, T5510 ×2, T5511 ×1, T5503 ×1\)/);
  });

  it("resets counts on each pass (replay gives the same report)", async () => {
    const src = await openSource(`${FIX}/bad.jsonl`, { schema: ALPACA, onBadRows: "skip" });
    await collect(src.rows);
    await collect(src.rows);
    expect(src.badRows.skipped).toBe(5);
  });

  it("converts CSV strings to declared types and skips what does not convert", async () => {
    const schema: FieldSpec[] = [
      { name: "question", type: "string" },
      { name: "answer", type: "string" },
      { name: "score", type: "float" },
    ];
    const src = await openSource(`${FIX}/bad.csv`, { schema, onBadRows: "skip" });
    const rows = await collect(src.rows);
    expect(rows.map((r) => r.values)).toEqual([
      { question: "q1", answer: "a1", score: 1 },
      { question: "q4", answer: "a4", score: 4 },
    ]);
    expect(src.badRows.summary().firstReasons.map((r) => r.split("\n")[0])).toEqual([
      `${FIX}/bad.csv:3: error[T5502]: record has 2 field(s), expected 3 (question, answer, score)`,
      `${FIX}/bad.csv:4: error[T5511]: field "score": expected float, got string "notanumber"`,
    ]);
    const ok = await openSource(`${FIX}/small.csv`, {
      schema: [{ name: "q", from: "question", type: "string" }, { name: "score", type: "float" }, { name: "ok", type: "bool" }],
    });
    expect((await collect(ok.rows)).map((r) => r.values)).toEqual([
      { q: "What is 2+2?", score: 1.5, ok: true },
      { q: "A question\nspanning lines", score: 2, ok: false },
      { q: "Commas, inside", score: 3.25, ok: true },
    ]);
  });
});

describe("field types", () => {
  it("checks int, bool, list<string> and messages; renames with from; fills defaults", async () => {
    const schema: FieldSpec[] = [
      { name: "n", type: "int" },
      { name: "flag", type: "bool", optional: true },
      { name: "tags", type: "list<string>", default: [] },
      { name: "prompt", type: "string", from: "question" },
    ];
    const [good, badInt, badList] = await collect(
      fromValues("m", [
        { n: 3, question: "q?" },
        { n: 3.5, question: "q?" },
        { n: 1, question: "q", tags: ["a", 2] },
      ]),
    );
    expect(checkRow(good, schema)).toEqual({ n: 3, flag: null, tags: [], prompt: "q?" });
    expect((checkRow(badInt, schema) as DataError).message).toBe('m (row 1): field "n": expected int, got number 3.5');
    expect((checkRow(badList, schema) as DataError).message).toBe('m (row 2): field "tags"[1]: expected string, got number 2');
  });

  it("validates chat messages and points at the bad turn (T5512)", async () => {
    const src = await openSource(`${FIX}/messages.jsonl`, { schema: [{ name: "messages", type: "messages" }] });
    const e = (await rejection(collect(src.rows))) as DataError;
    expect(e.code).toBe("T5512");
    expect(e.message).toBe(
      `${FIX}/messages.jsonl:3: field "messages"[0].role: expected one of system, user, assistant, tool, got string "human"`,
    );
  });

  it("rejects bad declarations", () => {
    expect(() => validateSchema([{ name: "a", type: "string" }, { name: "a", type: "int" }])).toThrow(/declared twice/);
    expect(() => validateSchema([{ name: "a", type: "int", default: "x" }])).toThrow(/default of field "a": expected int/);
  });
});

describe("schema inference", () => {
  it("infers the shipped preference set", async () => {
    const src = await openSource(`${DATA}/llm_from_scratch_preference/instruction-data-with-preference.json`);
    const s = await inferSchema(src.rows, 200);
    expect(s.sampled).toBe(200);
    expect(s.fields.map((f) => [f.name, f.type, f.optional ?? false])).toEqual([
      ["instruction", "string", false],
      ["input", "string", false],
      ["output", "string", false],
      ["rejected", "string", false],
      ["chosen", "string", false],
    ]);
  });

  it("infers CSV column types, optional fields and unrepresentable values", async () => {
    const csv = await openSource(`${FIX}/small.csv`);
    const s = await inferSchema(csv.rows);
    expect(s.fields.map((f) => `${f.name}:${f.type}`)).toEqual(["question:string", "answer:string", "score:float", "ok:bool"]);
    const mixed = await inferSchema(fromValues("m", [{ a: 1, b: { x: 1 } }, { a: 2, b: "s", c: ["u"] }]));
    expect(mixed.fields).toEqual([
      { name: "a", type: "int", present: 2 },
      { name: "b", type: "unknown", present: 2, note: expect.stringContaining("mixed or nested values (object, string)") },
      { name: "c", type: "list<string>", present: 1, optional: true },
    ]);
    expect(formatInferred(mixed).split("\n")[3]).toBe("c: list<string>?  # present in 1 of 2");
  });

  it("sniffs JSON Lines stored under .json", async () => {
    expect(await detectFormat(`${FIX}/lines.json`)).toBe("jsonl");
    const src = await openSource(`${FIX}/lines.json`);
    expect((await collect(src.rows)).map((r) => r.origin.line)).toEqual([1, 2]);
  });
});

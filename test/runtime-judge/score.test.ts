// Row scoring (the AlpaGasus `score` op) end to end: the shipped recipe compiled to its graph, its score node's
// judge and prompt params pointed at a loopback chat-completions server, real Alpaca rows read from the shipped
// file. Checks the exact prompt sent (against runtime/data/judge-parse.ts's reference builder), the parsed scores,
// unparseable and out-of-range replies listed with their rows, and the cache making a re-run free.

import { mkdtempSync, readFileSync, appendFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fsHost } from "../../cli/host.js";
import { compile } from "../../compiler/compile.js";
import { alpagasusMessages, collect, openSource, parseAlpagasusScore, type Row } from "../../runtime/data/index.js";
import { CACHE_FILE, JudgeError, ReplyCache, buildJudge, scoreRows, scoreSummary, type JudgePrompt, type JudgeProgress } from "../../runtime/judge/index.js";
import { startJudgeServer, type JudgeServer } from "./judge-server.js";

const KEY = "sk-test-0123456789abcdef";
const ENV = { OPENAI_API_KEY: KEY };

/** The score node of recipes/alpagasus.tune, as the compiler lowers it. */
function alpagasusScoreParams(): { field: string; judge: Record<string, unknown>; prompt: JudgePrompt; range: [number, number] } {
  const path = "recipes/alpagasus.tune";
  const c = compile(path, readFileSync(path, "utf8"), fsHost());
  const node = c.graph!.nodes.find((n) => n.op === "score");
  expect(node, "alpagasus has a score node").toBeDefined();
  return node!.params as unknown as ReturnType<typeof alpagasusScoreParams>;
}

/**
 * How the test judge grades an AlpaGasus prompt: derived from the response text only, so the test can recompute it
 * from the row. Covers a plain first-line score, the "score:" fallback, an unparseable review and an out-of-range one.
 */
function gradeFor(output: string): string {
  const h = [...output].reduce((a, ch) => (a * 31 + ch.codePointAt(0)!) % 1_000_003, 7);
  switch (h % 9) {
    case 0:
      return "I cannot evaluate this response.";
    case 1:
      return "The assistant's score: 3.5\nIt misses details.";
    case 2:
      return "7\nOff the scale.";
    default:
      return `${(h % 11) / 2}\nThe response is reasonable.`;
  }
}

let server: JudgeServer;
let rows: Row[];
let dir: string;
beforeAll(async () => {
  server = await startJudgeServer({ apiKey: KEY, models: ["gpt-3.5-turbo-0301"] });
  rows = (await collect((await openSource("data/alpaca/alpaca_tiny.json")).rows)).slice(0, 40);
  for (const r of rows) if (r.values.input === undefined) r.values.input = "";
  dir = mkdtempSync(join(tmpdir(), "tune-judge-score-"));
});
afterAll(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Rows whose `output` carries the grading marker the server answers with (the prompt text itself is unchanged). */
function markedRows(): Row[] {
  return rows.map((r) => ({ values: { ...r.values, output: `${r.values.output as string}REPLY<<${gradeFor(r.values.output as string)}>>` }, origin: r.origin }));
}

describe("scoreRows with the AlpaGasus recipe's score node", () => {
  it("sends AlpaGasus' exact prompt, parses by its rule, and lists unparseable rows with their row numbers", async () => {
    const p = alpagasusScoreParams();
    const judge = buildJudge({ ...p.judge, endpoint: server.base }, { env: ENV });
    const input = markedRows();
    const progress: JudgeProgress[] = [];
    const { rows: out, stats } = await scoreRows(input, { judge, prompt: p.prompt, field: p.field, range: p.range, cacheDir: dir, onProgress: (x) => progress.push(x) });

    // The prompt, byte for byte, is the reference builder's; temperature 0 and max_tokens from the judge block.
    expect(server.requests).toHaveLength(input.length);
    const sent = new Map(server.requests.map((r) => [r.body.messages[1].content, r]));
    for (const r of input) {
      const ref = alpagasusMessages({ instruction: r.values.instruction as string, input: r.values.input as string, output: r.values.output as string });
      const req = sent.get(ref[1].content);
      expect(req, `request for ${r.origin.row}`).toBeDefined();
      expect(req!.body.messages).toEqual(ref);
      expect(req!.body).toMatchObject({ model: "gpt-3.5-turbo-0301", temperature: 0, max_tokens: 64 });
    }

    // Scores: the reference parse of the reply the judge gave; out-of-range and unparseable → null and listed.
    let unparseable = 0;
    let outOfRange = 0;
    out.forEach((r, i) => {
      const reply = gradeFor(rows[i].values.output as string);
      const ref = parseAlpagasusScore(reply).score;
      const inRange = ref !== null && ref >= 0 && ref <= 5;
      expect(r.values.quality, `row ${i}: ${reply}`).toBe(inRange ? ref : null);
      expect(r.origin).toEqual(input[i].origin);
      expect(r.values.instruction).toBe(input[i].values.instruction);
      if (ref === null) unparseable++;
      else if (!inRange) outOfRange++;
    });
    expect(unparseable).toBeGreaterThan(0);
    expect(outOfRange).toBeGreaterThan(0);
    expect(stats).toMatchObject({ total: 40, scored: 40 - unparseable - outOfRange, unparseable, outOfRange, requests: 40, cacheHits: 0, prompt: "alpagasus_rating" });
    expect(stats.unparseableRows).toHaveLength(unparseable + outOfRange);
    const first = stats.unparseableRows[0];
    const firstIndex = out.findIndex((r) => r.values.quality === null);
    expect(first.origin).toEqual(rows[firstIndex].origin);
    expect(first.where).toBe(`data/alpaca/alpaca_tiny.json:${rows[firstIndex].origin.line}`);
    expect(stats.unparseableRows.find((u) => u.reason === "out_of_range")).toMatchObject({ value: 7, reply: "7 Off the scale." });
    expect(stats.unparseableRows.find((u) => u.reason === "unparseable")!.reply).toBe("I cannot evaluate this response.");
    expect(progress.at(-1)).toEqual({ done: 40, total: 40, requests: 40, cacheHits: 0 });
    expect(scoreSummary(stats)).toContain(`${unparseable} unparseable, ${outOfRange} out of range; 40 requests, 0 cached`);
  });

  it("costs nothing on a re-run: zero HTTP requests, identical scores, all from the cache", async () => {
    const p = alpagasusScoreParams();
    const before = server.requests.length;
    const first = await scoreRows(markedRows(), { judge: buildJudge({ ...p.judge, endpoint: server.base }, { env: ENV }), prompt: p.prompt, field: p.field, range: p.range, cacheDir: dir });
    expect(server.requests.length).toBe(before);
    expect(first.stats).toMatchObject({ requests: 0, cacheHits: 40 });
    // A fully cached re-run needs no API key at all.
    const noKey = await scoreRows(markedRows(), { judge: buildJudge({ ...p.judge, endpoint: server.base }, { env: {} }), prompt: p.prompt, field: p.field, range: p.range, cacheDir: dir });
    expect(noKey.stats.requests).toBe(0);
    expect(noKey.rows.map((r) => r.values.quality)).toEqual(first.rows.map((r) => r.values.quality));
  });

  it("misses the cache when the sampling settings, the model or a row change", async () => {
    const p = alpagasusScoreParams();
    const some = markedRows().slice(0, 3);
    const before = server.requests.length;
    const warmer = buildJudge({ ...p.judge, endpoint: server.base, temperature: 0.7 }, { env: ENV });
    expect((await scoreRows(some, { judge: warmer, prompt: p.prompt, field: "q", cacheDir: dir })).stats.requests).toBe(3);
    const edited = [{ ...some[0], values: { ...some[0].values, instruction: `${some[0].values.instruction as string} (edited)` } }];
    const same = buildJudge({ ...p.judge, endpoint: server.base }, { env: ENV });
    expect((await scoreRows(edited, { judge: same, prompt: p.prompt, field: "q", cacheDir: dir })).stats.requests).toBe(1);
    expect(server.requests.length).toBe(before + 4);
  });

  it("survives a line torn by a crash, and keeps appending cleanly after it", async () => {
    const d = mkdtempSync(join(tmpdir(), "tune-judge-torn-"));
    try {
      const p = alpagasusScoreParams();
      const judge = buildJudge({ ...p.judge, endpoint: server.base }, { env: ENV });
      const some = markedRows().slice(0, 4);
      await scoreRows(some, { judge, prompt: p.prompt, field: "q", cacheDir: d });
      appendFileSync(join(d, CACHE_FILE), '{"k":"abc","r":"tor');
      const cache = await ReplyCache.open(d);
      expect(cache.skippedLines).toBe(1);
      expect(cache.size).toBe(4);
      await cache.put("k2", "after the tear");
      await cache.close();
      const again = await ReplyCache.open(d);
      expect(again.skippedLines).toBe(1);
      expect(again.get("k2")).toBe("after the tear");
      await again.close();
      expect((await scoreRows(some, { judge, prompt: p.prompt, field: "q", cacheDir: d })).stats).toMatchObject({ requests: 0, cacheHits: 4 });
    } finally {
      rmSync(d, { recursive: true, force: true });
    }
  });

  it("stops at a fatal error, keeps the replies already received, and a re-run asks only for the rest", async () => {
    const d = mkdtempSync(join(tmpdir(), "tune-judge-resume-"));
    try {
      const p = alpagasusScoreParams();
      const some = markedRows().slice(0, 10);
      const judge = buildJudge({ ...p.judge, endpoint: server.base, concurrency: 1 }, { env: ENV });
      server.script.push({}, {}, {}, { status: 401 });
      const before = server.requests.length;
      let err: unknown;
      try {
        await scoreRows(some, { judge, prompt: p.prompt, field: "q", cacheDir: d });
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(JudgeError);
      expect((err as JudgeError).code).toBe("T5602");
      expect(server.requests.length - before).toBe(4);
      const resumed = await scoreRows(some, { judge, prompt: p.prompt, field: "q", cacheDir: d });
      expect(resumed.stats).toMatchObject({ requests: 7, cacheHits: 3 });
    } finally {
      rmSync(d, { recursive: true, force: true });
    }
  });

  it("reports a row that lacks a prompt field at the row (T5530)", async () => {
    const p = alpagasusScoreParams();
    const judge = buildJudge({ ...p.judge, endpoint: server.base }, { env: ENV });
    const bad: Row = { values: { instruction: "x", output: "y" }, origin: { file: "d.jsonl", format: "jsonl", line: 17, row: 16 } };
    await expect(scoreRows([bad], { judge, prompt: p.prompt, field: "q", cacheDir: dir })).rejects.toThrow(/^d\.jsonl:17: template prompt alpagasus_rating uses field "input"/);
  });
});

describe("scoreRows parse rules", () => {
  it("integer and first_number rules, with the step's range overriding the prompt's", async () => {
    const judge = buildJudge({ name: "j", endpoint: server.base, api_model: "gpt-3.5-turbo-0301", api_key_env: "OPENAI_API_KEY" }, { env: ENV });
    const vals = ["8", " 9\n", "8.5", "Rating: 7/10", "none", "11"].map((reply) => ({ reply }));
    const input: Row[] = vals.map((v, i) => ({ values: v, origin: { file: "mem", format: "memory", row: i } }));
    const user = "REPLY<<{{reply}}>>";
    const integer = await scoreRows(input, { judge, prompt: { name: "int10", user, parse: "integer", range: [0, 100] }, field: "s", range: [0, 10], cacheDir: dir });
    expect(integer.rows.map((r) => r.values.s)).toEqual([8, 9, null, null, null, null]);
    expect(integer.stats).toMatchObject({ scored: 2, unparseable: 3, outOfRange: 1 });
    const first = await scoreRows(input, { judge, prompt: { name: "first10", user, parse: "first_number", range: [0, 10] }, field: "s", cacheDir: dir });
    expect(first.rows.map((r) => r.values.s)).toEqual([8, 9, 8.5, 7, null, null]);
    expect(first.stats.unparseableRows.map((u) => [u.where, u.reason])).toEqual([
      ["mem (row 4)", "unparseable"],
      ["mem (row 5)", "out_of_range"],
    ]);
  });

  it("asks once for rows whose rendered prompts are identical", async () => {
    const judge = buildJudge({ name: "j", endpoint: server.base, api_model: "gpt-3.5-turbo-0301", api_key_env: "OPENAI_API_KEY" }, { env: ENV });
    const d = mkdtempSync(join(tmpdir(), "tune-judge-dup-"));
    try {
      const input: Row[] = ["2", "2", "3"].map((reply, i) => ({ values: { reply }, origin: { file: "mem", format: "memory", row: i } }));
      const r = await scoreRows(input, { judge, prompt: { name: "dup", user: "REPLY<<{{reply}}>>", parse: "integer" }, field: "s", cacheDir: d });
      expect(r.rows.map((x) => x.values.s)).toEqual([2, 2, 3]);
      expect(r.stats).toMatchObject({ requests: 2, cacheHits: 1 });
    } finally {
      rmSync(d, { recursive: true, force: true });
    }
  });
});

// Lazy rows values through the executor: every data op gives the same rows in the same order whether its
// input streams from the file or sits in memory, a lazy value reads the same rows on every pass, counts are
// logged once the rows are first read, and the consumers (cache codec, lock digest, torch data rendering)
// give byte-identical results for both forms.
import { readFileSync, readdirSync, writeFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { collect, fromArray, type Row } from "../../runtime/data/row.js";
import { readRows, writeRows } from "../../runtime/exec/cache-codec.js";
import { valueDigest, valueDigestAsync } from "../../runtime/exec/lock.js";
import { isLazy, lazyRows, rowsArray, rowsOf, streamThresholdBytes } from "../../runtime/exec/ops/data.js";
import { prepareRenderedData } from "../../runtime/exec/prepare.js";
import type { RowsValue } from "../../runtime/exec/types.js";
import { allRows, captureEnv, cleanupTemps, opsSandbox, runData, tempDir, withStreamBytes, type Captured } from "./helpers.js";

afterAll(cleanupTemps);

const IN_MEMORY = Number.MAX_SAFE_INTEGER;
const STREAM = 0;
const rowJson = (rows: Row[]) => rows.map((r) => JSON.stringify([r.values, r.origin]));

describe("lazyRows", () => {
  it("iterates twice identically and reports its count once, after the first full pass", async () => {
    const rows: Row[] = [0, 1, 2].map((i) => ({ values: { i }, origin: { file: "m", format: "memory", row: i } }));
    const counts: number[] = [];
    const v = lazyRows(fromArray(rows), "memory", (n) => counts.push(n));
    expect(counts).toEqual([]);
    const first = await collect(v.stream());
    const second = await collect(v.stream());
    expect(second).toEqual(first);
    expect(first).toEqual(rows);
    expect(counts).toEqual([3]);
    expect(await rowsArray(v, { id: "n" } as never)).toEqual(rows);
    expect(() => rowsOf(v, { id: "gen" } as never)).toThrow(/gen: its rows input streams from memory/);
  });

  it("reads TUNE_STREAM_BYTES, refusing a value that is not a byte count", async () => {
    expect(await withStreamBytes(undefined, async () => streamThresholdBytes())).toBe(16 * 1024 * 1024);
    expect(await withStreamBytes(0, async () => streamThresholdBytes())).toBe(0);
    await withStreamBytes(-3, async () => expect(() => streamThresholdBytes()).toThrow(/TUNE_STREAM_BYTES = "-3" is not a byte count/));
  });
});

describe("the data ops, streaming vs in memory", () => {
  const box = opsSandbox();
  const eager = runData(box.graph, box.dir, IN_MEMORY);
  // One after the other: TUNE_STREAM_BYTES is process-wide.
  const lazy = eager.then(() => runData(box.graph, box.dir, STREAM));

  it("stream where they can and keep rows in memory where the op needs them", async () => {
    const e = await eager;
    const l = await lazy;
    const kind = (run: typeof e, id: string, port = "rows") => (isLazy(run.values.get(id)![port] as RowsValue) ? "lazy" : "memory");
    const ids = [...l.values.keys()];
    const find = (prefix: string) => ids.filter((id) => id.startsWith(prefix));
    for (const id of ids) for (const port of Object.keys(e.values.get(id)!)) expect(kind(e, id, port)).toBe("memory");
    for (const id of [...find("load_data:"), ...find("filter:"), ...find("dedup:"), ...find("mix:")]) expect(kind(l, id)).toBe("lazy");
    const [shareSample, countSample] = find("sample:");
    expect(kind(l, shareSample!)).toBe("lazy"); // sample(40%): two passes per read, passed on lazily
    expect(kind(l, countSample!)).toBe("memory"); // sample(50): a reservoir of 50 rows
    expect(kind(l, find("split:")[0]!, "train")).toBe("lazy");
    expect(kind(l, find("shuffle:")[0]!)).toBe("memory");
  });

  it("give the same rows in the same order, and every lazy value reads them again identically", async () => {
    const e = await eager;
    const l = await lazy;
    expect([...l.values.keys()]).toEqual([...e.values.keys()]);
    for (const [id, ports] of e.values) {
      for (const [port, v] of Object.entries(ports)) {
        const want = rowJson(await allRows(v));
        const lv = l.values.get(id)![port];
        expect(rowJson(await allRows(lv)), `${id}.${port}`).toEqual(want);
        expect(rowJson(await allRows(lv)), `${id}.${port} (second pass)`).toEqual(want);
        expect(want.length, `${id}.${port}`).toBeGreaterThan(0);
      }
    }
  });

  it("log the same counts once the rows have been read (a lazy node's when its first pass ends)", async () => {
    const e = await eager;
    const l = await lazy;
    // By now every lazy value has been read to the end (the test above); each count is logged exactly once.
    const counts = (c: Captured) => c.log.filter((x) => !x.includes(": streaming ")).sort();
    expect(counts(l)).toEqual(counts(e));
    expect(l.log.filter((x) => x.includes(": streaming "))).toHaveLength(2);
    const metrics = (c: Captured) => c.metrics.map((m) => JSON.stringify(m)).sort();
    expect(metrics(l)).toEqual(metrics(e));
  });

  it("digest to the lock's bytes either way (sha256 of JSON(values) + newline per row)", async () => {
    const e = await eager;
    const l = await lazy;
    for (const [id, ports] of e.values) {
      for (const [port, v] of Object.entries(ports)) {
        const want = valueDigest(v);
        expect(await valueDigestAsync(l.values.get(id)![port]!), `${id}.${port}`).toBe(want);
        expect(await valueDigestAsync(v)).toBe(want);
      }
    }
    const lazyValue = [...l.values.values()].map((p) => p["rows"]).find((v) => v && isLazy(v as RowsValue))!;
    expect(() => valueDigest(lazyValue)).toThrow(/valueDigestAsync/);
  });

  it("write the same cache entry bytes, and a large cached file reads back as a lazy value", async () => {
    const e = await eager;
    const l = await lazy;
    const id = [...e.values.keys()].find((k) => k.startsWith("filter:"))!;
    const ctx = { runDir: join(box.dir, "run") };
    const dirE = tempDir("codec-e");
    const dirL = tempDir("codec-l");
    await writeRows(dirE, e.values.get(id)!["rows"] as RowsValue, ctx);
    await writeRows(dirL, l.values.get(id)!["rows"] as RowsValue, ctx);
    for (const f of ["rows.json", "rows.jsonl"]) expect(readFileSync(join(dirL, f), "utf8")).toBe(readFileSync(join(dirE, f), "utf8"));
    const want = rowJson(await allRows(e.values.get(id)!["rows"]));
    const small = await readRows(dirL, ctx);
    expect(isLazy(small)).toBe(false);
    const big = await withStreamBytes(STREAM, () => readRows(dirL, ctx));
    expect(isLazy(big)).toBe(true);
    expect(rowJson(await allRows(big))).toEqual(want);
    expect(rowJson(await allRows(big))).toEqual(want);
    // A line lost from the entry is caught when it is read, as for an in-memory entry.
    const lines = readFileSync(join(dirL, "rows.jsonl"), "utf8").split("\n");
    writeFileSync(join(dirL, "rows.jsonl"), lines.slice(1).join("\n"));
    await expect(withStreamBytes(STREAM, () => readRows(dirL, ctx))).rejects.toThrow(new RegExp(`${want.length - 1} lines, expected ${want.length}`));
  });

  it("render the same torch training files from streaming rows", async () => {
    const render = async (bytes: number) => {
      const out = tempDir("prepare");
      mkdirSync(join(box.dir, "run"), { recursive: true });
      const got: Captured = { log: [], metrics: [] };
      const res = await withStreamBytes(bytes, () => prepareRenderedData(box.graph, out, captureEnv(box.graph, box.dir, got)));
      expect(res.outcomes.every((o) => o.state === "done")).toBe(true);
      return Object.fromEntries(readdirSync(out).map((f) => [f, readFileSync(join(out, f), "utf8")]));
    };
    const inMemory = await render(IN_MEMORY);
    expect(Object.keys(inMemory)).toHaveLength(3); // s1 train + validation, s2 train
    expect(await render(STREAM)).toEqual(inMemory);
  });
});

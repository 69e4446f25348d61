// The in-domain task `alpaca_heldout` (stdlib/tasks/alpaca_heldout.json, data/alpaca_heldout): its requests
// on the first shipped docs, built by the engine from the shipped file, checked against texts written out here
// from the raw rows; and the held-out promise — no instruction of the quickstart's fine-tuning file or of the
// tiny model's pretraining documents is in the task.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { loadRegistry, loadTask } from "../../runtime/eval/index.js";
import { buildRequests } from "../../runtime/eval/requests.js";

interface Row {
  id: number;
  instruction: string;
  input: string;
  output: string;
  response_start: string;
  source: string;
}
const rows = readFileSync("data/alpaca_heldout/test.jsonl", "utf8").trim().split("\n").map((l) => JSON.parse(l) as Row);

describe("alpaca_heldout requests", () => {
  const task = loadTask(loadRegistry(), "alpaca_heldout", { limit: 4 });
  const reqs = buildRequests(task, { numFewshot: 0 });

  it("is a zero-shot loglikelihood task over the shipped test split", () => {
    expect(task.outputType).toBe("loglikelihood");
    expect(task.nOriginal).toBe(rows.length);
    expect(reqs).toHaveLength(4);
    for (const r of reqs) expect(r.loglikelihood).toHaveLength(1);
  });

  it("puts the instruction (and the input after a blank line) in the context, the blank line and first word in the continuation", () => {
    // Doc 0 has an input, doc 3 has none (see the file).
    expect(rows[0]!.input).not.toBe("");
    expect(rows[3]!.input).toBe("");
    expect(reqs[0]!.loglikelihood[0]).toEqual({ context: "Create a narrative piece from a given situation.\n\nTwo friends went on a picnic and one dropped a valuable item.", continuation: "\n\nThe" });
    reqs.forEach((r, i) => {
      const row = rows[i]!;
      expect(r.context).toBe(row.input ? `${row.instruction}\n\n${row.input}` : row.instruction);
      expect(r.loglikelihood[0]).toEqual({ context: r.context, continuation: `\n\n${row.output.trim().split(/\s+/)[0]}` });
    });
  });
});

describe("alpaca_heldout data", () => {
  const instr = (r: { instruction: string }) => r.instruction.trim();
  it("holds no instruction the quickstart fine-tunes on", () => {
    const train = new Set((JSON.parse(readFileSync("data/alpagasus/claude_t45.json", "utf8")) as { instruction: string }[]).map(instr));
    expect(rows.filter((r) => train.has(instr(r)))).toEqual([]);
  });
  it("has distinct instructions, each row's first word as its target", () => {
    expect(new Set(rows.map(instr)).size).toBe(rows.length);
    for (const r of rows) expect(r.response_start).toBe(r.output.trim().split(/\s+/)[0]);
  });
  it("keeps pretraining documents out, except the tiny model's own validation documents", () => {
    // Pretraining kept every random_9k record not in tune's fine-tuning sets; the task reuses only the 200 it held out.
    expect(rows.filter((r) => r.source === "pretrain-validation")).toHaveLength(200);
    const finetuneKeys = new Set(
      ["data/alpagasus/claude_t45.json", "data/alpaca/alpaca_tiny.json", "data/llamafactory_alpaca_en_demo/alpaca_en_demo.json"].flatMap((f) =>
        (JSON.parse(readFileSync(f, "utf8")) as { instruction: string; input?: string }[]).map((r) => `${r.instruction.trim()}\n${(r.input ?? "").trim()}`),
      ),
    );
    for (const r of rows.filter((x) => x.source !== "pretrain-validation")) expect(finetuneKeys.has(`${r.instruction.trim()}\n${r.input.trim()}`), r.instruction).toBe(true);
  });
});

// `tune data`: the first rows of each stage as the model will see them, with
// the masked prompt and the trained completion told apart, before training.
import { describe, expect, it } from "vitest";
import { dataCommand } from "../../cli/data.js";
import type { Io } from "../../cli/commands.js";

describe("tune data", () => {
  it("shows counts and the masked/trained split of the first examples", async () => {
    let out = "";
    let err = "";
    const io: Io = { out: (t) => (out += t), err: (t) => (err += t) };
    const code = await dataCommand("recipes/dpo-demo.tune", { stage: "sft", rows: 1, smoke: false }, io);
    expect(code, err).toBe(0);
    expect(out).toMatch(/^== tokenize:sft\n100 examples, \d+ tokens, \d+ trained \(label\) tokens, \d+ truncated, 0 dropped with no label token \(template alpaca\)/);
    expect(out).toContain("[masked: ");
    expect(out).toMatch(/### Response:\n\[trained: \d+ tokens\]\n/);
    expect(out).not.toContain("tokenize:sampo");
  }, 60_000);

  it("says so when the stage does not exist", async () => {
    let err = "";
    const code = await dataCommand("recipes/dpo-demo.tune", { stage: "nope", rows: 1, smoke: false }, { out: () => {}, err: (t) => (err += t) });
    expect(code).toBe(1);
    expect(err).toContain("no stage `nope`");
  }, 60_000);
});

// Builds data/alpaca_heldout/test.jsonl: Stanford Alpaca records that neither the tiny model's pretraining
// nor the quickstart's fine-tuning file contains, for the in-domain task `alpaca_heldout` (stdlib/tasks).
//
//   npm run build && node data/alpaca_heldout/make_heldout.mjs
//
// It imports the pretraining split from the build (dist/scripts/tiny-data.js) so the held-out validation
// documents are exactly the ones scripts/pretrain-tiny.ts held out (seed 0, 200 documents). See SOURCE.md.
import { createHash } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { HELD_OUT_FILES, PRETRAIN_FILE, documentText, loadPretrainDocs, shuffled } from "../../dist/scripts/tiny-data.js";
import { Rng } from "../../dist/runtime/data/rng.js";

const ROOT = new URL("../..", import.meta.url).pathname;
const read = (f) => JSON.parse(readFileSync(join(ROOT, f), "utf8"));
const key = (r) => `${r.instruction.trim()}\n${(r.input ?? "").trim()}`;
const instr = (r) => r.instruction.trim();
const sha = (s) => createHash("sha256").update(s, "utf8").digest("hex");

const TRAIN_FILE = "data/alpagasus/claude_t45.json"; // the quickstart's fine-tuning file
const PRETRAIN_SEED = 0;
const PRETRAIN_VAL_DOCS = 200;

const pretrain = read(PRETRAIN_FILE);
const held = new Set(HELD_OUT_FILES.flatMap((f) => read(f).map(key)));
const kept = pretrain.filter((r) => !held.has(key(r)));
// Same permutation as tiny-data.ts loadPretrainDocs (it shuffles documents; the order does not depend on content).
const order = shuffled(kept, new Rng(PRETRAIN_SEED).fork("split"));
const val = order.slice(0, PRETRAIN_VAL_DOCS);
const train = order.slice(PRETRAIN_VAL_DOCS);
const check = loadPretrainDocs(ROOT, PRETRAIN_SEED, PRETRAIN_VAL_DOCS);
if (check.val.join("\u0000") !== val.map(documentText).join("\u0000")) throw new Error("pretraining split does not reproduce");

// Instructions the models were trained on: the fine-tuning file and the pretraining training documents.
const seen = new Set([...read(TRAIN_FILE).map(instr), ...train.map(instr)]);
const candidates = [
  ...val.map((r) => ({ ...r, source: "pretrain-validation" })),
  // Records held out of pretraining because tune's other fine-tuning sets contain them (not the quickstart's).
  ...pretrain.filter((r) => held.has(key(r))).map((r) => ({ ...r, source: "random_9k" })),
  ...read("data/alpaca/alpaca_tiny.json").map((r) => ({ ...r, source: "alpaca_tiny" })),
];
const rows = [];
const taken = new Set();
const dropped = { seenInstruction: 0, duplicate: 0, emptyOutput: 0 };
for (const r of candidates) {
  if (seen.has(instr(r))) dropped.seenInstruction++;
  else if (taken.has(instr(r))) dropped.duplicate++;
  else if (!r.output.trim()) dropped.emptyOutput++;
  else {
    taken.add(instr(r));
    // The reference response's first word (Python str.split()), the target of the task.
    const responseStart = r.output.trim().split(/\s+/u)[0];
    rows.push({ instruction: r.instruction, input: r.input ?? "", output: r.output, response_start: responseStart, source: r.source });
  }
}
// A content-defined order (sha256 of the instruction), so `limit = N` takes a source-independent sample.
rows.sort((a, b) => (sha(a.instruction) < sha(b.instruction) ? -1 : 1));
const out = rows.map((r, i) => ({ id: i, ...r }));
writeFileSync(join(ROOT, "data/alpaca_heldout/test.jsonl"), out.map((r) => JSON.stringify(r)).join("\n") + "\n");
const manifest = {
  hub: null,
  hub_compatible: false,
  configs: { default: { splits: { test: { file: "test.jsonl", rows: out.length, size: out.length, layout: "prefix" } } } },
};
writeFileSync(join(ROOT, "data/alpaca_heldout/manifest.json"), JSON.stringify(manifest, null, 2) + "\n");
const bySource = Object.fromEntries(["pretrain-validation", "random_9k", "alpaca_tiny"].map((s) => [s, out.filter((r) => r.source === s).length]));
const noInput = out.filter((r) => !r.input.trim()).length;
console.log(JSON.stringify({ rows: out.length, noInput, bySource, dropped }));

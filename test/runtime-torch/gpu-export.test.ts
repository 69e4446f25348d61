// Exports the projects that are run for real on a GPU machine (torch + transformers + peft + accelerate):
// recipes/dpo-demo.tune (LoRA SFT, then SamPO continuing that adapter with the SFT adapter as reference, then
// export) and a small full-fine-tune iterative DPO recipe (2 rounds, separate frozen reference model), with the
// repository's real data rendered through the recipes' own templates. Skipped unless TUNE_TORCH_GPU_EXPORT names
// an output folder; see README in the report / test/runtime-torch/fixtures/make_tiny_llama.py for the run.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import Handlebars from "handlebars";
import { describe, expect, test } from "vitest";
import { fsHost } from "../../cli/host.js";
import { compile } from "../../compiler/compile.js";
import type { Graph, Json } from "../../compiler/graph.js";
import { exportTorchProject, type TorchDataFiles } from "../../runtime/torch/index.js";

const OUT = process.env["TUNE_TORCH_GPU_EXPORT"];

const ITERATIVE = `
import { tiny_llama } from "std/models"

recipe tiny_iterative_dpo {
  seed = 7
}

model tiny {
  path = "models/tiny-llama"
  arch = tiny_llama
  dtype = fp32
}

dataset prefs {
  path = "data/llm_from_scratch_preference/instruction-data-with-preference.json"
  fields {
    prompt: string from "instruction"
    input: string = ""
    chosen: string
    rejected: string
  }
}

template plain {
  prompt = "### Instruction:\\n{{prompt}}\\n\\n### Response:\\n"
}

stage dpo {
  method = dpo
  loss = sigmoid
  from = tiny
  data = prefs
  template = plain
  beta = 0.1
  lr = 1e-4
  batch = 8
  micro_batch = 4
  epochs = 1
  rounds = 2
  max_length = 128 tokens
  max_prompt_length = 96 tokens
  warmup = 10%
  schedule = warmup_decay_log
}

hardware {
  gpu = h100_80gb
  devices = 1
  strategy = single
}
`;

type Row = Record<string, string>;

function render(graph: Graph, tokenizeId: string, rows: Row[]): string[] {
  const tok = graph.nodes.find((n) => n.id === tokenizeId)!;
  const t = tok.params["template"] as Record<string, Json>;
  const prompt = Handlebars.compile(String(t["prompt"]), { noEscape: true });
  const completion = t["completion"] ? Handlebars.compile(String(t["completion"]), { noEscape: true }) : null;
  return rows.map((r) =>
    tok.params["method"] === "dpo"
      ? JSON.stringify({ prompt: prompt(r), chosen: r["chosen"], rejected: r["rejected"] })
      : JSON.stringify({ prompt: prompt(r), completion: completion ? completion(r) : r["output"] }),
  );
}

function prepare(graph: Graph, dir: string, source: Row[], limit: number): Map<string, TorchDataFiles> {
  const data = new Map<string, TorchDataFiles>();
  for (const n of graph.nodes.filter((x) => x.op === "train")) {
    const tokensId = n.inputs["tokens"]!.node;
    const rows = source.slice(0, limit);
    const slug = n.id.replace(/\W+/g, "_");
    const train = join(dir, `${slug}.jsonl`);
    writeFileSync(train, render(graph, tokensId, rows).join("\n") + "\n");
    const files: TorchDataFiles = { train };
    if (n.inputs["validation"]) {
      files.validation = join(dir, `${slug}-valid.jsonl`);
      writeFileSync(files.validation, render(graph, n.inputs["validation"]!.node, source.slice(limit, limit + 8)).join("\n") + "\n");
    }
    data.set(n.id, files);
  }
  return data;
}

describe.skipIf(!OUT)("exports for the GPU run", () => {
  test("dpo-demo and a 2-round full-fine-tune DPO", async () => {
    const src = join(OUT!, "src");
    mkdirSync(src, { recursive: true });
    const demoText = readFileSync("recipes/dpo-demo.tune", "utf8");
    const demo = compile("recipes/dpo-demo.tune", demoText, fsHost()).graph!;
    const alpaca = JSON.parse(readFileSync("data/alpaca/alpaca_tiny.json", "utf8")) as Row[];
    const prefs = (JSON.parse(readFileSync("data/llm_from_scratch_preference/instruction-data-with-preference.json", "utf8")) as Row[]).map((r) => ({ ...r, prompt: r["instruction"]! }));
    // dpo-demo's SFT reads alpaca rows, its SamPO stage the preference rows.
    const data = prepare(demo, src, alpaca, 64);
    const sampo = demo.nodes.find((n) => n.id === "train:sampo")!;
    const pairs = join(src, "sampo-pairs.jsonl");
    writeFileSync(pairs, render(demo, sampo.inputs["tokens"]!.node, prefs.slice(0, 64)).join("\n") + "\n");
    const pairsValid = join(src, "sampo-pairs-valid.jsonl");
    writeFileSync(pairsValid, render(demo, sampo.inputs["validation"]!.node, prefs.slice(64, 72)).join("\n") + "\n");
    data.set("train:sampo", { train: pairs, validation: pairsValid });
    const a = await exportTorchProject(demo, join(OUT!, "dpo-demo"), { data, recipeText: demoText });
    expect(a.plan.steps.map((s) => s.node.id)).toEqual(["train:sft", "train:sampo", "export:sampo"]);

    const iterPath = join(src, "tiny-iterative-dpo.tune");
    writeFileSync(iterPath, ITERATIVE);
    const c = compile(iterPath, ITERATIVE, fsHost());
    expect(c.diagnostics.filter((d) => d.severity === "error").map((d) => d.code + " " + d.message)).toEqual([]);
    const iter = c.graph!;
    const b = await exportTorchProject(iter, join(OUT!, "iterative"), { data: prepare(iter, src, prefs, 48), recipeText: ITERATIVE });
    expect(b.plan.steps.map((s) => s.node.id)).toEqual(["train:dpo/round1", "train:dpo/round2"]);
  });
});

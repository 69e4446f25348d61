// Every shipped recipe is a test (torchtune lints every config it ships): it
// compiles with no diagnostics, `tune fmt` leaves it unchanged, and its lowered
// graph passes the verifier and has the shape the model card asks for.
import { readdirSync, readFileSync } from "node:fs";
import { describe, expect, test } from "vitest";
import { fsHost } from "../cli/host.js";
import { compile } from "../compiler/compile.js";
import { dumpGraph, verifyGraph, type Graph } from "../compiler/graph.js";
import { formatSource } from "../grammar/format.js";

const recipes = readdirSync("recipes").filter((f) => f.endsWith(".tune")).sort();

function graphOf(name: string): Graph {
  const path = `recipes/${name}`;
  const c = compile(path, readFileSync(path, "utf8"), fsHost());
  expect(c.diagnostics.map((d) => `${d.code} ${d.message}`)).toEqual([]);
  expect(c.graph).not.toBeNull();
  return c.graph!;
}

describe.each(recipes)("%s", (name) => {
  test("compiles clean, verifies, dumps stably", () => {
    const g = graphOf(name);
    expect(verifyGraph(g)).toEqual([]);
    expect(dumpGraph(g)).toBe(dumpGraph(graphOf(name)));
  });
  test("is fmt-stable", () => {
    const text = readFileSync(`recipes/${name}`, "utf8");
    const res = formatSource(`recipes/${name}`, text);
    expect(res.ok).toBe(true);
    if (res.ok) expect(res.text).toBe(text);
  });
});

test("all seven required recipes ship", () => {
  for (const r of ["llama3-8b-alpaca-gpt4", "alpagasus", "llama3-8b-instruct-iterative-sampo", "platypus-70b-qlora", "instruction-eval", "quickstart", "dpo-demo"]) {
    expect(recipes).toContain(`${r}.tune`);
  }
});

test("alpagasus: judge score → filter ≥ 4.5 → 5% split feeds a QLoRA SFT with the card's numbers", () => {
  const g = graphOf("alpagasus.tune");
  const ops = g.nodes.map((n) => n.id);
  expect(ops).toEqual(expect.arrayContaining(["score:alpagasus_9k#1", "filter:alpagasus_9k#2", "split:alpagasus_9k#3", "train:sft"]));
  const train = g.nodes.find((n) => n.id === "train:sft")!;
  expect(train.params).toMatchObject({ batch: 128, micro_batch: 4, grad_accum: 32, lr: 2e-5, epochs: 3, cutoff: 256, weight_decay: 0 });
  expect(train.params["adapter"]).toMatchObject({ method: "qlora", r: 8, alpha: 32, dropout: 0.05, targets: ["q_proj", "v_proj"], quant_type: "nf4", double_quant: true });
  expect(train.inputs["validation"]).toBeDefined();
  const evals = g.nodes.filter((n) => n.op === "eval_task").map((n) => `${n.params["task"]}/${n.params["shots"]}@${n.params["model"]}`);
  expect(evals).toEqual(["arc_challenge/25@llama2", "hellaswag/10@llama2", "mmlu/5@llama2", "truthfulqa_mc2/0@llama2", "arc_challenge/25@sft", "hellaswag/10@sft", "mmlu/5@sft", "truthfulqa_mc2/0@sft"]);
});

test("iterative SamPO: three rounds, each starting policy and reference from the previous", () => {
  const g = graphOf("llama3-8b-instruct-iterative-sampo.tune");
  for (const stage of ["dpo", "sampo"]) {
    const rounds = g.nodes.filter((n) => n.id.startsWith(`train:${stage}/round`));
    expect(rounds.map((n) => n.params["round"])).toEqual([1, 2, 3]);
    expect(rounds[0]!.inputs["policy"]!.node).toBe("load_model:instruct");
    expect(rounds[0]!.inputs["reference"]!.node).toBe("load_model:instruct");
    for (let i = 1; i < 3; i++) {
      expect(rounds[i]!.inputs["policy"]!.node).toBe(rounds[i - 1]!.id);
      expect(rounds[i]!.inputs["reference"]!.node).toBe(rounds[i - 1]!.id);
    }
    expect(rounds[0]!.params).toMatchObject({ beta: 0.1, lr: 4e-7, batch: 128, grad_accum: 16, schedule: "linear", warmup: { value: 10, unit: "%" } });
  }
  expect(g.nodes.find((n) => n.id === "train:sampo/round1")!.params["loss"]).toBe("sampo");
  expect(g.nodes.some((n) => n.op === "win_rate") && g.nodes.some((n) => n.op === "response_length")).toBe(true);
});

test("platypus: mix 100% + 1% + 1% of each source, near dedup, ZeRO-2 on 8 GPUs, merged export", () => {
  const g = graphOf("platypus-70b-qlora.tune");
  const mix = g.nodes.find((n) => n.op === "mix")!;
  expect(mix.params).toMatchObject({ relative_to: "each_source", percent: { open_platypus: 100, dolphin: 1, openorca: 1 } });
  expect(g.nodes.find((n) => n.op === "dedup")!.params).toMatchObject({ mode: "near", threshold: 0.8 });
  const train = g.nodes.find((n) => n.id === "train:sft")!;
  expect(train.params).toMatchObject({ world_size: 8, grad_accum: 1, micro_batch: 14, hardware: { strategy: "deepspeed", zero: 2 } });
  expect(g.nodes.find((n) => n.op === "export")!.params).toMatchObject({ merge: true });
});

test("changing only the eval block leaves every training node's hash unchanged", () => {
  const path = "recipes/alpagasus.tune";
  const text = readFileSync(path, "utf8");
  const a = compile(path, text, fsHost()).graph!;
  const b = compile(path, text.replace("shots = 25", "shots = 5"), fsHost()).graph!;
  const hash = (g: Graph, id: string) => g.nodes.find((n) => n.id === id)?.hash;
  expect(hash(b, "train:sft")).toBe(hash(a, "train:sft"));
  expect(hash(b, "eval_task:arc_challenge@sft")).not.toBe(hash(a, "eval_task:arc_challenge@sft"));
  const c = compile(path, text.replace("cutoff = 256 tokens", "cutoff = 512 tokens"), fsHost()).graph!;
  expect(hash(c, "filter:alpagasus_9k#2")).toBe(hash(a, "filter:alpagasus_9k#2"));
  expect(hash(c, "tokenize:sft")).not.toBe(hash(a, "tokenize:sft"));
  expect(hash(c, "train:sft")).not.toBe(hash(a, "train:sft"));
});

// stdlib/tasks/index.json is what the compiler reads to check task names, metrics and shot counts; it is
// generated from the definitions and data manifests and must not drift. UPDATE=1 rewrites it.
import { readFileSync, writeFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { buildTaskIndex, loadRegistry, resolveTask } from "../../runtime/eval/index.js";
import { processorNames } from "../../runtime/eval/processors.js";

const path = new URL("../../stdlib/tasks/index.json", import.meta.url);
const reg = loadRegistry();
const index = buildTaskIndex(reg);

describe("task index", () => {
  it("is current (UPDATE=1 regenerates stdlib/tasks/index.json)", () => {
    const text = JSON.stringify(index, null, 2) + "\n";
    if (process.env.UPDATE === "1") writeFileSync(path, text);
    expect(readFileSync(path, "utf8")).toBe(text);
  });

  it("lists every task the brief names, with metrics and split sizes", () => {
    for (const t of ["arc_challenge", "arc_easy", "hellaswag", "mmlu_philosophy", "truthfulqa_mc1", "truthfulqa_mc2", "gsm8k", "piqa", "boolq", "winogrande", "openbookqa", "ifeval", "eq_bench"]) {
      expect(index.tasks[t], t).toBeDefined();
      expect(index.tasks[t].defined).toBe(true);
      expect(Object.keys(index.tasks[t].splits).length, t).toBeGreaterThan(0);
    }
    expect(index.tasks.gsm8k).toMatchObject({ metrics: ["exact_match"], filters: ["strict-match", "flexible-extract"], num_fewshot: 5, splits: { train: 7473, test: 1319 }, max_num_fewshot: 7473 });
    expect(index.tasks.mmlu_philosophy).toMatchObject({ fewshot_sampler: "first_n", splits: { dev: 5, test: 311 }, max_num_fewshot: 5 });
    // TruthfulQA draws shots from its own eval split: n + 1 must fit
    expect(index.tasks.truthfulqa_mc1.max_num_fewshot).toBe(816);
    expect(index.tasks.ifeval.metrics).toEqual(["prompt_level_strict_acc", "inst_level_strict_acc", "prompt_level_loose_acc", "inst_level_loose_acc"]);
  });

  it("knows agieval, bigbench and the gpt4all group by name", () => {
    const agi = Object.keys(index.tasks).filter((t) => t.startsWith("agieval_"));
    const bb = Object.keys(index.tasks).filter((t) => t.startsWith("bigbench_"));
    expect(agi).toHaveLength(8);
    expect(bb).toHaveLength(18);
    expect(index.tasks.agieval_lsat_ar).toMatchObject({ defined: false, metrics: ["acc", "acc_norm"] });
    expect(index.groups.gpt4all.leaf_tasks.sort()).toEqual(["arc_challenge", "arc_easy", "boolq", "hellaswag", "openbookqa", "piqa", "winogrande"]);
    expect(index.groups.mmlu.leaf_tasks).toHaveLength(57);
    expect(index.groups.mmlu).toMatchObject({ metrics: ["acc"], weight_by_size: true });
  });

  it("every definition resolves and names only known processors", () => {
    const names = processorNames();
    const known = new Set([...names.doc, ...names.processResults, ...names.aggregation]);
    for (const name of reg.tasks.keys()) {
      const cfg = resolveTask(reg, name);
      const refs = [cfg.doc_to_text, cfg.doc_to_target, cfg.doc_to_choice].filter((r) => r && typeof r === "object" && "processor" in r);
      for (const r of refs) expect(known.has((r as { processor: string }).processor), name).toBe(true);
      if (cfg.process_results) expect(known.has(cfg.process_results), name).toBe(true);
      if (cfg.process_docs) expect(known.has(cfg.process_docs), name).toBe(true);
      for (const m of cfg.metric_list ?? []) if (m.aggregation && m.aggregation !== "mean") expect(known.has(m.aggregation), name).toBe(true);
    }
  });
});

// The exported torch project of every shipped recipe: the files, valid JSON/YAML, py_compile of every program,
// DeepSpeed / accelerate / SLURM settings that match the recipe's hardware block, and the job lineages.
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { parse as parseYaml } from "yaml";
import type { Graph } from "../../compiler/graph.js";
import { exportTorchProject, planTorchProject, TorchError } from "../../runtime/torch/index.js";
import { compileRecipe, exportGraph, planGraphs, RECIPES, tempDir, writeRows } from "./helpers.js";

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- parsed JSON/YAML under test

function hardwareOf(graph: Graph): Obj | null {
  const t = graph.nodes.find((n) => n.op === "train");
  return t ? (t.params["hardware"] as Obj) : null;
}

async function checkExport(graph: Graph, tag: string, recipeText?: string): Promise<void> {
  const { dir, files, plan } = await exportGraph(graph, tag, recipeText);
  for (const f of ["README.md", "requirements.txt", "launch.sh", "launch.sbatch", "accelerate.yaml", "accelerate.single.yaml", "graph.json", "tune-export.json", "tune_torch/common.py"]) {
    expect(files, f).toContain(f);
  }
  // every generated Python file compiles
  const py = files.filter((f) => f.endsWith(".py"));
  execFileSync("python3", ["-m", "py_compile", ...py.map((f) => join(dir, f))]);
  // every JSON file parses; the shell scripts parse
  for (const f of files.filter((x) => x.endsWith(".json"))) JSON.parse(readFileSync(join(dir, f), "utf8"));
  execFileSync("bash", ["-n", join(dir, "launch.sh")]);
  execFileSync("bash", ["-n", join(dir, "launch.sbatch")]);

  const hw = hardwareOf(graph);
  // accelerate reads its config with PyYAML (YAML 1.1: a bare NO is false), so parse as 1.1
  const accel = parseYaml(readFileSync(join(dir, "accelerate.yaml"), "utf8"), { version: "1.1" }) as Obj;
  const single = parseYaml(readFileSync(join(dir, "accelerate.single.yaml"), "utf8"), { version: "1.1" }) as Obj;
  expect(single.mixed_precision).toBe("no");
  expect(single.use_cpu).toBe(false);
  expect(single.distributed_type).toBe("NO");
  expect(single.num_processes).toBe(1);
  if (hw) {
    const strategy = hw["strategy"] as string;
    expect(accel.distributed_type).toBe({ deepspeed: "DEEPSPEED", fsdp: "FSDP", single: "NO", ddp: hw["devices"] * hw["nodes"] > 1 ? "MULTI_GPU" : "NO" }[strategy]);
    if (strategy === "deepspeed") {
      const ds = JSON.parse(readFileSync(join(dir, "deepspeed.json"), "utf8")) as Obj;
      expect(accel.deepspeed_config.deepspeed_config_file).toBe("deepspeed.json");
      expect(accel.mixed_precision).toBeUndefined();
      expect(ds.zero_optimization.stage).toBe(hw["zero"]);
      expect(ds.bf16.enabled).toBe(hw["precision"] === "bf16");
      expect(ds.fp16.enabled).toBe(hw["precision"] === "fp16");
      expect(ds.zero_optimization.offload_optimizer?.device ?? "none").toBe(hw["offload"]);
      if (hw["zero"] === 3) expect(ds.zero_optimization.offload_param?.device ?? "none").toBe(hw["offload"]);
      expect(ds.train_micro_batch_size_per_gpu).toBe("auto");
    } else {
      expect(existsSync(join(dir, "deepspeed.json"))).toBe(false);
    }
    const sbatch = readFileSync(join(dir, "launch.sbatch"), "utf8");
    expect(sbatch).toContain(`#SBATCH --nodes=${hw["nodes"]}`);
    expect(sbatch).toContain(`#SBATCH --gpus-per-node=${hw["gpu"] === "cpu" ? 1 : hw["devices"]}`);
    expect(sbatch).toMatch(/--rdzv_backend c10d/);
    expect(sbatch).toMatch(/--main_process_ip \$MASTER_ADDR/);
  }
  // one job file per train / export / eval node, each pointing at files that exist
  const manifest = JSON.parse(readFileSync(join(dir, "tune-export.json"), "utf8")) as Obj;
  const runnable = graph.nodes.filter((n) => ["train", "export", "eval_task"].includes(n.op));
  expect(manifest.steps.map((s: Obj) => s.node)).toEqual(runnable.map((n) => n.id));
  for (const s of plan.steps) {
    const job = JSON.parse(readFileSync(join(dir, s.config), "utf8")) as Obj;
    expect(job.hash).toBe(s.node.hash);
    expect(existsSync(join(dir, s.program)), s.program).toBe(true);
    expect(readFileSync(join(dir, "launch.sh"), "utf8")).toContain(`${s.program} ${s.config}`);
    if (s.kind === "train") {
      expect(existsSync(join(dir, job.data.train))).toBe(true);
      if (job.data.validation) expect(existsSync(join(dir, job.data.validation))).toBe(true);
      expect(job.train.lr).toBe(s.node.params["lr"]);
      expect(job.train.batch).toBe(s.node.params["batch"]);
    }
  }
  const req = readFileSync(join(dir, "requirements.txt"), "utf8");
  expect(req).toMatch(/^torch==\d+\.\d+\.\d+$/m);
  expect(req).toMatch(/^transformers==\d+\.\d+\.\d+$/m);
  expect(/^bitsandbytes==/m.test(req)).toBe(plan.requirements.quantize);
  expect(/^deepspeed==/m.test(req)).toBe(plan.requirements.deepspeed);
  if (recipeText !== undefined) expect(readFileSync(join(dir, "recipe.tune"), "utf8")).toBe(recipeText);
}

describe.each(RECIPES)("export of recipes/%s", (name) => {
  test("writes a complete, valid project", async () => {
    const { graph, text } = compileRecipe(name);
    await checkExport(graph, name.replace(/\W/g, "_"), text);
  });
});

const planned = planGraphs();
describe.skipIf(planned.length === 0)("export of /tmp/graphs (tune plan --format json)", () => {
  test.each(planned.map(([f]) => f))("%s", async (file) => {
    const graph = planned.find(([f]) => f === file)![1];
    await checkExport(graph, file.replace(/\W/g, "_"));
  });
});

describe("lineages", () => {
  test("dpo-demo: SamPO continues the SFT adapter; the reference is the SFT adapter loaded as `ref`", () => {
    const plan = planTorchProject(compileRecipe("dpo-demo.tune").graph);
    const sampo = plan.steps.find((s) => s.node.id === "train:sampo")!.job as Obj;
    expect(sampo.policy).toEqual({ base: { model: expect.objectContaining({ name: "tiny", path: "models/tiny-llama" }) }, merge: [], adapter: "train_sft/adapter" });
    expect(sampo.reference).toEqual({ kind: "adapter", dir: "train_sft/adapter" });
    expect(sampo.dpo).toEqual({ loss: "sampo", beta: 0.1, label_smoothing: 0 });
    const exp = plan.steps.find((s) => s.kind === "export")!.job as Obj;
    expect(exp.lineage).toEqual({ base: { model: expect.objectContaining({ name: "tiny" }) }, merge: [], adapter: "train_sampo/adapter" });
  });

  test("iterative SamPO: round i starts policy and reference from round i − 1 (full fine-tune, separate reference)", () => {
    const plan = planTorchProject(compileRecipe("llama3-8b-instruct-iterative-sampo.tune").graph);
    const r1 = plan.steps.find((s) => s.node.id === "train:sampo/round1")!.job as Obj;
    const r3 = plan.steps.find((s) => s.node.id === "train:sampo/round3")!.job as Obj;
    expect(r1.policy.base.model.hub).toBe("meta-llama/Meta-Llama-3-8B-Instruct");
    expect(r1.reference).toEqual({ kind: "model", base: r1.policy.base, merge: [] });
    expect(r3.policy).toEqual({ base: { dir: "train_sampo_round2/model", dtype: "bf16" }, merge: [], adapter: null });
    expect(r3.reference).toEqual({ kind: "model", base: { dir: "train_sampo_round2/model", dtype: "bf16" }, merge: [] });
    expect(r3.train.warmup_ratio).toBeCloseTo(0.1);
    expect(plan.requirements).toMatchObject({ deepspeed: true, zero: 3, quantize: false, gpus: 8 });
  });

  test("platypus: QLoRA on a 4-bit base, merged export, eval of the adapter through peft=", () => {
    const plan = planTorchProject(compileRecipe("platypus-70b-qlora.tune").graph);
    const sft = plan.steps.find((s) => s.kind === "train")!.job as Obj;
    expect(sft.adapter).toMatchObject({ method: "qlora", quant_type: "nf4", double_quant: true, compute_dtype: "bf16" });
    expect(plan.requirements.quantize).toBe(true);
    const evalSft = plan.steps.find((s) => s.node.id === "eval_task:mmlu@sft")!.job as Obj;
    expect(evalSft).toMatchObject({ task: "mmlu", shots: 5, lineage: { merge: [], adapter: "train_sft/adapter" } });
    expect(plan.notExported.map((n) => n.op)).toEqual(["report"]);
  });
});

describe("errors", () => {
  test("a training node without data is T7620", async () => {
    const { graph } = compileRecipe("quickstart.tune");
    await expect(exportTorchProject(graph, join(tempDir("nodata"), "out"), { data: new Map() })).rejects.toMatchObject({ code: "T7620" });
  });

  test("a missing data file is T7622, a non-empty foreign folder T7623", async () => {
    const { graph } = compileRecipe("quickstart.tune");
    const work = tempDir("bad");
    const bad = new Map([["train:sft", { train: join(work, "nope.jsonl") }]]);
    await expect(exportTorchProject(graph, join(work, "out"), { data: bad })).rejects.toBeInstanceOf(TorchError);
    await expect(exportTorchProject(graph, join(work, "out"), { data: bad })).rejects.toMatchObject({ code: "T7622" });
    const good = new Map([["train:sft", { train: writeRows(work, "t.jsonl", "sft", 4) }]]);
    await expect(exportTorchProject(graph, work, { data: good })).rejects.toMatchObject({ code: "T7623" });
    const first = await exportTorchProject(graph, join(work, "again"), { data: good });
    const second = await exportTorchProject(graph, join(work, "again"), { data: good });
    expect(second.files).toEqual(first.files);
  });
});

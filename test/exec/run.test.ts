// End to end through the in-process executor: a small LoRA SFT recipe on the
// shipped tiny model and Alpaca rows — data ops, tokenize, train, export,
// eval on base and fine-tuned model, report — with what a user gets on disk
// (metrics.jsonl with HF names, a PEFT adapter, the loss curve, the report).
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { compile } from "../../compiler/compile.js";
import { fsHost, packageRoot } from "../../cli/host.js";
import { initBackend } from "../../runtime/backend/index.js";
import { runGraph, type RunSummary } from "../../runtime/exec/run.js";

const RECIPE = `import { alpaca } from "std/templates"
import { tiny_llama } from "std/models"
import { arc_easy } from "std/evals"

recipe e2e {
  seed = 7
}

model tiny {
  path = "models/tiny-llama"
  arch = tiny_llama
}

dataset rows {
  path = "data/alpaca/alpaca_tiny.json"
  fields {
    instruction: string
    input: string = ""
    output: string
  }
}

data train {
  from = rows
  filter(len(output) > 0)
  sample(20)
  split(validation = 4)
}

adapter lora {
  method = lora
  r = 4
  alpha = 8
  targets = [q_proj, v_proj]
}

stage sft {
  method = sft
  from = tiny
  data = train
  template = alpaca
  adapter = lora
  batch = 4
  micro_batch = 2
  lr = 1e-3
  epochs = 1
  cutoff = 96 tokens
}

export {
  from = sft
}

eval gain {
  models = [tiny, sft]
  limit = 4
  task(arc_easy, shots = 0, metric = acc)
}
`;

describe("tune run (in process)", () => {
  let dir: string;
  let summary: RunSummary;
  let out = "";
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "tune-e2e-"));
    const recipePath = join(dir, "e2e.tune");
    writeFileSync(recipePath, RECIPE);
    const c = compile(recipePath, RECIPE, fsHost());
    expect(c.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
    await initBackend("wasm");
    summary = await runGraph({
      graph: c.graph!,
      recipePath,
      recipeText: RECIPE,
      packageRoot: packageRoot(),
      runsDir: join(dir, "runs"),
      smoke: false,
      out: { isTTY: false, write: (t) => (out += t) },
    });
  }, 180_000);

  it("runs every node", () => {
    expect(summary.outcomes.filter((o) => o.state !== "done")).toEqual([]);
    expect(summary.ok).toBe(true);
    expect(out).toContain("completed in");
  });

  it("logs training metrics with HF Trainer's names, one line per optimizer step", () => {
    const lines = readFileSync(join(summary.runDir, "metrics.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l) as Record<string, unknown>);
    const steps = lines.filter((l) => l["node"] === "train:sft" && typeof l["loss"] === "number");
    // 16 training rows, micro-batch 2, accumulation 2 → 4 updates in one epoch.
    expect(steps.map((s) => s["step"])).toEqual([1, 2, 3, 4]);
    for (const s of steps) {
      expect(Number.isFinite(s["loss"])).toBe(true);
      expect(typeof s["learning_rate"]).toBe("number");
      expect(typeof s["grad_norm"]).toBe("number");
    }
    expect(lines.some((l) => l["node"] === "train:sft" && typeof l["eval_loss"] === "number")).toBe(true);
  });

  it("writes a PEFT adapter, a checkpoint, the loss curve and the report", () => {
    const adapter = join(summary.runDir, "artifacts", "sft");
    const config = JSON.parse(readFileSync(join(adapter, "adapter_config.json"), "utf8")) as Record<string, unknown>;
    expect(config["peft_type"]).toBe("LORA");
    expect(config["r"]).toBe(4);
    expect(config["lora_alpha"]).toBe(8);
    expect([...(config["target_modules"] as string[])].sort()).toEqual(["q_proj", "v_proj"]);
    const weights = readFileSync(join(adapter, "adapter_model.safetensors"));
    const headerLen = Number(weights.readBigUInt64LE(0));
    const names = Object.keys(JSON.parse(weights.subarray(8, 8 + headerLen).toString("utf8"))).filter((n) => n !== "__metadata__");
    expect(names).toContain("base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight");
    expect(names).toHaveLength(4 * 2 * 2);
    expect(readFileSync(join(adapter, "README.md"), "utf8")).toMatch(/^---\nbase_model: .*\nlibrary_name: peft/);
    expect(existsSync(join(summary.runDir, "checkpoints", "sft", "checkpoint-4", "trainer_state.json"))).toBe(true);
    expect(readFileSync(join(summary.runDir, "plots", "sft-loss.svg"), "utf8")).toContain("<svg");
    const report = readFileSync(join(summary.runDir, "report.md"), "utf8");
    expect(report).toMatch(/\| arc_easy \(acc\) \| [0-9.]+ ± [0-9.]+ \(n=4\) \| [0-9.]+ ± [0-9.]+ \(n=4\) \|/);
    expect(readFileSync(join(summary.runDir, "recipe.tune"), "utf8")).toBe(RECIPE);
  });

  it("leaves a completed, unlocked run with its environment and lockfile", () => {
    const status = JSON.parse(readFileSync(join(summary.runDir, "status.json"), "utf8")) as { state?: string; status?: string; nodes: Record<string, { state?: string; status?: string }> };
    expect(JSON.stringify(status)).toContain("completed");
    expect(existsSync(join(summary.runDir, "run.lock"))).toBe(false);
    const env = JSON.parse(readFileSync(join(summary.runDir, "env.json"), "utf8")) as Record<string, unknown>;
    expect(env["seed"]).toBe(7);
    const lock = JSON.parse(readFileSync(join(summary.runDir, "tune.lock"), "utf8")) as { nodes: Record<string, { hash: string; identities: Record<string, { sha256?: string }> }> };
    expect(Object.keys(lock.nodes)).toHaveLength(summary.outcomes.length);
    const data = lock.nodes["load_data:rows"]!;
    expect(Object.values(data.identities).some((i) => typeof i.sha256 === "string" && i.sha256.length === 64)).toBe(true);
  });
});

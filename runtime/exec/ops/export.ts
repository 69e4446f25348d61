// export: the stage's result as files other tools load unchanged — a PEFT
// adapter directory (adapter_config.json + adapter_model.safetensors with
// PEFT's tensor names) or, with `merge = true` / full fine-tuning, a complete
// Hugging Face model directory. Each gets a README model card with YAML front
// matter (base_model, library_name, tags) as the Hub expects.
import { join } from "node:path";
import { writeRunFile as writeFileAtomic } from "../files.js";
import { writePeftAdapter } from "../../io/peft.js";
import { saveModelDir } from "../../checkpoint/index.js";
import { LlamaModel } from "../../model/llama.js";
import { mergedWeights } from "../policy.js";
import type { ModelValue, OpHandler } from "../types.js";

function modelCard(m: ModelValue, recipe: string, kind: "adapter" | "merged" | "full", smoke: boolean): string {
  const base = m.standsInFor ?? m.baseDir;
  const front = ["---", `base_model: ${JSON.stringify(base)}`, ...(kind === "adapter" ? ["library_name: peft"] : ["library_name: transformers"]), "tags:", "  - tune", `  - ${kind === "adapter" ? "lora" : "fine-tuned"}`, "---", ""];
  const body = [
    `# ${recipe} — ${m.name}`,
    "",
    kind === "adapter" ? `A LoRA adapter for \`${base}\`, trained by tune (recipe \`${recipe}\`, stage \`${m.name}\`).` : `\`${base}\` fine-tuned by tune (recipe \`${recipe}\`, stage \`${m.name}\`)${kind === "merged" ? ", adapter merged into the weights" : ""}.`,
    "",
    smoke ? "**Smoke run:** trained on the tiny stand-in model with capped steps; not a usable model." : "",
    "",
    "Evaluation results are in the run directory's report.md.",
    "",
  ];
  return [...front, ...body].join("\n");
}

export const exportOp: OpHandler = async (node, inputs, env) => {
  const m = inputs["model"] as ModelValue;
  const merge = node.params["merge"] === true;
  const dtype = node.params["dtype"] === "bf16" ? "BF16" : "F32";
  const dir = join(env.runDir, "artifacts", String(node.params["stage"] ?? m.name));
  let kind: "adapter" | "merged" | "full";
  if (m.adapter && !merge) {
    kind = "adapter";
    await writePeftAdapter(dir, m.adapter.toPeftAdapter(m.standsInFor ?? m.baseDir), { dtype });
  } else {
    kind = m.adapter ? "merged" : "full";
    const model = m.adapter ? LlamaModel.fromHfWeights(m.config, mergedWeights(m)) : m.model;
    await saveModelDir(dir, model, m.config, { tokenizerFrom: m.baseDir, dtype });
  }
  await writeFileAtomic(join(dir, "README.md"), modelCard(m, env.graph.recipe, kind, env.smoke !== null));
  env.log(`${node.id}: ${kind === "adapter" ? "PEFT adapter" : kind === "merged" ? "merged model" : "model"} written to ${dir}`);
  return { artifact: { kind: "result", data: { dir, kind }, files: [dir] } };
};

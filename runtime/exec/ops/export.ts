// export: the stage's result as files other tools load unchanged — a PEFT
// adapter directory (adapter_config.json + adapter_model.safetensors with
// PEFT's tensor names) or, with `merge = true` / full fine-tuning, a complete
// Hugging Face model directory. Each gets a README model card with YAML front
// matter (base_model, library_name, tags) as the Hub expects. A model whose
// weights began as random numbers (`model { init = random }`) has no base
// model: its card says it was pretrained from scratch, by which recipe.
import { join } from "node:path";
import type { Edge, Graph, GraphNode } from "../../../compiler/graph.js";
import { writeRunFile as writeFileAtomic } from "../files.js";
import { writePeftAdapter } from "../../io/peft.js";
import { saveModelDir } from "../../checkpoint/index.js";
import { LlamaModel } from "../../model/llama.js";
import { mergedWeights } from "../policy.js";
import type { ModelValue, OpHandler } from "../types.js";

/** The load_model node the exported weights started from (through the stages that trained them), if any. */
export function startingLoad(graph: Graph, node: GraphNode): GraphNode | null {
  const byId = new Map(graph.nodes.map((n) => [n.id, n]));
  let cur: GraphNode | undefined = node;
  for (let hops = 0; cur && hops <= graph.nodes.length; hops++) {
    if (cur.op === "load_model") return cur;
    const edge: Edge | undefined = cur.inputs["model"] ?? cur.inputs["policy"];
    cur = edge ? byId.get(edge.node) : undefined;
  }
  return null;
}

/** How the weights began: from a base model's weights, or random (seeded) from a config + tokenizer directory. */
type Origin = { random: false } | { random: true; seed: number; from: string };

function originOf(graph: Graph, node: GraphNode): Origin {
  const load = startingLoad(graph, node);
  if (!load || load.params["init"] !== "random") return { random: false };
  const from = typeof load.params["path"] === "string" ? load.params["path"] : String(load.params["hub"] ?? load.id);
  return { random: true, seed: Number(load.params["seed"] ?? graph.seed), from };
}

function modelCard(m: ModelValue, recipe: string, kind: "adapter" | "merged" | "full", smoke: boolean, origin: Origin): string {
  if (origin.random) return scratchCard(m, recipe, smoke, origin);
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

function scratchCard(m: ModelValue, recipe: string, smoke: boolean, origin: Extract<Origin, { random: true }>): string {
  const front = ["---", "library_name: transformers", "tags:", "  - tune", "  - pretrained-from-scratch", "---", ""];
  const body = [
    `# ${recipe} — ${m.name}`,
    "",
    `Pretrained from scratch by tune (recipe \`${recipe}\`, stage \`${m.name}\`): the weights were initialised at random ` +
      `(seed ${origin.seed}) with the architecture and tokenizer of \`${origin.from}\`; no pretrained weights were used.`,
    "",
    smoke ? "**Smoke run:** capped steps and data; not a usable model." : "",
    "",
    "Training and evaluation results are in the run directory (metrics.jsonl, report.md).",
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
  await writeFileAtomic(join(dir, "README.md"), modelCard(m, env.graph.recipe, kind, env.smoke !== null, originOf(env.graph, node)));
  env.log(`${node.id}: ${kind === "adapter" ? "PEFT adapter" : kind === "merged" ? "merged model" : "model"} written to ${dir}`);
  return { artifact: { kind: "result", data: { dir, kind }, files: [dir] } };
};

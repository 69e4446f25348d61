// How a trained stage's model goes into a cache entry and comes back. Only
// what training changed is stored: the LoRA adapter in PEFT's layout
// (adapter_config.json + adapter_model.safetensors, float32) or, for full
// fine-tuning, the whole weights as a HF model directory. On a hit the frozen
// part is rebuilt exactly as the train op built it — buildTrainable on the
// stage's starting model (merging a predecessor's adapter, rounding QLoRA
// bases through 4-bit) — and the stored weights are loaded on top, so the
// restored model computes the same logits as the one training returned.
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { GraphNode } from "../../compiler/graph.js";
import { readPeftAdapter, writePeftAdapter } from "../io/peft.js";
import { readAllF32 } from "../io/safetensors.js";
import { saveModelDir } from "../checkpoint/index.js";
import { LlamaModel } from "../model/llama.js";
import { buildTrainable, type AdapterParams } from "./policy.js";
import { CodecError, decodeTagged, encodeTagged, type PathContext } from "./cache-codec.js";
import type { ModelValue, Value } from "./types.js";

interface ModelMeta {
  name: string;
  mode: "adapter" | "full";
  adapterParams: unknown;
  /** Where the model was loaded from when it was stored (informational: the current run's start model wins). */
  baseDir: string;
  standsInFor: string | null;
}

export interface ModelContext extends PathContext {
  /** The value on one of the node's input edges in the current run (already computed or restored), if any. */
  input(node: GraphNode, port: string): Value | undefined;
}

function startOf(node: GraphNode, ctx: ModelContext): ModelValue {
  const start = ctx.input(node, "policy");
  if (!start || start.kind !== "model") throw new CodecError(`${node.id}: its starting model (input \`policy\`) is not loaded in this run`);
  return start;
}

export async function writeModel(dir: string, node: GraphNode, v: ModelValue, ctx: PathContext): Promise<void> {
  if (node.op !== "train" || !node.inputs["policy"]) throw new CodecError(`${node.id}: only trained stages' models are cached (loading is the cheap part)`);
  const meta: ModelMeta = { name: v.name, mode: v.adapter ? "adapter" : "full", adapterParams: encodeTagged(v.adapterParams, ctx, "adapterParams"), baseDir: v.baseDir, standsInFor: v.standsInFor };
  if (v.adapter) {
    if (!v.adapterParams) throw new CodecError(`${node.id}: the model has an adapter but no adapter settings`);
    await writePeftAdapter(join(dir, "adapter"), v.adapter.toPeftAdapter(v.standsInFor ?? v.baseDir), { dtype: "F32" });
  } else {
    await saveModelDir(join(dir, "weights"), v.model, v.config, { dtype: "F32" });
  }
  await writeFile(join(dir, "model.json"), JSON.stringify(meta) + "\n");
}

export async function readModel(dir: string, node: GraphNode, ctx: ModelContext): Promise<ModelValue> {
  const meta = JSON.parse(await readFile(join(dir, "model.json"), "utf8")) as Partial<ModelMeta>;
  if (typeof meta.name !== "string" || (meta.mode !== "adapter" && meta.mode !== "full")) throw new CodecError(`${dir}/model.json is incomplete`);
  const start = startOf(node, ctx);
  const adapterParams = (decodeTagged(meta.adapterParams, ctx) ?? null) as Record<string, unknown> | null;
  let model: LlamaModel;
  let adapter: ModelValue["adapter"] = null;
  if (meta.mode === "adapter") {
    if (!adapterParams) throw new CodecError(`${dir}/model.json: an adapter entry without adapter settings`);
    const peft = await readPeftAdapter(join(dir, "adapter"));
    // The seed only initialises the LoRA factors, which the stored weights replace.
    const built = buildTrainable(start, adapterParams as unknown as AdapterParams, Number(node.params["seed"] ?? 0));
    if (!built.adapter) throw new CodecError(`${node.id}: rebuilding the stage gave no adapter`);
    built.adapter.loadPeftAdapter(peft);
    model = built.model;
    adapter = built.adapter;
  } else {
    const weights = await readAllF32(join(dir, "weights", "model.safetensors"));
    model = LlamaModel.fromHfWeights(start.config, weights, true);
  }
  return {
    kind: "model",
    name: meta.name,
    config: start.config,
    model,
    tokenizer: start.tokenizer,
    baseDir: start.baseDir,
    adapter,
    adapterParams,
    standsInFor: start.standsInFor,
  };
}

// Graph-node parameters read the same way everywhere they are read: a dataset
// node's field schema, a tokenize node's template (plain text when the stage
// has none) and the BOS rule. Shared by the executor's ops and by `tune lint
// --data`, which must count tokens exactly as tokenize would without loading
// the runtime — so this module imports types only.
import type { GraphNode } from "../../compiler/graph.js";
import type { FieldSpec, FieldType } from "../data/schema.js";
import type { PromptTemplate } from "../data/template.js";

interface FieldParam {
  name: string;
  type: string;
  optional: boolean;
  default: unknown;
  from: string | null;
}

/** A load_data node's declared fields as the row checker takes them (undefined: no schema, inferred). */
export function schemaOf(node: GraphNode): FieldSpec[] | undefined {
  const fields = node.params["fields"] as unknown as FieldParam[] | undefined;
  if (!fields || fields.length === 0) return undefined;
  return fields.map((f) => ({
    name: f.name,
    type: f.type as FieldType,
    optional: f.optional,
    ...(f.default !== null && f.default !== undefined ? { default: f.default } : {}),
    ...(f.from && f.from !== f.name ? { from: f.from } : {}),
  }));
}

/** A template as the graph carries it on tokenize/train nodes. */
export interface TemplateParam {
  name: string;
  prompt: string;
  completion?: string;
  eos: boolean;
  mask_prompt: boolean;
  system?: string;
}

/**
 * A stage without a template trains on its data's `text` field as plain text: nothing is a prompt, BOS before
 * and EOS after, every token a label (what HF run_clm and TRL's `dataset_text_field` train on). The compiler
 * (T4018) only lets a non-DPO stage omit the template when its data has a `text` field.
 */
export const PLAIN_TEXT: TemplateParam = { name: "plain text", prompt: "", completion: "{{text}}", eos: true, mask_prompt: false };

/** The node's template (PLAIN_TEXT when it has none) in the renderer's form. */
export function templateOf(node: GraphNode): PromptTemplate & { maskPrompt: boolean; system?: string } {
  const t = (node.params["template"] as unknown as TemplateParam | null | undefined) ?? PLAIN_TEXT;
  return { name: t.name, kind: "fields", prompt: t.prompt, completion: t.completion ?? "", appendEos: t.eos, maskPrompt: t.mask_prompt, system: t.system };
}

/** Whether the tokenizer should add BOS itself: not when the template already writes the BOS text. */
export function bosIdFor(tokenizer: { readonly bosId: number | null; decode(ids: number[]): string }, templateText: string): number | undefined {
  const bos = tokenizer.bosId;
  if (bos === null) return undefined;
  const bosText = tokenizer.decode([bos]);
  return bosText && templateText.startsWith(bosText) ? undefined : bos;
}

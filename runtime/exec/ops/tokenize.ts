// tokenize: render each row with the stage's template and turn it into ids
// and labels (prompt tokens masked with −100 when the template says so),
// truncated at the stage's cutoff. Reports how many examples were truncated
// and how many lost every label (a template that masks everything is caught
// here at the latest, before any training step). A stage without a template
// trains on its data's `text` field as plain text: BOS + text + EOS, every
// token a label (PLAIN_TEXT; HF run_clm / TRL `dataset_text_field`). A packed pretrain
// stage keeps whole documents here: its rows are cut from the concatenated
// documents at the cutoff later (batches.ts groupTexts), so nothing is truncated.
import type { GraphNode } from "../../../compiler/graph.js";
import { compileTemplate, renderRow } from "../../data/template.js";
import { bosIdFor, PLAIN_TEXT, templateOf } from "../node-params.js";
import { tokenizeExample, type TokenizedExample } from "../../data/tokenize.js";
import { rowsArray, rowsOf } from "./data.js";
import { ExecError, type ExecEnv, type ModelValue, type OpHandler, type TokensValue } from "../types.js";

export { PLAIN_TEXT, templateOf } from "../node-params.js";

function modelOf(node: GraphNode, v: unknown): ModelValue {
  const m = v as ModelValue | undefined;
  if (!m || m.kind !== "model") throw new Error(`internal: ${node.id} expected a model on tokenizer`);
  return m;
}

/** Whether the tokenizer should add BOS itself: not when the template already writes the BOS text. */
export function bosFor(m: ModelValue, templateText: string): number | undefined {
  return bosIdFor(m.tokenizer, templateText);
}

export function cutoffOf(node: GraphNode, env: ExecEnv): number {
  const declared = Number(node.params["cutoff"] ?? 512);
  return env.smoke ? Math.min(declared, env.smoke.cutoff) : declared;
}

/** Whether rows are cut from the concatenated documents (pretrain + packing) rather than truncated one by one. */
export function groupsTexts(node: GraphNode): boolean {
  return node.params["method"] === "pretrain" && node.params["packing"] === true;
}

const tokenizeSft = (node: GraphNode, m: ModelValue, env: ExecEnv, rows: ReturnType<typeof rowsOf>): TokensValue => {
  const t = templateOf(node);
  const ct = compileTemplate(t);
  const declaredCutoff = cutoffOf(node, env);
  const grouped = groupsTexts(node);
  const cutoff = grouped ? Number.MAX_SAFE_INTEGER : declaredCutoff;
  const bos = bosFor(m, t.prompt);
  const eos = m.tokenizer.eosId ?? undefined;
  const examples: TokenizedExample[] = [];
  let truncated = 0;
  let noTarget = 0;
  for (const row of rows) {
    const r = renderRow(ct, row, t.system ? { system: t.system } : {});
    const ex = tokenizeExample(r, m.tokenizer, { cutoff, bosId: bos, eosId: eos, maskPrompt: t.maskPrompt });
    if (ex.truncated) truncated++;
    if (!ex.labels.some((l) => l !== -100)) {
      noTarget++;
      continue;
    }
    examples.push(ex);
  }
  if (examples.length === 0 && rows.length > 0) {
    throw new ExecError("T7105", `${node.id}: every one of ${rows.length} examples has no label token left`, `the template masks the whole sequence or the prompt is longer than the cutoff (${declaredCutoff} tokens); raise \`cutoff\` or check the template's completion part`);
  }
  const tokens = examples.reduce((s, e) => s + e.inputIds.length, 0);
  const cutNote = grouped ? `none truncated (packed rows are cut from the concatenated documents every ${declaredCutoff} tokens)` : `${truncated} truncated at ${cutoff}`;
  env.log(`${node.id}: ${examples.length} ${node.params["template"] ? "examples" : "documents (plain text: BOS + text + EOS)"}, ${tokens} tokens, ${cutNote}, ${noTarget} dropped (no label left)`);
  env.metric({ node: node.id, examples: examples.length, tokens, truncated, no_label_dropped: noTarget });
  const template = (node.params["template"] ?? PLAIN_TEXT) as unknown as Record<string, unknown>;
  return { kind: "tokens", method: "sft", examples, pairs: [], template, truncated, dropped: noTarget };
};

export const tokenizeOp: OpHandler = async (node, inputs, env) => {
  const rows = await rowsArray(inputs["rows"], node);
  const m = modelOf(node, inputs["tokenizer"]);
  if (node.params["method"] === "dpo") {
    // Preference rows stay rows here; the DPO trainer renders and tokenizes pairs (TRL's truncation rules need all three parts).
    env.log(`${node.id}: ${rows.length} preference pairs`);
    return { tokens: { kind: "tokens", method: "dpo", examples: [], pairs: rows, template: node.params["template"] as Record<string, unknown>, truncated: 0, dropped: 0 } };
  }
  return { tokens: tokenizeSft(node, m, env, rows) };
};

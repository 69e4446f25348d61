// generate: responses of one model to the rows of an eval data set (the
// input to judged evals and response-length reports). Greedy decoding, the
// model's trained template around each prompt when it has one; responses are
// saved in the run directory as JSONL, one per row, with the row's origin.
import { join } from "node:path";
import { writeRunFile as writeFileAtomic } from "../files.js";
import { generate } from "../../model/generate.js";
import { compileTemplate, renderRow } from "../../data/template.js";
import type { Row } from "../../data/row.js";
import { rowsArray } from "./data.js";
import { bosFor } from "./tokenize.js";
import type { ModelValue, OpHandler } from "../types.js";

interface TemplateParam {
  name: string;
  prompt: string;
}

/** The prompt text for a row: the template's prompt part, or the instruction (+ input) as plain text. */
function promptText(row: Row, template: TemplateParam | null): string {
  if (template) {
    // The eval set's instruction fills the template's user slot whatever the training data called it
    // (`instruction` for Alpaca-style templates, `prompt` for preference templates).
    const v = row.values;
    const instruction = v["instruction"] ?? v["prompt"] ?? "";
    const values = { ...v, instruction, prompt: v["prompt"] ?? instruction, input: v["input"] ?? "" };
    const ct = compileTemplate({ name: template.name, kind: "fields", prompt: template.prompt, completion: "", appendEos: false });
    return renderRow(ct, { values, origin: row.origin }).prompt;
  }
  const v = row.values;
  const instruction = String(v["instruction"] ?? v["prompt"] ?? "");
  const input = typeof v["input"] === "string" && v["input"] ? `\n\n${v["input"]}` : "";
  return instruction + input;
}

export const generateOp: OpHandler = async (node, inputs, env) => {
  const m = inputs["model"] as ModelValue;
  let rows = await rowsArray(inputs["rows"], node);
  const limit = typeof node.params["limit"] === "number" ? node.params["limit"] : null;
  const cap = env.smoke ? Math.min(limit ?? Infinity, env.smoke.evalDocs) : limit;
  if (cap !== null && rows.length > cap) {
    if (env.smoke && cap !== limit) env.substitute(node.id, `${cap} of ${rows.length} prompts`);
    rows = rows.slice(0, cap);
  }
  const declared = Number(node.params["max_new_tokens"] ?? 256);
  const maxNew = env.smoke ? Math.min(declared, env.smoke.maxNewTokens) : declared;
  const template = (node.params["template"] as TemplateParam | null) ?? null;
  const bar = env.progress(`generate ${m.name}`, rows.length, "prompts");
  const out: Row[] = [];
  const lines: string[] = [];
  let newTokens = 0;
  const t0 = performance.now();
  for (const row of rows) {
    const text = promptText(row, template);
    const bos = bosFor(m, text);
    const ids = [...(bos !== undefined ? [bos] : []), ...m.tokenizer.encode(text)];
    const eos = m.tokenizer.eosId;
    const r = generate(m.model, ids, { maxNewTokens: maxNew, decode: (x) => m.tokenizer.decode(x), eosTokenIds: eos === null ? undefined : [eos], temperature: 0 });
    const response = (r.text ?? "").trim();
    newTokens += r.tokens.length;
    out.push({ values: { ...row.values, response }, origin: row.origin });
    lines.push(JSON.stringify({ row: row.origin.row, line: row.origin.line ?? null, prompt: text, response, finish: r.finishReason }));
    bar.tick(1, { "tok/s": Math.round(newTokens / ((performance.now() - t0) / 1000)) });
  }
  bar.done(`${newTokens} new tokens`);
  const file = join(env.runDir, "responses", `${m.name}.jsonl`);
  await writeFileAtomic(file, lines.join("\n") + (lines.length ? "\n" : ""));
  return { responses: { kind: "rows", rows: out } };
};

/** response_length: mean response length in characters and in tokens (the SamPO card reports it). */
export const responseLengthOp: OpHandler = async (node, inputs, env) => {
  const rows = await rowsArray(inputs["responses"], node, "responses");
  const chars = rows.map((r) => String(r.values["response"] ?? "").length);
  const mean = chars.reduce((a, b) => a + b, 0) / Math.max(1, chars.length);
  env.metric({ node: node.id, model: node.params["model"], mean_response_chars: mean, n: rows.length });
  return { result: { kind: "result", data: { node: node.id, model: String(node.params["model"]), metric: "response_length", task: "response_length", value: mean, n: rows.length }, files: [] } };
};

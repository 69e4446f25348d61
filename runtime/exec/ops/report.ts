// report: the model-card style comparison of every evaluated model — one column per model, one Δ column per
// fine-tuned model against the recipe's base model — written as report.md, report.json and report.html in the
// run directory (the node's `formats`) and printed at the end. The numbers are decided in
// runtime/eval/report-model.ts and laid out by report-md.ts / report-html.ts; this op only wires them to the run.
import { join } from "node:path";
import { writeRunFile as writeFileAtomic } from "../files.js";
import { buildReport, summaryKey, trainedModels, type ResultData } from "../../eval/report-model.js";
import { reportMarkdown } from "../../eval/report-md.js";
import { reportHtml } from "../../eval/report-html.js";
import type { OpHandler, ResultValue } from "../types.js";

export const reportOp: OpHandler = async (node, inputs, env) => {
  const results = Object.values(inputs).filter((v): v is ResultValue => v.kind === "result");
  const expected = Object.values(node.inputs).map((e) => e.node);
  const report = buildReport({
    recipe: env.graph.recipe,
    results: results.map((r) => r.data as ResultData),
    expected,
    trained: trainedModels(env.graph, expected),
    smoke: env.smoke !== null,
  });
  const md = reportMarkdown(report);
  // `rows` keeps the first report.json layout ("task (metric)" → model → cell) beside the full report.
  const rows = Object.fromEntries(report.summary.map((r) => [summaryKey(r), r.cells]));
  const json = { recipe: report.recipe, models: report.models, rows, report };
  const formats = Array.isArray(node.params?.["formats"]) ? (node.params["formats"] as unknown[]).map(String) : ["md", "json", "html"];
  const files: string[] = [];
  const write = async (name: string, text: string): Promise<void> => {
    const file = join(env.runDir, name);
    await writeFileAtomic(file, text);
    files.push(file);
  };
  if (formats.includes("md")) await write("report.md", md);
  if (formats.includes("json")) await write("report.json", JSON.stringify(json, null, 2) + "\n");
  if (formats.includes("html")) await write("report.html", reportHtml(report));
  env.log("\n" + md);
  return { report: { kind: "result", data: { markdown: md, ...json }, files } };
};

// Judge-driven ops: score (a judge rates each row; AlpaGasus), judge
// (pointwise 0–100 scores of a model's responses) and win_rate (pairwise
// against a baseline). The judge is an OpenAI-compatible endpoint or a model
// run in process; replies are cached under $TUNE_CACHE/judge so re-runs cost
// nothing. Under --smoke an endpoint judge is replaced by the tiny model.
import { homedir } from "node:os";
import { join } from "node:path";
import type { GraphNode } from "../../../compiler/graph.js";
import { generate } from "../../model/generate.js";
import { buildJudge, JudgeError, judgeResponses, scoreRows, scoreSummary, winRate, type Judge, type LocalGenerator } from "../../judge/index.js";
import { rowsArray } from "./data.js";
import { ExecError, NotExecutable, type ExecEnv, type ModelValue, type OpHandler, type Value } from "../types.js";

export function cacheRoot(): string {
  return process.env["TUNE_CACHE"] ?? join(homedir(), ".cache", "tune");
}

/** Chat messages → one prompt: the Llama 3 header format when the tokenizer knows its special tokens, else plain text. */
function chatPrompt(m: ModelValue, messages: { role: string; content: string }[]): string {
  const header = "<|start_header_id|>";
  if (m.tokenizer.encode(header).length === 1) {
    return messages.map((x) => `${header}${x.role}<|end_header_id|>\n\n${x.content}<|eot_id|>`).join("") + `${header}assistant<|end_header_id|>\n\n`;
  }
  return messages.map((x) => x.content).join("\n\n") + "\n\n";
}

export function localGenerator(m: ModelValue, env: ExecEnv): LocalGenerator {
  return {
    id: `${m.standsInFor ?? m.baseDir}#${m.name}`,
    async generate(messages, opts) {
      const text = chatPrompt(m, messages);
      const bos = m.tokenizer.bosId;
      const ids = [...(bos !== null && !text.startsWith("<|begin_of_text|>") ? [bos] : []), ...m.tokenizer.encode(text)];
      const maxNew = env.smoke ? Math.min(opts.maxTokens, env.smoke.maxNewTokens) : opts.maxTokens;
      const eos = m.tokenizer.eosId;
      const r = generate(m.model, ids, { maxNewTokens: maxNew, decode: (x) => m.tokenizer.decode(x), eosTokenIds: eos === null ? undefined : [eos, ...m.config.eosTokenIds], temperature: opts.temperature, seed: opts.seed ?? 0 });
      return r.text ?? "";
    },
  };
}

async function judgeFor(node: GraphNode, inputs: Readonly<Record<string, Value>>, env: ExecEnv): Promise<Judge> {
  const params = node.params["judge"] as Record<string, unknown> | undefined;
  if (!params) throw new ExecError("T7110", `${node.id}: no judge settings in the graph`, "recompile the recipe with this version of tune");
  const local = inputs["judge_model"] as ModelValue | undefined;
  if (local) return buildJudge(params, { generator: localGenerator(local, env) });
  if (env.smoke) {
    const tiny = await env.standIn();
    env.substitute(node.id, `the tiny model judges instead of ${String(params["api_model"] ?? params["name"])} at ${String(params["endpoint"])}; its scores are not meaningful`);
    return buildJudge({ ...params, endpoint: null, model: "tiny" }, { generator: localGenerator(tiny, env) });
  }
  return buildJudge(params);
}

function rethrow(e: unknown): never {
  if (e instanceof JudgeError) throw e.unavailable ? new NotExecutable(e.message, e.hint) : new ExecError(e.code, e.message, e.hint);
  throw e;
}

const progressOf = (env: ExecEnv, label: string, total: number) => {
  const bar = env.progress(label, total, "items");
  let last = 0;
  return { bar, onProgress: (p: { done: number; requests: number; cacheHits: number }) => { bar.tick(p.done - last, { requests: p.requests, cached: p.cacheHits }); last = p.done; } };
};

export const scoreOp: OpHandler = async (node, inputs, env) => {
  // Scored rows are returned in memory (each gains its score), so a streaming input is read into memory here.
  const rows = await rowsArray(inputs["rows"], node);
  const judge = await judgeFor(node, inputs, env);
  const { bar, onProgress } = progressOf(env, `score ${String(node.params["field"])}`, rows.length);
  try {
    const res = await scoreRows(rows, { judge, prompt: node.params["prompt"] as never, field: String(node.params["field"]), range: node.params["range"] as never, cacheDir: join(cacheRoot(), "judge"), onProgress });
    bar.done(scoreSummary(res.stats));
    for (const u of res.stats.unparseableRows.slice(0, 5)) env.log(`  unparseable at ${u.where}: ${u.reason}`);
    env.metric({ node: node.id, scored: res.stats.scored, unparseable: res.stats.unparseable, out_of_range: res.stats.outOfRange, mean: res.stats.mean, requests: res.stats.requests, cache_hits: res.stats.cacheHits });
    return { rows: { kind: "rows", rows: res.rows } };
  } catch (e) {
    rethrow(e);
  }
};

export const judgeOp: OpHandler = async (node, inputs, env) => {
  const rows = await rowsArray(inputs["responses"], node, "responses");
  const judge = await judgeFor(node, inputs, env);
  const { bar, onProgress } = progressOf(env, `judge ${String(node.params["model"])}`, rows.length);
  try {
    const items = rows.map((row) => ({ row, response: String(row.values["response"] ?? "") }));
    const r = await judgeResponses(items, { judge, prompt: node.params["prompt"] as never, range: node.params["range"] as never, cacheDir: join(cacheRoot(), "judge"), onProgress });
    bar.done(`mean ${r.mean?.toFixed(2) ?? "—"} (${r.scored} scored, ${r.unparseable} unparseable)`);
    const file = join(env.runDir, "eval", `judge@${String(node.params["model"])}.json`);
    const { writeRunFile } = await import("../files.js");
    await writeRunFile(file, JSON.stringify(r, null, 2) + "\n");
    env.metric({ node: node.id, model: node.params["model"], judge_mean: r.mean, stderr: r.stderr, scored: r.scored, unparseable: r.unparseable });
    return { result: { kind: "result", data: { node: node.id, task: `judge ${judge.name}`, model: String(node.params["model"]), metric: "mean score", value: r.mean, stderr: r.stderr, n: r.scored, unparseable: r.unparseable }, files: [file] } };
  } catch (e) {
    rethrow(e);
  }
};

export const winRateOp: OpHandler = async (node, inputs, env) => {
  const rows = await rowsArray(inputs["responses"], node, "responses");
  const judge = await judgeFor(node, inputs, env);
  const { bar, onProgress } = progressOf(env, `win rate ${String(node.params["model"])}`, rows.length);
  try {
    const items = rows.map((row) => ({ row, response: String(row.values["response"] ?? "") }));
    const r = await winRate(items, { judge, prompt: node.params["prompt"] as never, seed: Number(node.params["seed"] ?? env.seed), baselineField: String(node.params["baseline_field"] ?? "output"), cacheDir: join(cacheRoot(), "judge"), onProgress });
    bar.done(`win rate ${(r.winRate ?? NaN).toFixed(4)} (${r.wins} wins, ${r.ties} ties, ${r.losses} losses, ${r.unparseable} unparseable)`);
    const file = join(env.runDir, "eval", `win_rate@${String(node.params["model"])}.json`);
    const { writeRunFile } = await import("../files.js");
    await writeRunFile(file, JSON.stringify(r, null, 2) + "\n");
    env.metric({ node: node.id, model: node.params["model"], win_rate: r.winRate, stderr: r.stderr });
    return { result: { kind: "result", data: { node: node.id, task: `win rate vs ${String(node.params["baseline_field"] ?? "output")}`, model: String(node.params["model"]), metric: "win rate", value: r.winRate, stderr: r.stderr, n: rows.length, unparseable: r.unparseable }, files: [file] } };
  } catch (e) {
    rethrow(e);
  }
};

// Compiler benchmarks (issue: lint/check speed). Run after `npm run build`:
//   node bench/compile.mjs
// 1. cold `tune lint recipes/*.tune` wall time (a fresh node process each time, node start included);
// 2. in-process parse + check + lower of a generated 5,000-line recipe (after one warm-up run).
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { compile } from "../dist/compiler/compile.js";
import { fsHost } from "../dist/cli/host.js";

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function coldLint(runs = 7) {
  const files = readdirSync("recipes").filter((f) => f.endsWith(".tune")).map((f) => "recipes/" + f);
  const times = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    const r = spawnSync(process.execPath, ["bin/tune.js", "lint", ...files], { encoding: "utf8" });
    times.push(performance.now() - t0);
    if (r.status !== 0) throw new Error("lint failed: " + r.stdout + r.stderr);
  }
  return { files: files.length, medianMs: median(times), minMs: Math.min(...times) };
}

export function bigRecipe(targetLines = 5000) {
  const out = ['import { alpaca } from "std/templates"', 'import { llama2_7b } from "std/models"', "", "recipe big {", "  seed = 1", "}", "", "model base {", '  hub = "meta-llama/Llama-2-7b-hf"', "  arch = llama2_7b", "}", ""];
  let i = 0;
  while (out.length < targetLines) {
    out.push(
      `dataset d${i} {`, `  path = "data/d${i}.jsonl"`, "  fields {", "    instruction: string", '    input: string = ""', "    output: string", "  }", "}", "",
      `data p${i} {`, `  from = d${i}`, "  filter(len(output) > 10 and len(instruction) < 2000)", "  dedup(near, threshold = 0.8, on = [instruction, input])", "  sample(2k)", "  split(validation = 5%)", "}", "",
      `adapter a${i} {`, "  method = lora", "  r = 8", "  alpha = 16", "  targets = [q_proj, v_proj]", "}", "",
      `stage s${i} {`, "  method = sft", `  from = ${i === 0 ? "base" : "s" + (i - 1)}`, `  data = p${i}`, "  template = alpaca", `  adapter = a${i}`, "  batch = 64", "  micro_batch = 8", "  lr = 2e-4", "  epochs = 1", "  cutoff = 512 tokens", "}", "",
    );
    i++;
  }
  return out.join("\n");
}

function inProcess(runs = 5) {
  const text = bigRecipe();
  const lines = text.split("\n").length;
  const host = fsHost();
  compile("big.tune", text, host); // warm-up: parser construction, stdlib parse, JIT
  const times = [];
  let diagnostics = 0;
  for (let k = 0; k < runs; k++) {
    const t0 = performance.now();
    const c = compile("big.tune", text, host);
    times.push(performance.now() - t0);
    diagnostics = c.diagnostics.length;
  }
  return { lines, diagnostics, medianMs: median(times), minMs: Math.min(...times) };
}

const lint = coldLint();
const big = inProcess();
console.log(JSON.stringify({ date: new Date().toISOString(), node: process.version, coldLint: lint, compile5000: big }, null, 2));

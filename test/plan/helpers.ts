// Recipe builders for the plan tests: a small recipe assembled from a stage's
// settings, compiled with the real stdlib, so estimates are tested on lowered
// graphs rather than hand-built nodes.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { fsHost } from "../../cli/host.js";
import { compile } from "../../compiler/compile.js";
import type { Graph } from "../../compiler/graph.js";

const HERE = fileURLToPath(new URL(".", import.meta.url));

export function compileText(text: string, path = join(HERE, "fixtures", "inline.tune")): Graph {
  const c = compile(path, text, fsHost());
  const errors = c.diagnostics.filter((d) => d.severity === "error");
  if (!c.graph || errors.length) throw new Error("recipe does not compile:\n" + c.diagnostics.map((d) => `${d.code} ${d.message}`).join("\n"));
  return c.graph;
}

export function compileFixture(name: string): Graph {
  const path = join(HERE, "fixtures", name);
  return compileText(readFileSync(path, "utf8"), path);
}

export interface RecipeParts {
  /** Model arch preset from std/models. */
  readonly arch?: string;
  /** Lines inside the adapter block; omitted: full fine-tune. */
  readonly adapter?: string;
  /** Extra lines inside the sft stage block. */
  readonly stage?: string;
  /** Lines inside the hardware block; omitted: no hardware block. */
  readonly hardware?: string;
  /** Lines inside the dataset block (e.g. `rows = 1000`). */
  readonly dataset?: string;
  /** Steps of the data pipeline (e.g. `split(validation = 10%)`). */
  readonly steps?: string;
  readonly batch?: number;
  readonly micro?: number;
  readonly method?: string;
}

/** An SFT (or full) recipe on the Alpaca template with the given pieces. */
export function sftRecipe(p: RecipeParts = {}): string {
  const arch = p.arch ?? "llama2_7b";
  return `import { alpaca } from "std/templates"
import { ${arch} } from "std/models"

recipe t { seed = 1 }

model base {
  hub = "org/model"
  arch = ${arch}
}

dataset src {
  hub = "org/data"
  ${p.dataset ?? ""}
  fields {
    instruction: string
    input: string = ""
    output: string
  }
}

data d {
  from = src
  ${p.steps ?? "shuffle()"}
}
${p.adapter ? `\nadapter a {\n  ${p.adapter}\n}\n` : ""}
stage s {
  method = ${p.method ?? "sft"}
  from = base
  data = d
  template = alpaca
  ${p.adapter ? "adapter = a" : ""}
  batch = ${p.batch ?? 32}
  micro_batch = ${p.micro ?? 4}
  lr = 1e-4
  ${p.stage ?? ""}
}
${p.hardware !== undefined ? `\nhardware {\n  ${p.hardware}\n}\n` : ""}`;
}

/** A DPO recipe on preference data (1000 rows), optionally with a LoRA adapter and a `reference` line. */
export function dpoRecipe(p: { adapter?: string; stage?: string; hardware?: string } = {}): string {
  return `import { llama3_chat_dpo } from "std/templates"
import { llama2_7b } from "std/models"

recipe t { seed = 1 }

model base {
  hub = "org/model"
  arch = llama2_7b
}

dataset prefs {
  hub = "org/prefs"
  rows = 1000
  fields {
    prompt: string
    chosen: string
    rejected: string
  }
}
${p.adapter ? `\nadapter a {\n  ${p.adapter}\n}\n` : ""}
stage d {
  method = dpo
  from = base
  data = prefs
  template = llama3_chat_dpo
  ${p.adapter ? "adapter = a" : ""}
  batch = 8
  micro_batch = 2
  lr = 1e-6
  max_length = 512
  ${p.stage ?? ""}
}
${p.hardware !== undefined ? `\nhardware {\n  ${p.hardware}\n}\n` : ""}`;
}

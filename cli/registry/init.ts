// `tune init [dir]`: scaffold a recipe package: package.json with the `tune` field, a recipe, a template library
// the recipe imports by relative path, and a README that is the package's recipe card.
//
// Why this exists: the shape of a recipe package (npm package + `tune.entries` + README card) is a convention;
// the quickest way to learn it is a package that already passes `tune publish --dry-run`. The files are written
// only where nothing exists, never over a user's file.
import { existsSync, mkdirSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import { atomicWrite } from "../fs-util.js";
import type { Io } from "../commands.js";
import { RegistryError } from "./errors.js";
import { parseRegistrySpec } from "./spec.js";

export interface InitOptions {
  /** Package name (`@team/name`); defaults to the folder's name. */
  readonly name?: string;
}

export function initPackage(dir: string, opts: InitOptions, io: Io): number {
  const root = resolve(dir);
  const name = opts.name ?? packageNameFrom(basename(root));
  const parsed = parseRegistrySpec(name);
  if (!parsed.ok || parsed.spec.name !== name) {
    throw new RegistryError("T8014", `\`${name}\` is not a valid package name`, "pass --name @your-scope/your-recipe (lowercase letters, digits, `-`, `.`, `_`)");
  }
  const files = scaffold(name);
  const existing = Object.keys(files).filter((f) => existsSync(join(root, f)));
  if (existing.length > 0) {
    throw new RegistryError("T8014", `${root} already has ${existing.join(", ")}`, "run `tune init` in a new folder (`tune init my-recipe`); it never overwrites files");
  }
  try {
    mkdirSync(root, { recursive: true });
    for (const [f, text] of Object.entries(files)) atomicWrite(join(root, f), text);
  } catch (e) {
    throw new RegistryError("T8015", `cannot write in ${root}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`, "check that the folder is writable");
  }
  io.out(`created ${name} in ${root}:\n${Object.keys(files).map((f) => `  ${f}\n`).join("")}`);
  io.out(`next: edit recipe.tune, then \`tune lint\`, \`tune plan recipe.tune\` and \`tune publish --dry-run\`\n`);
  return 0;
}

/** A folder name as an npm package name: lowercase, runs of other characters become `-`. */
export function packageNameFrom(folder: string): string {
  const n = folder.toLowerCase().replace(/[^a-z0-9._~-]+/g, "-").replace(/^[-._~]+|-+$/g, "");
  return n === "" ? "my-recipe" : n;
}

/** `@acme/alpaca-lora` → `alpaca_lora` (a block name). */
function blockName(pkgName: string): string {
  const n = (pkgName.split("/").pop() ?? pkgName).replace(/[^A-Za-z0-9_]+/g, "_").replace(/^_+|_+$/g, "");
  return /^[A-Za-z_]/.test(n) ? n : `r_${n}`;
}

export function scaffold(name: string): Record<string, string> {
  const block = blockName(name);
  const pkg = {
    name,
    version: "0.1.0",
    description: "Llama 3 8B + LoRA on alpaca-gpt4, as a tune recipe package",
    keywords: ["tune", "tune-recipe"],
    tune: { entries: ["recipe.tune", "templates.tune"] },
  };
  return {
    "package.json": JSON.stringify(pkg, null, 2) + "\n",
    "recipe.tune": RECIPE.replace("@@BLOCK@@", block),
    "templates.tune": TEMPLATES.replace("@@NAME@@", name),
    "README.md": README.split("@@NAME@@").join(name).split("@@BLOCK@@").join(block),
  };
}

const TEMPLATES = `# Prompt templates this package exports. Import them elsewhere with
# \`import { house_style } from "@@NAME@@@^0.1/templates.tune"\`.

# The Alpaca layout with a shorter preamble; \`input\` is optional.
template house_style {
  prompt = """
{{#if input}}### Instruction:
{{instruction}}

### Input:
{{input}}

### Response:{{else}}### Instruction:
{{instruction}}

### Response:{{/if}}"""
  completion = "{{output}}"
  eos = true
}
`;

const RECIPE = `# LoRA SFT of Llama 3 8B on Alpaca-GPT4 in this package's prompt template.
# Replace the model, data and hyperparameters with your own; \`tune lint\` checks
# every change and \`tune plan recipe.tune\` shows the cost.
import { llama3_8b } from "std/models"
import { arc_challenge } from "std/evals"
import { house_style } from "./templates.tune"

recipe @@BLOCK@@ {
  description = "Llama 3 8B + LoRA on alpaca-gpt4"
  seed = 42
}

model base {
  hub = "meta-llama/Meta-Llama-3-8B"
  revision = "main"
  arch = llama3_8b
  dtype = bf16
}

dataset alpaca_gpt4 {
  hub = "vicgalle/alpaca-gpt4"
  split = "train"
  fields {
    instruction: string
    input: string = ""
    output: string
  }
}

data train {
  from = alpaca_gpt4
  shuffle(seed = 42)
  split(validation = 2%)
}

adapter lora {
  method = lora
  r = 16
  alpha = 32
  dropout = 0.05
  targets = all_linear
}

stage sft {
  method = sft
  from = base
  data = train
  template = house_style
  adapter = lora
  batch = 64
  micro_batch = 8
  lr = 2e-4
  epochs = 3
  cutoff = 2048 tokens
  schedule = cosine
  warmup = 3%
  gradient_checkpointing = true
}

hardware {
  gpu = h100_80gb
  devices = 1
  strategy = single
}

export {
  from = sft
}

eval gain {
  models = [base, sft]
  task(arc_challenge, shots = 25, metric = acc_norm)
}
`;

const README = `# @@NAME@@

Llama 3 8B + LoRA on [alpaca-gpt4](https://huggingface.co/datasets/vicgalle/alpaca-gpt4), as a tune recipe
package. This README is the package's recipe card: \`tune info @@NAME@@\` prints it.

## Use it

\`\`\`
tune add @@NAME@@@^0.1
\`\`\`

then, in a recipe:

\`\`\`
import { house_style } from "@@NAME@@@^0.1/templates.tune"
\`\`\`

or import the whole recipe (\`import "@@NAME@@@^0.1" as @@BLOCK@@\`).

## Exports

| entry | defines |
|---|---|
| \`recipe.tune\` | recipe \`@@BLOCK@@\` (model, data, LoRA stage, eval) |
| \`templates.tune\` | template \`house_style\` |

## Training

- base model: meta-llama/Meta-Llama-3-8B, bf16
- data: vicgalle/alpaca-gpt4 (train), 2% held out for validation
- method: SFT with LoRA r=16, alpha=32 on all linear layers; 3 epochs, lr 2e-4, cosine

## Evaluation

ARC-Challenge, 25-shot, acc_norm, base vs fine-tuned.

## License

State the license of the recipe and of the data and model it uses.
`;

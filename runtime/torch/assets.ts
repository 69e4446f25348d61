// Where the torch executor's templates and Python library live, and the handlebars renderer over them.
//
// Why this exists: the generated programs are handlebars templates (runtime/torch/templates/*.hbs) plus a static
// Python library (runtime/torch/python/tune_torch/); they are found relative to this package both when tune runs
// from its sources and from the bundled CLI (dist/tune.mjs), so the lookup walks up from this module's URL.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import Handlebars from "handlebars";

let root: string | undefined;

/** The folder holding templates/ and python/ (runtime/torch in the package). */
export function torchAssetsDir(): string {
  if (root) return root;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    for (const candidate of [dir, join(dir, "runtime", "torch")]) {
      if (existsSync(join(candidate, "templates", "train.py.hbs")) && existsSync(join(candidate, "python", "tune_torch"))) {
        root = candidate;
        return candidate;
      }
    }
    const up = dirname(dir);
    if (up === dir) throw new Error("internal: cannot locate runtime/torch/templates in the tune package");
    dir = up;
  }
}

const compiled = new Map<string, Handlebars.TemplateDelegate>();

/** Render templates/<name>.hbs with `context` (no HTML escaping: the outputs are code and Markdown). */
export function renderTemplate(name: string, context: object): string {
  let t = compiled.get(name);
  if (!t) {
    const text = readFileSync(join(torchAssetsDir(), "templates", `${name}.hbs`), "utf8");
    t = Handlebars.create().compile(text, { noEscape: true, strict: true });
    compiled.set(name, t);
  }
  return t(context);
}

/** The Python library files: [relative path inside the export, text]. */
export function pythonLibrary(): [string, string][] {
  const dir = join(torchAssetsDir(), "python", "tune_torch");
  return readdirSync(dir)
    .filter((f) => f.endsWith(".py"))
    .sort()
    .map((f) => [`tune_torch/${f}`, readFileSync(join(dir, f), "utf8")]);
}

/** The environment probe's source (run with `python -c`). */
export function probeSource(): string {
  return readFileSync(join(torchAssetsDir(), "python", "tune_torch", "check_env.py"), "utf8");
}

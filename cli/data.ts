// `tune data <recipe>`: what the model will be trained on, before training
// (runtime/exec/inspect.ts). Runs in a scratch run directory; loads the
// runtime lazily like `tune run`.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { compileRecipe, type Io } from "./commands.js";
import { packageRoot } from "./host.js";

export async function dataCommand(path: string, opts: { stage: string | null; rows: number; smoke: boolean }, io: Io): Promise<number> {
  const c = compileRecipe(path, false, io);
  if (!c?.graph || c.diagnostics.some((d) => d.severity === "error")) return 1;
  const { initBackend } = await import("../runtime/backend/index.js");
  const { inspectData } = await import("../runtime/exec/inspect.js");
  const { scratchEnv } = await import("../runtime/exec/scratch-env.js");
  await initBackend("auto");
  const runDir = mkdtempSync(join(tmpdir(), "tune-data-"));
  const env = scratchEnv({ graph: c.graph, recipePath: resolve(path), packageRoot: packageRoot(), runDir, smoke: opts.smoke, sink: { isTTY: false, write: (t) => io.err(t) } });
  const r = await inspectData(c.graph, env, opts);
  const bad = r.outcomes.filter((o) => o.state !== "done" && o.state !== "cached");
  for (const o of bad) io.err(`${o.state}: ${o.id}: ${o.reason ?? ""}${o.hint ? `\n  = help: ${o.hint}` : ""}\n`);
  if (r.text.trim() === "") {
    io.err(opts.stage ? `error: no stage \`${opts.stage}\` with training data in ${path}\n` : `error: ${path} trains nothing\n`);
    return 1;
  }
  io.out(r.text);
  return bad.some((o) => o.state === "failed") ? 1 : 0;
}

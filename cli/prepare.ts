// The data half for `tune export --executor torch`: compile the recipe, run
// its data nodes in process and render the training examples to JSONL (see
// runtime/exec/prepare.ts). The runtime loads lazily, as for `tune run`.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { Graph } from "../compiler/graph.js";
import { compileRecipe, processIo, UsageError } from "./commands.js";
import { packageRoot } from "./host.js";

export async function prepareDataForExport(recipePath: string): Promise<{ graph: Graph; data: Map<string, { train: string; validation?: string }> }> {
  const c = compileRecipe(recipePath, false, processIo);
  if (!c?.graph || c.diagnostics.some((d) => d.severity === "error")) throw new UsageError(`${recipePath} does not compile; run \`tune lint ${recipePath}\``);
  const { prepareRenderedData } = await import("../runtime/exec/prepare.js");
  const { scratchEnv } = await import("../runtime/exec/scratch-env.js");
  const out = mkdtempSync(join(tmpdir(), "tune-export-data-"));
  const sink = { isTTY: !!process.stderr.isTTY, write: (t: string) => void process.stderr.write(t) };
  const prepared = await prepareRenderedData(c.graph, out, scratchEnv({ graph: c.graph, recipePath: resolve(recipePath), packageRoot: packageRoot(), runDir: out, smoke: false, sink }));
  const failed = prepared.outcomes.filter((o) => o.state !== "done" && o.state !== "cached");
  for (const f of failed) process.stderr.write(`data node ${f.id} ${f.state}: ${f.reason ?? ""}${f.hint ? `\n  = help: ${f.hint}` : ""}\n`);
  if (prepared.data.size === 0 && failed.length > 0) throw new UsageError("the recipe's data could not be prepared (see above)");
  return { graph: c.graph, data: prepared.data };
}

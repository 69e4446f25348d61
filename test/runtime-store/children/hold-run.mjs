// Child: create a run (argv: "create" runsDir graph.json) or open one (argv: "open" runDir), print
// "ready <dir>", then hold it until killed. "open-once" runDir startFile doneFile: see below.
import { readFileSync } from "node:fs";

const { createRun, openRun, StoreError } = await import(process.env.TUNE_STORE_BUNDLE);
const [mode, target, graphPath] = process.argv.slice(2);
const quiet = () => undefined;
if (mode === "open-once") {
  // Race: wait for the start file, try once, print the outcome, hold what we got until the done file appears.
  const [, , startFile, doneFile] = process.argv.slice(2);
  const { existsSync } = await import("node:fs");
  while (!existsSync(startFile)) await new Promise((r) => setTimeout(r, 1));
  try {
    openRun(target, { warn: (w) => console.log(`warn ${w.code}`) });
    console.log("ok");
  } catch (e) {
    console.log(e instanceof StoreError ? `err ${e.code}` : `crash ${e.stack}`);
  }
  while (!existsSync(doneFile)) await new Promise((r) => setTimeout(r, 5));
  process.exit(0);
}
const run =
  mode === "create"
    ? createRun({ runsDir: target, recipeName: "quickstart", recipePath: "recipes/quickstart.tune", recipeText: "recipe quickstart {}\n", graph: JSON.parse(readFileSync(graphPath, "utf8")), tuneVersion: "0.1.0", warn: quiet })
    : openRun(target, { warn: quiet });
console.log(`ready ${run.dir}`);
setInterval(() => undefined, 1000);

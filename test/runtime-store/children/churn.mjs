// Child for the SIGKILL test: writes to the cache and a run directory as fast as it can until killed.
// argv: cacheRoot runsDir graph.json incarnation. Opens the run in runsDir/latest.txt if there is one
// (taking over the dead previous owner's lock), else creates it. Prints "ready" once writing starts.
import { createHash } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { gen } from "./gen.mjs";

const { CacheStore, createRun, openRun } = await import(process.env.TUNE_STORE_BUNDLE);
const [root, runsDir, graphPath, incarnation] = process.argv.slice(2);
const graph = JSON.parse(readFileSync(graphPath, "utf8"));
const quiet = () => undefined;
const latest = join(runsDir, "latest.txt");
let run;
if (existsSync(latest)) run = openRun(readFileSync(latest, "utf8"), { warn: quiet });
else {
  run = createRun({ runsDir, recipeName: "quickstart", recipePath: "recipes/quickstart.tune", recipeText: "recipe quickstart {}\n", graph, tuneVersion: "0.1.0", warn: quiet });
  writeFileSync(latest, run.dir);
}
const cache = new CacheStore({ root, warn: (w) => console.log(`warning ${w.code} ${w.message}`) });
console.log("ready");
for (let i = 0; ; i++) {
  const node = graph.nodes[i % graph.nodes.length];
  run.nodeStarted(node.id);
  const seed = `churn-${incarnation}-${i}`;
  const key = createHash("sha256").update(seed).digest("hex");
  const sizes = [1000 + ((i * 7919) % 300_000), 17, (i * 104729) % 65536];
  await cache.put(
    key,
    async (dir) => {
      await writeFile(join(dir, "a.bin"), gen(`${seed}/a`, sizes[0]));
      await mkdir(join(dir, "d"));
      await writeFile(join(dir, "d", "b.bin"), gen(`${seed}/b`, sizes[1]));
      await writeFile(join(dir, "d", "c.bin"), gen(`${seed}/c`, sizes[2]));
    },
    { op: node.op, nodeId: node.id, recipe: "quickstart", extra: { seed, sizes } },
  );
  await cache.putJson(createHash("sha256").update(seed + "/json").digest("hex"), { seed, i }, { op: "eval_task", nodeId: node.id, recipe: "quickstart" });
  run.metric({ incarnation: Number(incarnation), i, loss: 1 / (i + 1), pad: "x".repeat(i % 300) });
  run.log(`node ${node.id} step ${i}`);
  run.setEnv({ backend: "cpu", step: i });
  run.writeSummary({ loss: 1 / (i + 1), i });
  run.nodeDone(node.id);
}

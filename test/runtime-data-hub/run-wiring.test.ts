// tune run with a hub dataset (after /tmp/hub-wiring.patch): the loopback hub serves two JSON Lines shards; the
// first run downloads them and records the commit in tune.lock, the second reuses the node cache keyed by that
// commit, the third runs with HF_HUB_OFFLINE=1 and the server stopped.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { compile } from "../../compiler/compile.js";
import { fsHost, packageRoot } from "../../cli/host.js";
import { initBackend } from "../../runtime/backend/index.js";
import { runGraph } from "../../runtime/exec/run.js";
import { FakeHub } from "./hub-server.js";

const REC = `import { alpaca } from "std/templates"
import { tiny_llama } from "std/models"
recipe hubby { seed = 1 }
model tiny {
  path = "models/tiny-llama"
  arch = tiny_llama
}
dataset rows {
  hub = "tune-test/mini"
  fields {
    instruction: string
    input: string = ""
    output: string
  }
}
stage sft {
  method = full
  from = tiny
  data = rows
  template = alpaca
  batch = 1
  micro_batch = 1
  lr = 1e-4
  epochs = 1
  cutoff = 128 tokens
}
`;

const ENV_KEYS = ["HF_ENDPOINT", "HF_HUB_CACHE", "HF_HUB_OFFLINE", "TUNE_CACHE"] as const;
const saved = Object.fromEntries(ENV_KEYS.map((k) => [k, process.env[k]]));
afterAll(() => {
  for (const k of ENV_KEYS) {
    if (saved[k] === undefined) delete process.env[k];
    else process.env[k] = saved[k];
  }
});

describe("tune run with a hub dataset", () => {
  it("downloads, pins the commit in tune.lock, reuses the cache, and runs offline", async () => {
    const hub = new FakeHub();
    const commit = hub.commit("tune-test/mini", "v1", {
      "data/train-00000-of-00002.jsonl": { bytes: Buffer.from('{"instruction": "say a", "output": "a"}\n{"instruction": "say b", "output": "b"}\n'), lfs: true },
      "data/train-00001-of-00002.jsonl": { bytes: Buffer.from('{"instruction": "say c", "input": "x", "output": "c"}\n'), lfs: false },
    });
    await hub.start();
    const dir = mkdtempSync(join(tmpdir(), "tune-hubwire-"));
    Object.assign(process.env, { HF_ENDPOINT: hub.url, HF_HUB_CACHE: join(dir, "hf"), TUNE_CACHE: join(dir, "tc") });
    await initBackend("wasm");
    const recipePath = join(dir, "hubby.tune");
    writeFileSync(recipePath, REC);
    const graph = compile(recipePath, REC, fsHost()).graph!;
    const run = async (tag: string) => {
      const s = await runGraph({ graph, recipePath, recipeText: REC, packageRoot: packageRoot(), runsDir: join(dir, "runs"), smoke: false, cache: true, runDir: join(dir, tag), out: { isTTY: false, write: () => undefined } });
      return { s, log: readFileSync(join(s.runDir, "run.log"), "utf8"), lock: JSON.parse(readFileSync(join(s.runDir, "tune.lock"), "utf8")) };
    };

    const first = await run("r1");
    expect(first.s.ok).toBe(true);
    expect(first.log).toContain(`load_data:rows: 3 rows from tune-test/mini@${commit.slice(0, 12)} (data/train-00000-of-00002.jsonl, data/train-00001-of-00002.jsonl)`);
    expect(first.lock.nodes["load_data:rows"].identities.data).toEqual({ kind: "hub", type: "dataset", repo: "tune-test/mini", config: null, split: "train", revision: "main", commit });

    const second = await run("r2");
    expect(second.s.outcomes.find((o) => o.id === "load_data:rows")?.state).toBe("cached");

    await hub.stop();
    process.env["HF_HUB_OFFLINE"] = "1";
    const offline = await run("r3");
    expect(offline.s.ok).toBe(true);
    expect(offline.lock.nodes["load_data:rows"].identities.data.commit).toBe(commit);
    rmSync(dir, { recursive: true, force: true });
  });
});

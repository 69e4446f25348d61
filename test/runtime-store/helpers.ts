// Shared helpers for the storage tests: temp dirs, a real compiled graph, and child processes that run the real
// store code (bundled once with esbuild, since plain `node` cannot import TypeScript).

import { tempDir as sharedTempDir } from "../temp.js";
import { spawn, type ChildProcess } from "node:child_process";
import { join, resolve } from "node:path";
import { build } from "esbuild";
import type { Graph } from "../../compiler/graph.js";
import { compileFile } from "../../cli/commands.js";
import type { StoreWarning } from "../../runtime/store/index.js";

export { cleanupTemps } from "../temp.js";

export function tempDir(tag = "store"): string {
  return sharedTempDir(tag);
}

/** The quickstart recipe compiled for real (its graph and source text). */
export function quickstart(): { graph: Graph; text: string; path: string } {
  const c = compileFile("recipes/quickstart.tune");
  if (!c.graph) throw new Error("quickstart does not compile");
  const text = [...c.program.modules.values()].find((m) => m.path.endsWith("quickstart.tune"))!.text;
  return { graph: c.graph, text, path: "recipes/quickstart.tune" };
}

let bundled: Promise<string> | null = null;

/** runtime/store bundled into one ESM file children can import (built once per test file). */
export function storeBundle(): Promise<string> {
  bundled ??= (async () => {
    const out = join(tempDir("bundle"), "store.mjs");
    await build({
      entryPoints: [resolve("runtime/store/index.ts")],
      outfile: out,
      bundle: true,
      platform: "node",
      format: "esm",
      target: "node20",
      logLevel: "warning",
    });
    return out;
  })();
  return bundled;
}

export interface Child {
  readonly proc: ChildProcess;
  stdout: string;
  stderr: string;
  /** Resolves once stdout contains `marker` (rejects if the child exits first). */
  waitFor(marker: string | RegExp): Promise<void>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Start `node test/runtime-store/children/<script> args…` with TUNE_STORE_BUNDLE set. */
export async function startChild(script: string, args: string[]): Promise<Child> {
  const bundle = await storeBundle();
  const proc = spawn(process.execPath, [resolve("test/runtime-store/children", script), ...args], {
    env: { ...process.env, TUNE_STORE_BUNDLE: bundle },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const waiters: Array<{ marker: string | RegExp; resolve: () => void }> = [];
  const seen = (m: string | RegExp): boolean => (typeof m === "string" ? child.stdout.includes(m) : m.test(child.stdout));
  const child: Child = {
    proc,
    stdout: "",
    stderr: "",
    waitFor: (marker) =>
      new Promise<void>((res, rej) => {
        if (seen(marker)) return res();
        waiters.push({ marker, resolve: res });
        child.exited.then(() => {
          if (!seen(marker)) rej(new Error(`${script} exited before printing ${marker}; stderr: ${child.stderr}`));
        });
      }),
    exited: new Promise((res) => proc.on("exit", (code, signal) => res({ code, signal }))),
  };
  proc.stdout!.on("data", (d: Buffer) => {
    child.stdout += d.toString();
    for (const w of waiters.splice(0)) {
      if (seen(w.marker)) w.resolve();
      else waiters.push(w);
    }
  });
  proc.stderr!.on("data", (d: Buffer) => (child.stderr += d.toString()));
  return child;
}

/** A warning sink that records what it receives. */
export function warnings(): { sink: (w: StoreWarning) => void; seen: StoreWarning[] } {
  const seen: StoreWarning[] = [];
  return { sink: (w) => seen.push(w), seen };
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

// `tune lock <recipe>` and the `tune run --frozen` check. The lock lives in
// the project's tune.lock (the nearest one at or above the current folder,
// shared with the registry's "packages"; --lockfile names another, e.g. a
// run's runs/<id>/tune.lock to reproduce that run). It pins every file by
// sha256 and every hub revision to a commit, the node hashes, tune's version,
// and — after running the data half — the digest of every derived data
// artifact. `--frozen` refuses to start when an input resolves differently,
// and stops a data node whose rows differ from the lock's.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import type { Graph } from "../compiler/graph.js";
import { compileRecipe, type Io } from "./commands.js";
import { packageRoot } from "./host.js";
import { findLock, LOCK_FILE } from "./registry/lockfile.js";

export interface LockOptions {
  smoke: boolean;
  /** Run the data half to record derived-artifact digests. */
  data: boolean;
  cache: boolean;
  lockfile: string | null;
}

/** The lockfile to read/write: --lockfile, else the project's tune.lock (nearest at or above cwd, else ./tune.lock). */
export function lockPathFor(explicit: string | null): string {
  if (explicit) return resolve(explicit);
  return findLock(process.cwd()) ?? join(process.cwd(), LOCK_FILE);
}

export async function lockCommand(path: string, opts: LockOptions, io: Io): Promise<number> {
  const c = compileRecipe(path, false, io);
  if (!c?.graph || c.diagnostics.some((d) => d.severity === "error")) return 1;
  const { lockRecipe } = await import("../runtime/exec/lock-run.js");
  const { scratchEnv } = await import("../runtime/exec/scratch-env.js");
  const { writeLock } = await import("../runtime/store/index.js");
  if (opts.data) {
    const { initBackend } = await import("../runtime/backend/index.js");
    await initBackend("auto");
  }
  const runDir = mkdtempSync(join(tmpdir(), "tune-lock-"));
  try {
    const env = scratchEnv({ graph: c.graph, recipePath: resolve(path), packageRoot: packageRoot(), runDir, smoke: opts.smoke, sink: { isTTY: false, write: (t) => io.err(t) } });
    const { lock, outcomes } = await lockRecipe({ graph: c.graph, recipeText: readFileSync(path, "utf8"), env, data: opts.data, cache: opts.cache });
    const bad = outcomes.filter((o) => o.state !== "done" && o.state !== "cached");
    for (const o of bad) io.err(`${o.state}: ${o.id}: ${o.reason ?? ""}${o.hint ? `\n  = help: ${o.hint}` : ""}\n`);
    if (bad.some((o) => o.state === "failed")) return 1;
    const file = lockPathFor(opts.lockfile);
    await writeLock(file, lock);
    const pinned = Object.values(lock.nodes).reduce((n, x) => n + Object.keys(x.identities).length, 0);
    const digests = Object.values(lock.nodes).reduce((n, x) => n + Object.keys(x.outputs ?? {}).length, 0);
    io.out(`locked ${c.graph.recipe}${opts.smoke ? " (smoke)" : ""} in ${file}: ${lock.graph.slice(0, 12)} graph, ${pinned} inputs pinned, ${digests} derived data digests${opts.data ? "" : " (--no-data)"}\n`);
    return 0;
  } finally {
    rmSync(runDir, { recursive: true, force: true });
  }
}

/**
 * `tune run --frozen`: the lock the run must reproduce, or null after printing why it cannot start (no lockfile,
 * or an input that resolves differently). Runs before any compute.
 */
export async function frozenLock(graph: Graph, recipePath: string, recipeText: string, smoke: boolean, lockfile: string | null, io: Io) {
  const { readLock } = await import("../runtime/store/index.js");
  const { graphLock, inputDifferences } = await import("../runtime/exec/lock.js");
  const file = lockPathFor(lockfile);
  let locked;
  try {
    locked = await readLock(file);
  } catch (e) {
    const err = e as { code?: string; message: string; hint?: string };
    io.err(`error[${err.code ?? "T9201"}]: ${err.message}\n  = help: ${err.hint ?? "regenerate it with `tune lock <recipe>`"}\n`);
    return null;
  }
  if (!locked) {
    io.err(`error[T9204]: --frozen: no lock in ${file}\n  = help: write one with \`tune lock ${recipePath}${smoke ? " --smoke" : ""}\`, or name one with --lockfile (a run's runs/<id>/tune.lock reproduces that run)\n`);
    return null;
  }
  const { SMOKE_LIMITS } = await import("../runtime/exec/run.js");
  const now = await graphLock({ graph, recipeText, ctx: { recipeDir: dirname(resolve(recipePath)), packageRoot: packageRoot(), smoke: smoke ? SMOKE_LIMITS : null } });
  const diffs = inputDifferences(locked, now);
  if (diffs.length > 0) {
    io.err(`error[T9203]: --frozen: ${diffs.length} thing(s) resolve differently than in ${file}:\n${diffs.map((d) => `  ${d}`).join("\n")}\n  = help: undo the change, or accept it with \`tune lock ${recipePath}\`\n`);
    return null;
  }
  io.out(`frozen: every input matches ${file}\n`);
  return locked;
}

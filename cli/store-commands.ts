// `tune cache ls|gc|rm|path` and `tune runs [show|diff]`: the user's view of the node-output cache and of run
// directories. Each command is a function returning an exit code and printing through `Io`, so tests call them
// in-process; `registerStoreCommands` wires them into commander. Errors print as `error[T9xxx]` + help and exit 2,
// never as a stack trace (codes are defined in runtime/store/errors.ts).
import type { Command } from "commander";
import { existsSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { basename, join } from "node:path";
import {
  asStoreError,
  CacheStore,
  diffLocks,
  formatBytes,
  graphChanges,
  headlineMetrics,
  listRuns,
  parseLock,
  parseSize,
  readRunGraph,
  renderLockDiff,
  resolveRun,
  RUN_FILES,
  type RunInfo,
} from "../runtime/store/index.js";
import { processIo, type Io } from "./commands.js";
import { lineDiff } from "./diff.js";

export interface StoreCommandOptions {
  /** Cache root; defaults to $TUNE_CACHE or ~/.cache/tune. */
  readonly cacheRoot?: string;
  /** Fixed "now" for tests (relative times). */
  readonly now?: Date;
}

/** Run a command body; StoreErrors and I/O failures become `error[T9xxx]` + help and exit 2. */
async function guarded(io: Io, body: () => Promise<number> | number): Promise<number> {
  try {
    return await body();
  } catch (e) {
    io.err(asStoreError(e).render());
    return 2;
  }
}

const cacheOf = (opts: StoreCommandOptions): CacheStore => new CacheStore({ root: opts.cacheRoot });

/** Where runtime/exec/eval-request-cache.ts keeps one JSONL file of eval requests per model identity. */
const EVAL_REQUESTS = "eval-requests";

function evalRequestFiles(root: string): { path: string; bytes: number; mtimeMs: number }[] {
  const dir = join(root, EVAL_REQUESTS);
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith(".jsonl"))
    .map((f) => {
      const st = statSync(join(dir, f));
      return { path: join(dir, f), bytes: st.size, mtimeMs: st.mtimeMs };
    });
}

// ---- tune cache

export function cacheLsCommand(opts: StoreCommandOptions & { json?: boolean }, io: Io): Promise<number> {
  return guarded(io, async () => {
    const cache = cacheOf(opts);
    const entries = await cache.ls();
    if (opts.json) {
      io.out(JSON.stringify(entries.map((e) => ({ ...e, lastUsed: e.lastUsed.toISOString() })), null, 2) + "\n");
      return 0;
    }
    const requests = evalRequestFiles(cache.root);
    const requestLine = requests.length > 0 ? `eval request caches: ${requests.length} model(s), ${formatBytes(requests.reduce((n, f) => n + f.bytes, 0))} in ${join(cache.root, EVAL_REQUESTS)}\n` : "";
    if (entries.length === 0) {
      io.out(`cache is empty (${cache.root})\n${requestLine}`);
      return 0;
    }
    const now = opts.now ?? new Date();
    const rows = entries.map((e) => [e.key.slice(0, 12), formatBytes(e.bytes), ago(e.lastUsed, now), e.op, e.nodeId + (e.problem ? `  (unreadable: ${e.problem})` : ""), e.recipe]);
    io.out(table(["KEY", "SIZE", "USED", "OP", "NODE", "RECIPE"], rows, [false, true]));
    const total = entries.reduce((s, e) => s + e.bytes, 0);
    io.out(`${entries.length} entr${entries.length === 1 ? "y" : "ies"}, ${formatBytes(total)} in ${cache.root}\n`);
    io.out(requestLine);
    return 0;
  });
}

export function cacheGcCommand(opts: StoreCommandOptions & { budget?: string; dryRun?: boolean }, io: Io): Promise<number> {
  return guarded(io, async () => {
    const budgetBytes = opts.budget === undefined ? Number.POSITIVE_INFINITY : parseSize(opts.budget);
    const report = await cacheOf(opts).gc({ budgetBytes, dryRun: opts.dryRun, now: opts.now });
    const verb = opts.dryRun ? "would remove" : "removed";
    for (const e of report.removed) io.out(`${verb} ${e.key.slice(0, 12)}  ${formatBytes(e.bytes).padStart(8)}  ${e.nodeId}\n`);
    io.out(`${verb} ${report.removed.length} entr${report.removed.length === 1 ? "y" : "ies"} (${formatBytes(report.freedBytes)})`);
    if (report.scratchBytes > 0) io.out(` and ${formatBytes(report.scratchBytes)} of temp/quarantined data`);
    io.out(`; kept ${report.keptEntries} (${formatBytes(report.keptBytes)})`);
    io.out(opts.budget === undefined ? "; no --budget given, so no entry was evicted\n" : ` within a budget of ${formatBytes(budgetBytes)}\n`);
    // Per-model eval request caches count against the same budget; the least recently written go first.
    if (opts.budget !== undefined) {
      let over = report.keptBytes + evalRequestFiles(cacheOf(opts).root).reduce((n, f) => n + f.bytes, 0) - budgetBytes;
      for (const f of evalRequestFiles(cacheOf(opts).root).sort((a, b) => a.mtimeMs - b.mtimeMs)) {
        if (over <= 0) break;
        if (!opts.dryRun) rmSync(f.path, { force: true });
        io.out(`${verb} eval request cache ${basename(f.path)}  ${formatBytes(f.bytes)}\n`);
        over -= f.bytes;
      }
    }
    return 0;
  });
}

export function cacheRmCommand(prefixes: readonly string[], opts: StoreCommandOptions, io: Io): Promise<number> {
  return guarded(io, async () => {
    const cache = cacheOf(opts);
    let count = 0;
    for (const prefix of prefixes) {
      const removed = await cache.rm({ prefix });
      for (const e of removed) io.out(`removed ${e.key.slice(0, 12)}  ${formatBytes(e.bytes).padStart(8)}  ${e.nodeId}\n`);
      count += removed.length;
    }
    io.out(`removed ${count} entr${count === 1 ? "y" : "ies"}\n`);
    return 0;
  });
}

export function cachePathCommand(opts: StoreCommandOptions, io: Io): Promise<number> {
  return guarded(io, () => {
    io.out(cacheOf(opts).root + "\n");
    return 0;
  });
}

// ---- tune runs

export interface RunsOptions extends StoreCommandOptions {
  readonly runsDir?: string;
}

const runsDirOf = (opts: RunsOptions): string => opts.runsDir ?? "runs";

export function runsListCommand(opts: RunsOptions, io: Io): Promise<number> {
  return guarded(io, () => {
    const dir = runsDirOf(opts);
    // A missing default ./runs just means "no runs yet"; a missing --runs-dir is an error (T9106).
    const runs: RunInfo[] = opts.runsDir === undefined && !existsSync(dir) ? [] : listRuns(dir);
    if (runs.length === 0) {
      io.out(`no runs in ${dir}\n`);
      return 0;
    }
    const rows = runs.map((r) => [r.id, stateText(r), r.startedAt ? stamp(r.startedAt) : "-", r.durationMs === null ? "-" : duration(r.durationMs), metricsText(headlineMetrics(r.dir), 4)]);
    io.out(table(["RUN", "STATUS", "STARTED (UTC)", "DURATION", "METRICS"], rows, [false, false, false, true]));
    return 0;
  });
}

export function runsShowCommand(ref: string, opts: RunsOptions, io: Io): Promise<number> {
  return guarded(io, () => {
    const r = resolveRun(runsDirOf(opts), ref);
    io.out(`run ${r.id}\n`);
    const field = (k: string, v: string): void => io.out(`  ${k.padEnd(9)} ${v}\n`);
    field("dir", r.dir);
    if (!r.status) {
      field("status", `unreadable: ${r.problem}`);
      return 0;
    }
    const s = r.status;
    field("recipe", `${s.recipe} (${s.recipePath})`);
    field("status", stateText(r) + (s.error ? `: ${s.error}` : ""));
    field("started", stamp(new Date(s.startedAt)) + (s.resumes ? `, resumed ${s.resumes}×` : ""));
    if (r.durationMs !== null) field("duration", duration(r.durationMs));
    field("graph", `${s.graphHash.slice(0, 12)} (${Object.keys(s.nodes).length} nodes)`);
    const env = readJsonOrNull(join(r.dir, RUN_FILES.env));
    if (env) field("env", envText(env));
    io.out("nodes\n");
    for (const [id, n] of Object.entries(s.nodes)) {
      io.out(`  ${n.state.padEnd(8)} ${(n.durationMs === null ? "" : duration(n.durationMs)).padStart(8)}  ${id}${n.error ? `: ${n.error}` : ""}\n`);
    }
    const metrics = headlineMetrics(r.dir);
    if (metrics.length > 0) {
      io.out("metrics\n");
      for (const [k, v] of metrics) io.out(`  ${k} = ${num(v)}\n`);
    }
    return 0;
  });
}

export function runsDiffCommand(refA: string, refB: string, opts: RunsOptions, io: Io): Promise<number> {
  return guarded(io, () => {
    const a = resolveRun(runsDirOf(opts), refA);
    const b = resolveRun(runsDirOf(opts), refB);
    io.out(`diff ${a.id} → ${b.id}\n\n`);
    // recipe
    const ra = readText(join(a.dir, RUN_FILES.recipe));
    const rb = readText(join(b.dir, RUN_FILES.recipe));
    io.out("recipe\n");
    if (ra === rb) io.out("  identical\n");
    else io.out([`--- ${a.id}/${RUN_FILES.recipe}`, `+++ ${b.id}/${RUN_FILES.recipe}`, ...lineDiff("", ra, rb).split("\n").slice(2)].join("\n"));
    // graph
    const ga = readRunGraph(a.dir);
    const gb = readRunGraph(b.dir);
    io.out("\ngraph\n");
    if (!ga || !gb) io.out("  (graph.json missing in one of the runs)\n");
    else {
      const c = graphChanges(ga, gb);
      if (!c.seedChanged && c.added.length + c.removed.length + c.changed.length === 0) io.out("  identical\n");
      if (c.seedChanged) io.out(`  seed ${ga.seed} → ${gb.seed}\n`);
      for (const id of c.changed) io.out(`  ~ ${id}\n`);
      for (const id of c.added) io.out(`  + ${id}\n`);
      for (const id of c.removed) io.out(`  - ${id}\n`);
    }
    // lockfile
    io.out("\nlockfile\n");
    const la = readLockOrNull(a.dir);
    const lb = readLockOrNull(b.dir);
    if (!la || !lb) io.out(`  (no ${RUN_FILES.tuneLock} in ${!la && !lb ? "either run" : !la ? a.id : b.id})\n`);
    else {
      const changes = diffLocks(la, lb);
      io.out(changes.length === 0 ? "  identical\n" : renderLockDiff(changes).replace(/^/gm, "  "));
    }
    // metrics
    io.out("\nmetrics\n");
    io.out(metricsDiff(headlineMetrics(a.dir), headlineMetrics(b.dir)));
    return 0;
  });
}

function metricsDiff(a: Array<[string, number]>, b: Array<[string, number]>): string {
  const ma = new Map(a);
  const mb = new Map(b);
  const keys = [...new Set([...ma.keys(), ...mb.keys()])];
  if (keys.length === 0) return "  (no metrics in either run)\n";
  const rows = keys.map((k) => {
    const x = ma.get(k);
    const y = mb.get(k);
    const delta = x === undefined || y === undefined ? "" : y === x ? "0" : (y > x ? "+" : "") + num(y - x);
    return [k, x === undefined ? "-" : num(x), y === undefined ? "-" : num(y), delta];
  });
  return table(["METRIC", "A", "B", "Δ"], rows, [false, true, true, true], "  ");
}

// ---- commander wiring

/** Adds `tune cache …` and `tune runs …` to the program; `setExit` receives each command's exit code. */
export function registerStoreCommands(program: Command, setExit: (code: number) => void, io: Io = processIo): void {
  const cache = program.command("cache").description("inspect and clean the node-output cache ($TUNE_CACHE, default ~/.cache/tune)");
  cache
    .command("ls")
    .description("list cache entries with size and last use")
    .option("--json", "machine-readable output")
    .action(async (o: { json?: boolean }) => setExit(await cacheLsCommand({ json: !!o.json }, io)));
  cache
    .command("gc")
    .description("remove abandoned temp data, then least-recently-used entries until the cache fits the budget")
    .option("--budget <size>", "keep at most this much (10GB, 500MB, 2GiB)")
    .option("--dry-run", "say what would be removed; remove nothing")
    .action(async (o: { budget?: string; dryRun?: boolean }) => setExit(await cacheGcCommand({ budget: o.budget, dryRun: !!o.dryRun }, io)));
  cache
    .command("rm")
    .description("remove the entries whose key starts with each prefix (at least 4 hex digits)")
    .argument("<key-prefix...>", "key prefixes as shown by `tune cache ls`")
    .action(async (prefixes: string[]) => setExit(await cacheRmCommand(prefixes, {}, io)));
  cache
    .command("path")
    .description("print the cache directory")
    .action(async () => setExit(await cachePathCommand({}, io)));

  const runs = program
    .command("runs")
    .description("list runs with status, duration and headline metrics")
    .option("--runs-dir <dir>", "directory holding the runs", "runs")
    .action(async (o: { runsDir: string }) => setExit(await runsListCommand({ runsDir: explicitDir(runs, o.runsDir) }, io)));
  runs
    .command("show")
    .description("show one run: status, per-node state and durations, environment, metrics")
    .argument("<run>", "run id, unique id prefix, or path")
    .action(async (ref: string) => setExit(await runsShowCommand(ref, { runsDir: runs.opts().runsDir }, io)));
  runs
    .command("diff")
    .description("what changed between two runs: recipe text, graph, lockfile, metrics")
    .argument("<a>", "first run")
    .argument("<b>", "second run")
    .action(async (a: string, b: string) => setExit(await runsDiffCommand(a, b, { runsDir: runs.opts().runsDir }, io)));
}

/** The --runs-dir value, or undefined when it is the default (a missing default dir just means "no runs yet"). */
function explicitDir(cmd: Command, value: string): string | undefined {
  return cmd.getOptionValueSource("runsDir") === "default" ? undefined : value;
}

// ---- formatting

function stateText(r: RunInfo): string {
  if (r.killed) return "interrupted (killed)";
  if (r.owner && r.state === "running") return `running (pid ${r.owner.pid})`;
  return r.state;
}

/** `tune 0.1.0, node v20.1.0, linux x64 (8 cpus), backend wasm, device cpu, seed 42` + any other keys. */
function envText(env: Record<string, unknown>): string {
  const { tune, node, platform, arch, cpus, backend, device, seed, ...rest } = env;
  const parts = [`tune ${tune}`, `node ${node}`, `${platform} ${arch} (${cpus} cpus)`];
  if (backend != null) parts.push(`backend ${backend}`);
  if (device != null) parts.push(`device ${device}`);
  parts.push(`seed ${seed}`);
  for (const [k, v] of Object.entries(rest)) if (v !== null) parts.push(`${k} ${typeof v === "object" ? JSON.stringify(v) : String(v)}`);
  return parts.join(", ");
}

function metricsText(m: Array<[string, number]>, max: number): string {
  return m.slice(0, max).map(([k, v]) => `${k}=${num(v)}`).join(" ");
}

function num(v: number): string {
  if (Number.isInteger(v)) return String(v);
  const a = Math.abs(v);
  return a !== 0 && (a < 1e-3 || a >= 1e6) ? v.toExponential(3) : String(Number(v.toPrecision(4)));
}

export function duration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${String(Math.floor(s % 60)).padStart(2, "0")}s`;
  return `${Math.floor(m / 60)}h ${String(m % 60).padStart(2, "0")}m`;
}

function ago(t: Date, now: Date): string {
  const ms = Math.max(0, now.getTime() - t.getTime());
  if (ms < 60_000) return "just now";
  if (ms < 3_600_000) return `${Math.floor(ms / 60_000)}m ago`;
  if (ms < 86_400_000) return `${Math.floor(ms / 3_600_000)}h ago`;
  return `${Math.floor(ms / 86_400_000)}d ago`;
}

const stamp = (d: Date): string => d.toISOString().replace("T", " ").replace(/\.\d{3}Z$/, "Z");

function table(head: string[], rows: string[][], rightAlign: boolean[] = [], indent = ""): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]): string =>
    indent +
    cells
      .map((c, i) => (i === cells.length - 1 ? c : rightAlign[i] ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join("  ")
      .trimEnd() +
    "\n";
  return [head, ...rows].map(line).join("");
}

function readText(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return "";
  }
}

function readJsonOrNull(path: string): Record<string, unknown> | null {
  try {
    return JSON.parse(readFileSync(path, "utf8")) as Record<string, unknown>;
  } catch {
    return null;
  }
}

function readLockOrNull(dir: string): ReturnType<typeof parseLock> | null {
  const text = readText(join(dir, RUN_FILES.tuneLock));
  return text ? parseLock(text, join(dir, RUN_FILES.tuneLock)) : null;
}

// Launch an exported torch project (`bash launch.sh`) and stream its progress lines back to tune.
//
// Why this exists: `tune run --executor torch` must show the same progress bar and write the same
// metrics.jsonl as the in-process executor, and Ctrl-C must leave a resumable checkpoint, not a killed job.
// The programs print `TUNE_METRIC {json}` / `TUNE_EVENT {json}` lines (tune_torch/common.py); everything else
// is passed through as plain output. launch.sh runs in its own process group so that SIGINT reaches every
// process of the job at once (bash, accelerate, each rank); the ranks agree to stop after the current step,
// save a checkpoint and exit 130.
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { execa } from "execa";
import { TorchError } from "./errors.js";

export const METRIC_PREFIX = "TUNE_METRIC ";
export const EVENT_PREFIX = "TUNE_EVENT ";

export type ProgressRecord = Record<string, unknown>;

export interface LaunchOptions {
  onMetric?: (m: ProgressRecord) => void;
  onEvent?: (e: ProgressRecord) => void;
  /** Every other output line (stdout and stderr), without its newline. */
  onLine?: (line: string, stream: "stdout" | "stderr") => void;
  /** Abort → SIGINT to the job (checkpoint and stop); a second abort is not needed: see `killAfterMs`. */
  signal?: AbortSignal;
  /** Forward this process's own SIGINT to the job while it runs (default true). */
  forwardSigint?: boolean;
  /** After an interrupt, SIGKILL the job if it has not exited within this time (default: never). */
  killAfterMs?: number;
  /** Extra environment (e.g. TUNE_MODEL_TINY, HF_HUB_OFFLINE). */
  env?: Record<string, string>;
  /** Arguments for launch.sh (e.g. ["--dry-run"]). */
  args?: string[];
  /** Script to run (default launch.sh). */
  script?: string;
}

export interface LaunchResult {
  exitCode: number;
  /** SIGINT was forwarded (abort or Ctrl-C). */
  interrupted: boolean;
  metrics: number;
  events: number;
  /** Lines that carried a prefix but no valid JSON object. */
  malformed: number;
}

/** Parse one output line: a metric, an event, or plain text. */
export function parseProgressLine(line: string): { kind: "metric" | "event"; record: ProgressRecord } | { kind: "text" } | { kind: "malformed" } {
  const kind = line.startsWith(METRIC_PREFIX) ? "metric" : line.startsWith(EVENT_PREFIX) ? "event" : null;
  if (!kind) return { kind: "text" };
  try {
    const v: unknown = JSON.parse(line.slice((kind === "metric" ? METRIC_PREFIX : EVENT_PREFIX).length));
    if (v === null || typeof v !== "object" || Array.isArray(v)) return { kind: "malformed" };
    return { kind, record: v as ProgressRecord };
  } catch {
    return { kind: "malformed" };
  }
}

export async function launchTorchProject(dir: string, opts: LaunchOptions = {}): Promise<LaunchResult> {
  const root = resolve(dir);
  const script = opts.script ?? "launch.sh";
  if (!existsSync(join(root, script))) {
    throw new TorchError("T7630", `${root} has no ${script}: it is not an exported torch project`, "create one with `tune export <recipe> --executor torch -o DIR`");
  }
  const result: LaunchResult = { exitCode: 0, interrupted: false, metrics: 0, events: 0, malformed: 0 };
  const child = execa("bash", [script, ...(opts.args ?? [])], {
    cwd: root,
    env: { ...opts.env, PYTHONUNBUFFERED: "1" },
    detached: true,
    reject: false,
    stdin: "ignore",
    buffer: false,
    lines: false,
    cleanup: true,
  });
  const handle = (line: string, stream: "stdout" | "stderr"): void => {
    const parsed = parseProgressLine(line);
    if (parsed.kind === "metric") {
      result.metrics++;
      opts.onMetric?.(parsed.record);
    } else if (parsed.kind === "event") {
      result.events++;
      opts.onEvent?.(parsed.record);
    } else {
      if (parsed.kind === "malformed") result.malformed++;
      opts.onLine?.(line, stream);
    }
  };
  const pump = (stream: NodeJS.ReadableStream | null, name: "stdout" | "stderr"): Promise<void> =>
    new Promise((done) => {
      if (!stream) return done();
      let rest = "";
      stream.setEncoding("utf8");
      stream.on("data", (chunk: string) => {
        rest += chunk;
        let i: number;
        while ((i = rest.indexOf("\n")) >= 0) {
          handle(rest.slice(0, i).replace(/\r$/, ""), name);
          rest = rest.slice(i + 1);
        }
      });
      stream.on("end", () => {
        if (rest) handle(rest, name);
        done();
      });
      stream.on("error", () => done());
    });
  let killTimer: NodeJS.Timeout | undefined;
  const interrupt = (): void => {
    result.interrupted = true;
    if (child.pid === undefined) return;
    try {
      process.kill(-child.pid, "SIGINT");
    } catch {
      // the group is already gone
    }
    if (opts.killAfterMs !== undefined && !killTimer) {
      killTimer = setTimeout(() => {
        try {
          process.kill(-child.pid!, "SIGKILL");
        } catch {
          // exited meanwhile
        }
      }, opts.killAfterMs);
    }
  };
  const onAbort = (): void => interrupt();
  if (opts.signal?.aborted) interrupt();
  opts.signal?.addEventListener("abort", onAbort);
  const forward = opts.forwardSigint !== false;
  if (forward) process.on("SIGINT", interrupt);
  try {
    const [done] = await Promise.all([child, pump(child.stdout, "stdout"), pump(child.stderr, "stderr")]);
    if (done.failed && done.exitCode === undefined && (done as { code?: string }).code === "ENOENT") {
      throw new TorchError("T7631", "bash could not be started", "install bash (launch.sh is a bash script)");
    }
    result.exitCode = done.exitCode ?? (done.signal ? 128 + signalNumber(done.signal) : 1);
  } finally {
    opts.signal?.removeEventListener("abort", onAbort);
    if (forward) process.off("SIGINT", interrupt);
    if (killTimer) clearTimeout(killTimer);
  }
  return result;
}

function signalNumber(name: string): number {
  const table: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGKILL: 9, SIGTERM: 15 };
  return table[name] ?? 0;
}

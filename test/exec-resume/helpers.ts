// Helpers for the kill-and-resume tests: the real CLI bundled once (esbuild, as
// `npm run build` does) so a child process runs today's sources, and child
// runs that can be killed when a marker appears on stdout or a file appears.
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { build } from "esbuild";
import { cleanupTemps, removeLater, tempDir } from "../temp.js";
// @ts-expect-error: a plain .mjs module without types (scripts/ holds the build scripts)
import { cliBundleOptions } from "../../scripts/bundle-options.mjs";

export { tempDir };
export const cleanup = cleanupTemps;

/** cli/main.ts bundled into dist/ (inside the repo, so its external packages resolve from node_modules). */
export async function bundleCli(): Promise<string> {
  const out = resolve("dist", `test-cli-${process.pid}-${Date.now()}`);
  removeLater(out);
  await build(cliBundleOptions(resolve("cli/main.ts"), out));
  const entry = join(out, "entry.mjs");
  writeFileSync(entry, `import { main } from "./tune.mjs";\nprocess.exitCode = await main(process.argv.slice(2));\n`);
  return entry;
}

export interface ChildRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
}

export interface KillWhen {
  /** Send `signal` once stdout contains this text … */
  stdout?: string;
  /** … or once this returns true (polled every 20 ms). */
  check?: () => boolean;
  signal: NodeJS.Signals;
}

/** Run `node entry args…` in the repo with $TUNE_CACHE = cache; optionally signal it when a condition holds. */
export function runCli(entry: string, args: string[], cache: string, kill?: KillWhen): Promise<ChildRun> {
  return new Promise((done, fail) => {
    const child: ChildProcess = spawn(process.execPath, [entry, ...args], { cwd: resolve("."), env: { ...process.env, TUNE_CACHE: cache, NO_COLOR: "1" }, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let sent = false;
    const fire = (): void => {
      if (sent || !kill) return;
      sent = true;
      child.kill(kill.signal);
    };
    const poll = kill?.check ? setInterval(() => kill.check!() && fire(), 20) : null;
    child.stdout!.on("data", (b: Buffer) => {
      stdout += b.toString();
      if (kill?.stdout && stdout.includes(kill.stdout)) fire();
    });
    child.stderr!.on("data", (b: Buffer) => (stdout += b.toString()));
    child.on("error", fail);
    child.on("close", (code, signal) => {
      if (poll) clearInterval(poll);
      done({ code, signal, stdout });
    });
  });
}

/** The only run directory under `runsDir`. */
export function onlyRun(runsDir: string): string {
  const dirs = readdirSync(runsDir).filter((d) => !d.startsWith("."));
  if (dirs.length !== 1) throw new Error(`expected one run in ${runsDir}, found ${dirs.join(", ") || "none"}`);
  return join(runsDir, dirs[0]!);
}

export function checkpointExists(runsDir: string, stage: string, step: number): boolean {
  if (!existsSync(runsDir)) return false;
  return readdirSync(runsDir).some((d) => existsSync(join(runsDir, d, "checkpoints", stage, `checkpoint-${step}`)));
}

/** metrics.jsonl without the fields that measure time (time stamps, tokens/s): what two equal runs share. */
export function metricsWithoutTiming(runDir: string): Record<string, unknown>[] {
  return readFileSync(join(runDir, "metrics.jsonl"), "utf8")
    .split("\n")
    .filter((l) => l.trim())
    .map((l) => {
      const r = JSON.parse(l) as Record<string, unknown>;
      delete r["time"];
      delete r["tokens_per_second"];
      return r;
    });
}

// Builds tune's optional native kernels (native/*.c → native/build/tune_native.node).
//
// Why this exists: the addon makes in-process training ~2.5× faster (BENCHMARKS.md) but needs a C compiler, Node's
// headers and an x86-64 CPU. It runs at `npm install` (postinstall) and never fails the install: when something is
// missing it prints one line saying what, and tune keeps using the wasm kernels. No node-gyp, no download: the
// only header needed (node_api.h) ships with Node itself.
//
// Usage: node scripts/build-native.mjs [--force] [--quiet]
//   env CC (compiler, default cc), TUNE_NATIVE_BUILD=0 (skip).

import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const nativeDir = path.join(root, "native");
const outDir = path.join(root, "native", "build");
const target = path.join(outDir, "tune_native.node");
const stampFile = path.join(outDir, "stamp.json");
const force = process.argv.includes("--force");
const quiet = process.argv.includes("--quiet");

function say(line) {
  if (!quiet) console.log(`tune native kernels: ${line}`);
}

/** Directories that may hold node_api.h: Node's own install prefix first, then distribution packages. */
function headerDir() {
  const candidates = [
    path.join(path.dirname(path.dirname(process.execPath)), "include", "node"),
    "/usr/include/node",
    "/usr/local/include/node",
  ];
  return candidates.find((dir) => fs.existsSync(path.join(dir, "node_api.h"))) ?? null;
}

/** The addon's C sources and header, sorted (empty when the folder is missing). */
function sources() {
  if (!fs.existsSync(nativeDir)) return [];
  return fs.readdirSync(nativeDir).filter((f) => f.endsWith(".c") || f.endsWith(".h")).sort().map((f) => path.join(nativeDir, f));
}

function flags(include, files) {
  const common = ["-O3", "-std=gnu11", "-fPIC", "-shared", "-ffp-contract=off", "-fno-math-errno", "-fvisibility=hidden", "-I", include];
  const link = process.platform === "darwin" ? ["-undefined", "dynamic_lookup"] : [];
  return [...common, ...link, ...files.filter((f) => f.endsWith(".c")), "-o"];
}

function main() {
  if (process.env.TUNE_NATIVE_BUILD === "0") return say("skipped (TUNE_NATIVE_BUILD=0); the wasm kernels will be used");
  if (process.arch !== "x64") return say(`skipped: needs x86-64 (this is ${process.arch}); the wasm kernels will be used`);
  if (process.platform === "win32") return say("skipped on Windows; the wasm kernels will be used");
  const files = sources();
  if (!files.some((f) => f.endsWith(".c"))) return say("skipped: native/*.c is missing");
  const include = headerDir();
  if (!include) return say("skipped: node_api.h not found next to this Node; the wasm kernels will be used");
  const cc = process.env.CC || "cc";
  const sourcesHash = createHash("sha256");
  for (const f of files) sourcesHash.update(path.basename(f)).update(fs.readFileSync(f));
  const sourceDigest = sourcesHash.digest("hex");
  const digest = createHash("sha256").update(sourceDigest).update(JSON.stringify(flags(include, files))).update(cc).digest("hex");
  if (!force && fs.existsSync(target) && readStamp() === digest) return say(`up to date (${path.relative(root, target)})`);
  fs.mkdirSync(outDir, { recursive: true });
  const temp = `${target}.${process.pid}.tmp`;
  try {
    execFileSync(cc, [...flags(include, files), temp, "-lpthread", "-lm"], { stdio: ["ignore", "pipe", "pipe"] });
    fs.renameSync(temp, target);
    fs.writeFileSync(`${stampFile}.tmp`, JSON.stringify({ sha256: digest, sources: sourceDigest, cc, node: process.version }) + "\n");
    fs.renameSync(`${stampFile}.tmp`, stampFile);
    say(`built ${path.relative(root, target)} with ${cc}`);
  } catch (err) {
    fs.rmSync(temp, { force: true });
    const stderr = err && typeof err === "object" && err.stderr ? String(err.stderr).trim().split("\n")[0] : "";
    const detail = err && typeof err === "object" && err.code === "ENOENT" ? "compiler not found" : stderr || String(err);
    say(`not built (${cc}: ${detail}); the wasm kernels will be used`);
  }
}

function readStamp() {
  try {
    return JSON.parse(fs.readFileSync(stampFile, "utf8")).sha256;
  } catch {
    return null;
  }
}

// Whatever goes wrong, never fail the install: say so and let tune use the wasm kernels.
try {
  main();
} catch (err) {
  say(`not built (${err instanceof Error ? err.message.split("\n")[0] : String(err)}); the wasm kernels will be used`);
}

// scripts/build-native.mjs never fails an install: a missing compiler, a skip request or an up-to-date build each
// print one line and exit 0, and a failed rebuild leaves the previous addon in place.
//
// Why this exists: the script runs as `postinstall`; a non-zero exit there would break `npm install` for every
// user without a C compiler, and a half-written addon would crash the first `tune run`.

import { execFile } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { dirname, join } from "node:path";
import { nativeAddonPath, nativeSourcesDigest } from "../../runtime/backend/native.js";

const run = (env: Record<string, string>, args: string[] = []) =>
  promisify(execFile)(process.execPath, ["scripts/build-native.mjs", ...args], { env: { ...process.env, ...env }, encoding: "utf8" });

describe("scripts/build-native.mjs", () => {
  it("TUNE_NATIVE_BUILD=0 skips with a message and exit 0", async () => {
    const { stdout } = await run({ TUNE_NATIVE_BUILD: "0" });
    expect(stdout).toMatch(/skipped \(TUNE_NATIVE_BUILD=0\); the wasm kernels will be used/);
  });

  it("a compiler that does not exist: exit 0, says so, and an existing addon is left untouched", async () => {
    const file = nativeAddonPath();
    const before = existsSync(file) ? readFileSync(file) : null;
    const { stdout } = await run({ CC: "/nonexistent/cc" }, ["--force"]);
    if (process.arch === "x64" && process.platform !== "win32") {
      expect(stdout).toMatch(/not built \(\/nonexistent\/cc: compiler not found\); the wasm kernels will be used/);
    } else {
      expect(stdout).toMatch(/skipped/);
    }
    const after = existsSync(file) ? readFileSync(file) : null;
    expect(after === null ? null : Buffer.compare(after, before!)).toBe(before === null ? null : 0);
  });

  const stamp = join(dirname(nativeAddonPath()), "stamp.json");
  // Skipped where nothing was built (no compiler): the loader then reports "not built".
  it.skipIf(!existsSync(stamp))("the stamp records the digest of native/*.c,*.h that the loader recomputes to spot a stale addon", () => {
    const file = nativeAddonPath();
    const { sources } = JSON.parse(readFileSync(stamp, "utf8")) as { sources: string };
    expect(sources).toBe(nativeSourcesDigest(dirname(dirname(file))));
    expect(sources).toMatch(/^[0-9a-f]{64}$/);
  });
});

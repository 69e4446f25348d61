#!/usr/bin/env node
// Entry point of the `tune` command: runs the bundled CLI, dist/bundle/tune.mjs (built by `npm install` / `npm run build`;
// one file so startup does not pay for resolving hundreds of dependency modules).
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const entry = join(root, "dist", "bundle", "tune.mjs");
if (!existsSync(entry)) {
  process.stderr.write("error: tune is not built yet; run `npm install` (or `npm run build`) in " + root + "\n");
  process.exit(2);
}
const { main } = await import(pathToFileURL(entry).href);
process.exitCode = await main(process.argv.slice(2));

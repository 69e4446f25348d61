// Bundles the CLI into one ESM file (dist/tune.mjs). Why: chevrotain pulls in
// lodash-es as ~600 separate ES modules, and resolving them costs ~0.5 s on
// every `tune` start; one bundled file starts in a fraction of that (see
// BENCHMARKS.md). tfjs and the tokenizer stay external: they load native/wasm
// files relative to their own packages, and only `tune run` needs them.
import { rmSync } from "node:fs";
import { build } from "esbuild";

// Chunk names are content hashes: clear the old ones so dist/ does not grow with every build.
rmSync("dist/bundle", { recursive: true, force: true });

await build({
  entryPoints: ["cli/main.ts"],
  // Code splitting keeps `tune run`'s runtime (and tfjs, loaded by it) in chunks that
  // only load when a command imports them; lint/fmt/plan never pay for them.
  entryNames: "tune",
  outdir: "dist/bundle",
  outExtension: { ".js": ".mjs" },
  splitting: true,
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  // pacote and friends read files relative to __dirname (CommonJS) and must stay in node_modules.
  external: ["@tensorflow/*", "@huggingface/*", "hyparquet", "hyparquet-compressors", "csv-parse", "pacote", "libnpmpublish", "npm-registry-fetch", "tar"],
  // CommonJS dependencies (commander, handlebars) call require() for node builtins.
  banner: { js: 'import { createRequire as __tuneCreateRequire } from "node:module"; const require = __tuneCreateRequire(import.meta.url);' },
  sourcemap: "linked",
  logLevel: "warning",
});

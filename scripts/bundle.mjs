// Bundles the CLI into one ESM file (dist/tune.mjs). Why: chevrotain pulls in
// lodash-es as ~600 separate ES modules, and resolving them costs ~0.5 s on
// every `tune` start; one bundled file starts in a fraction of that (see
// BENCHMARKS.md). tfjs and the tokenizer stay external: they load native/wasm
// files relative to their own packages, and only `tune run` needs them.
import { build } from "esbuild";

await build({
  entryPoints: ["cli/main.ts"],
  outfile: "dist/tune.mjs",
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  external: ["@tensorflow/*", "@huggingface/*", "hyparquet", "hyparquet-compressors", "csv-parse"],
  // CommonJS dependencies (commander, handlebars) call require() for node builtins.
  banner: { js: 'import { createRequire as __tuneCreateRequire } from "node:module"; const require = __tuneCreateRequire(import.meta.url);' },
  sourcemap: "linked",
  logLevel: "warning",
});

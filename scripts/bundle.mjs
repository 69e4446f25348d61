// Bundles the CLI into one ESM file (dist/tune.mjs). Why: chevrotain pulls in
// lodash-es as ~600 separate ES modules, and resolving them costs ~0.5 s on
// every `tune` start; one bundled file starts in a fraction of that (see
// BENCHMARKS.md). tfjs and the tokenizer stay external: they load native/wasm
// files relative to their own packages, and only `tune run` needs them.
import { rmSync } from "node:fs";
import { build } from "esbuild";
import { cliBundleOptions } from "./bundle-options.mjs";

// Chunk names are content hashes: clear the old ones so dist/ does not grow with every build.
rmSync("dist/bundle", { recursive: true, force: true });

await build({ ...cliBundleOptions("cli/main.ts", "dist/bundle"), sourcemap: "linked" });

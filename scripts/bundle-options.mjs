// The esbuild options of the bundled CLI, shared by scripts/bundle.mjs (dist/bundle) and the tests that bundle
// today's sources for child processes (test/exec-resume/helpers.ts).
export function cliBundleOptions(entry, outdir) {
  return {
    entryPoints: [entry],
    // Code splitting keeps `tune run`'s runtime (and tfjs, loaded by it) in chunks that
    // only load when a command imports them; lint/fmt/plan never pay for them.
    entryNames: "tune",
    outdir,
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
    logLevel: "warning",
  };
}

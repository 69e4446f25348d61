// The file-system host the CLI hands to the pure compiler: relative imports are
// read from disk, `std/…` from the package's stdlib/ folder, and registry
// packages (`@scope/name@range`) from the package store through tune.lock
// (cli/registry/resolver.ts; `tune install` fills the store, compiling never
// touches the network).
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { CompileHost, ImportLookup } from "../compiler/host.js";
import { joinRelative } from "../compiler/host.js";
import { registryResolver, type ResolverOptions } from "./registry/resolver.js";

/** The package root, whether running from sources (cli/) or the build (dist/cli/). */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, "package.json")) || !existsSync(join(dir, "stdlib"))) {
    const up = dirname(dir);
    if (up === dir) throw new Error("cannot locate the tune package root");
    dir = up;
  }
  return dir;
}

export const STD_MODULES = ["std/templates", "std/models", "std/prompts", "std/evals"];

const stdCache = new Map<string, string>();

export function stdText(name: string): string | undefined {
  if (!STD_MODULES.includes(name)) return undefined;
  let text = stdCache.get(name);
  if (text === undefined) {
    text = readFileSync(join(packageRoot(), "stdlib", name.slice(4) + ".tune"), "utf8");
    stdCache.set(name, text);
  }
  return text;
}

export function fsHost(registry: ResolverOptions = {}): CompileHost {
  const packages = registryResolver(registry);
  return {
    resolveImport(spec, fromPath): ImportLookup {
      // Registry specs, and every import made from inside an installed package, resolve in the package store.
      const fromRegistry = packages.resolve(spec, fromPath);
      if (fromRegistry) return fromRegistry;
      if (spec.startsWith("std/")) {
        const text = stdText(spec);
        return text === undefined
          ? { found: false, reason: `no standard-library module \`${spec}\``, hint: `available: ${STD_MODULES.join(", ")}` }
          : { found: true, source: { path: spec, text } };
      }
      if (!spec.startsWith("./") && !spec.startsWith("../")) {
        return { found: false, reason: `cannot import \`${spec}\``, hint: 'imports are "std/…", relative paths starting with ./ or ../, or "@scope/package@range"' };
      }
      const path = joinRelative(fromPath, spec);
      try {
        return { found: true, source: { path, text: readFileSync(resolve(path), "utf8") } };
      } catch {
        return { found: false, reason: `cannot find \`${spec}\` (looked for ${path})`, hint: "check the path; it is relative to the importing file" };
      }
    },
    stdModules: () => STD_MODULES,
  };
}

/** Display path for a file argument: relative to the working directory, with forward slashes. */
export function displayPath(p: string): string {
  const rel = relative(process.cwd(), resolve(p));
  return (rel.startsWith("..") ? resolve(p) : rel).split("\\").join("/");
}

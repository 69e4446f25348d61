// How the pure compiler reaches other files: the CLI (or a test) passes a host
// that answers import lookups. The compiler itself never touches the file system.

export interface ModuleSource {
  /** Canonical path used in spans and diagnostics (e.g. "recipes/a.tune", "std/templates"). */
  readonly path: string;
  readonly text: string;
}

export type ImportLookup =
  | { readonly found: true; readonly source: ModuleSource }
  | { readonly found: false; readonly reason: string; readonly hint: string };

export interface CompileHost {
  /** Resolve an import spec (`std/templates`, `./common.tune`, `@acme/pkg@^1.2`) from the importing module. */
  resolveImport(spec: string, fromPath: string): ImportLookup;
  /** Names of the standard-library modules (`std/templates`, …), for import suggestions. */
  stdModules(): readonly string[];
}

/** A host over an in-memory map of files; used by tests and the fuzzer. */
export function memoryHost(files: ReadonlyMap<string, string>, std: ReadonlyMap<string, string> = new Map()): CompileHost {
  return {
    resolveImport(spec, fromPath) {
      if (spec.startsWith("std/")) {
        const text = std.get(spec);
        return text === undefined
          ? { found: false, reason: `no standard-library module \`${spec}\``, hint: `available: ${[...std.keys()].join(", ")}` }
          : { found: true, source: { path: spec, text } };
      }
      const path = joinRelative(fromPath, spec);
      const text = files.get(path);
      return text === undefined
        ? { found: false, reason: `cannot find \`${spec}\` (looked for ${path})`, hint: "check the path; relative imports start with ./ or ../" }
        : { found: true, source: { path, text } };
    },
    stdModules: () => [...std.keys()],
  };
}

/** POSIX-style join of a relative import onto the importing file's directory. */
export function joinRelative(fromPath: string, spec: string): string {
  const parts = fromPath.split("/").slice(0, -1);
  for (const seg of spec.split("/")) {
    if (seg === "." || seg === "") continue;
    if (seg === "..") {
      if (parts.length > 0 && parts[parts.length - 1] !== "..") parts.pop();
      else parts.push("..");
    } else parts.push(seg);
  }
  return parts.join("/");
}

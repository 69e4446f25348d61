// Resolve: load every module a recipe imports (through the host), detect
// import cycles, and build each module's scope (its own named blocks plus what
// it imports). Name *uses* are looked up later by the checker, which knows what
// kind of thing each position expects.
import type { Block, Import, SourceFile, Span } from "../grammar/ast.js";
import { diag, type Diagnostic, type Result } from "../grammar/diagnostic.js";
import { parseSource } from "../grammar/parse.js";
import type { CompileHost } from "./host.js";
import { didYouMean } from "./suggest.js";

export interface SymbolDef {
  /** The block kind (`model`, `template`, …). */
  readonly kind: string;
  readonly name: string;
  readonly block: Block;
  readonly module: string;
}

export type Binding =
  | { readonly kind: "symbol"; readonly symbol: SymbolDef; readonly via: Import | null }
  | { readonly kind: "namespace"; readonly module: string; readonly via: Import };

export interface Module {
  readonly path: string;
  readonly ast: SourceFile;
  readonly text: string;
  readonly symbols: ReadonlyMap<string, SymbolDef>;
  readonly scope: ReadonlyMap<string, Binding>;
}

export interface Program {
  readonly entry: string;
  readonly modules: ReadonlyMap<string, Module>;
  /** Standard-library module names, for suggestions. */
  readonly std: readonly string[];
  /**
   * Which std module defines `name` (for "add `import { x } from …`" help).
   * Unimported std modules are parsed only when this is first asked, so a
   * recipe without mistakes never pays for the whole standard library.
   */
  stdSymbol(name: string): { readonly module: string; readonly kind: string } | null;
}

/** Parsed modules by path and text: `tune lint dir/` parses each std module once per process. */
const PARSE_CACHE = new Map<string, { text: string; parsed: ReturnType<typeof parseSource> }>();
const PARSE_CACHE_LIMIT = 64;

function parseCached(path: string, text: string): ReturnType<typeof parseSource> {
  const hit = PARSE_CACHE.get(path);
  if (hit && hit.text === text) return hit.parsed;
  const parsed = parseSource(path, text);
  if (PARSE_CACHE.size >= PARSE_CACHE_LIMIT) PARSE_CACHE.delete(PARSE_CACHE.keys().next().value!);
  PARSE_CACHE.set(path, { text, parsed });
  return parsed;
}

interface Loaded {
  path: string;
  ast: SourceFile;
  text: string;
  symbols: Map<string, SymbolDef>;
}

export function resolveProgram(entryPath: string, entryText: string, host: CompileHost): Result<Program> {
  const diagnostics: Diagnostic[] = [];
  const loaded = new Map<string, Loaded>();
  const importTargets = new Map<Import, string | null>();

  const load = (path: string, text: string): Loaded => {
    const parsed = parseCached(path, text);
    diagnostics.push(...parsed.diagnostics);
    const mod: Loaded = { path, ast: parsed.value, text, symbols: collectSymbols(parsed.value, diagnostics) };
    loaded.set(path, mod);
    return mod;
  };

  // Depth-first so a cycle is seen while its members are on the stack.
  const stack: string[] = [];
  const visit = (mod: Loaded): void => {
    stack.push(mod.path);
    for (const imp of mod.ast.imports) {
      const spec = imp.spec.value;
      if (!spec) continue;
      const found = host.resolveImport(spec, mod.path);
      if (!found.found) {
        diagnostics.push(diag("T2004", "error", found.reason, imp.spec.span, "cannot be resolved", { help: found.hint }));
        importTargets.set(imp, null);
        continue;
      }
      const target = found.source.path;
      importTargets.set(imp, target);
      if (stack.includes(target)) {
        const cycle = [...stack.slice(stack.indexOf(target)), target].join(" → ");
        diagnostics.push(
          diag("T2006", "error", `import cycle: ${cycle}`, imp.spec.span, "this import closes the cycle", {
            help: "move the shared definitions into a third file that both import",
          }),
        );
        continue;
      }
      if (!loaded.has(target)) visit(load(target, found.source.text));
    }
    stack.pop();
  };
  visit(load(entryPath, entryText));

  const std = [...host.stdModules()];
  let stdIndex: Map<string, { module: string; kind: string }> | null = null;
  const stdSymbol = (name: string): { module: string; kind: string } | null => {
    if (!stdIndex) {
      stdIndex = new Map();
      for (const modName of std) {
        const found = loaded.has(modName) ? null : host.resolveImport(modName, entryPath);
        const ast = loaded.get(modName)?.ast ?? (found?.found ? parseCached(found.source.path, found.source.text).value : null);
        for (const block of ast?.blocks ?? []) {
          if (block.name?.text && !stdIndex.has(block.name.text)) stdIndex.set(block.name.text, { module: modName, kind: block.type.text });
        }
      }
    }
    return stdIndex.get(name) ?? null;
  };

  const modules = new Map<string, Module>();
  for (const mod of loaded.values()) {
    const scope = buildScope(mod, loaded, importTargets, diagnostics);
    modules.set(mod.path, { ...mod, scope });
  }
  return { value: { entry: entryPath, modules, std, stdSymbol }, diagnostics };
}

function collectSymbols(ast: SourceFile, diagnostics: Diagnostic[]): Map<string, SymbolDef> {
  const symbols = new Map<string, SymbolDef>();
  for (const block of ast.blocks) {
    if (!block.name || !block.name.text) continue;
    const prev = symbols.get(block.name.text);
    if (prev) {
      diagnostics.push(
        diag("T2002", "error", `\`${block.name.text}\` is defined twice`, block.name.span, "second definition", {
          secondary: [{ span: prev.block.name!.span, message: "first defined here" }],
          help: "names of top-level blocks share one namespace per file; rename one of them",
        }),
      );
      continue;
    }
    symbols.set(block.name.text, { kind: block.type.text, name: block.name.text, block, module: ast.file });
  }
  return symbols;
}

function buildScope(
  mod: Loaded,
  loaded: ReadonlyMap<string, Loaded>,
  targets: ReadonlyMap<Import, string | null>,
  diagnostics: Diagnostic[],
): Map<string, Binding> {
  const scope = new Map<string, Binding>();
  for (const sym of mod.symbols.values()) scope.set(sym.name, { kind: "symbol", symbol: sym, via: null });
  for (const imp of mod.ast.imports) {
    const target = targets.get(imp);
    const other = target ? loaded.get(target) : undefined;
    if (!other) continue;
    if (imp.names) {
      for (const n of imp.names) bindImportedName(n.text, n.span, imp, other, scope, diagnostics);
    } else {
      const alias = imp.alias?.text ?? defaultAlias(imp.spec.value);
      const span = imp.alias?.span ?? imp.spec.span;
      bindName(alias, span, { kind: "namespace", module: other.path, via: imp }, scope, diagnostics);
    }
  }
  return scope;
}

function bindImportedName(
  name: string,
  span: Span,
  imp: Import,
  other: Loaded,
  scope: Map<string, Binding>,
  diagnostics: Diagnostic[],
): void {
  const sym = other.symbols.get(name);
  if (!sym) {
    diagnostics.push(
      diag("T2007", "error", `\`${imp.spec.value}\` has no definition named \`${name}\``, span, "not defined there", {
        help: didYouMean(name, other.symbols.keys()) ?? `it defines: ${[...other.symbols.keys()].slice(0, 12).join(", ")}`,
      }),
    );
    return;
  }
  bindName(name, span, { kind: "symbol", symbol: sym, via: imp }, scope, diagnostics);
}

function bindName(name: string, span: Span, binding: Binding, scope: Map<string, Binding>, diagnostics: Diagnostic[]): void {
  const prev = scope.get(name);
  if (prev) {
    const where = prev.kind === "symbol" && !prev.via ? prev.symbol.block.name!.span : prev.via!.span;
    diagnostics.push(
      diag("T2003", "error", `\`${name}\` is already defined in this file`, span, "imported here", {
        secondary: [{ span: where, message: "also defined here" }],
        help: 'import the module under another name: `import "…" as other`',
      }),
    );
    return;
  }
  scope.set(name, binding);
}

/** `std/templates` → templates, `./lib/common.tune` → common, `@acme/alpagasus@^1.2` → alpagasus. */
export function defaultAlias(spec: string): string {
  const noVersion = spec.replace(/(.)@[^/]*$/, "$1");
  const last = noVersion.split("/").pop() ?? noVersion;
  return last.replace(/\.tune$/, "").replace(/[^A-Za-z0-9_]/g, "_");
}

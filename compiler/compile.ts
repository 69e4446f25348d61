// The whole pipeline in one short function: parse → resolve → check → lower →
// verify. Each pass is pure and returns value + diagnostics; we keep going while
// the value is usable and stop before a pass whose input is broken, so a recipe's
// errors are all reported at once without cascades.
import type { Diagnostic } from "../grammar/diagnostic.js";
import { hasErrors } from "../grammar/diagnostic.js";
import { checkProgram, type CheckedProgram } from "./check/index.js";
import { verifyGraph, type Graph } from "./graph.js";
import type { CompileHost } from "./host.js";
import { lowerProgram } from "./lower.js";
import { resolveProgram, type Program } from "./resolve.js";

export interface Compilation {
  readonly program: Program;
  readonly checked: CheckedProgram | null;
  readonly graph: Graph | null;
  readonly diagnostics: readonly Diagnostic[];
}

export function compile(path: string, text: string, host: CompileHost): Compilation {
  const resolved = resolveProgram(path, text, host);
  const diagnostics = [...resolved.diagnostics];
  const syntaxBroken = diagnostics.some((d) => d.code.startsWith("T1") && d.labels[0]?.span.file === path);
  if (syntaxBroken) return { program: resolved.value, checked: null, graph: null, diagnostics };
  const checked = checkProgram(resolved.value);
  diagnostics.push(...checked.diagnostics);
  if (hasErrors(diagnostics)) return { program: resolved.value, checked: checked.value, graph: null, diagnostics };
  const graph = lowerProgram(checked.value);
  const problems = verifyGraph(graph);
  if (problems.length > 0) throw new Error("internal: lowered graph fails verification:\n" + problems.join("\n"));
  return { program: resolved.value, checked: checked.value, graph, diagnostics: sortDiagnostics(diagnostics) };
}

export function sortDiagnostics(diags: readonly Diagnostic[]): Diagnostic[] {
  return [...diags].sort((a, b) => {
    const sa = a.labels[0]?.span;
    const sb = b.labels[0]?.span;
    if (!sa || !sb) return 0;
    return sa.file === sb.file ? sa.start - sb.start : sa.file < sb.file ? -1 : 1;
  });
}

// `github` format: GitHub Actions workflow commands (`::error file=…::msg`),
// which the runner turns into annotations on the pull request's diff.
//
// Escaping follows the runner (actions/toolkit `command.ts`): in the message
// `%`, `\r`, `\n` become `%25`, `%0D`, `%0A`; in property values `:` and `,`
// also become `%3A`, `%2C`. The runner rejects `col`/`endColumn` when `line`
// and `endLine` differ, so multi-line spans carry lines only. `endColumn` is
// the column just past the span (exclusive, like SARIF); a zero-width span has
// `endColumn` equal to `col`. Columns count UTF-16 code units.
import type { Diagnostic, Severity } from "../../grammar/diagnostic.js";
import { flatMessage, primaryLabel, slashPath, type SourceIndex } from "./locate.js";

const COMMANDS: Record<Severity, string> = { error: "error", warning: "warning", info: "notice" };

export function renderGithub(diags: readonly Diagnostic[], index: SourceIndex): string {
  return diags.map((d) => command(d, index) + "\n").join("");
}

function command(d: Diagnostic, index: SourceIndex): string {
  const props = [...locationProps(d, index), ["title", d.code]];
  const propText = props.map(([k, v]) => `${k}=${escapeProperty(v)}`).join(",");
  return `::${COMMANDS[d.severity]} ${propText}::${escapeData(flatMessage(d))}`;
}

function locationProps(d: Diagnostic, index: SourceIndex): [string, string][] {
  const label = primaryLabel(d);
  if (!label) return [];
  const { file, start, end } = index.locate(label.span);
  const props: [string, string][] = [["file", slashPath(file)]];
  if (!start || !end) return props;
  props.push(["line", String(start.line)]);
  if (start.line === end.line) props.push(["col", String(start.column)]);
  props.push(["endLine", String(end.line)]);
  if (start.line === end.line) props.push(["endColumn", String(end.column)]);
  return props;
}

export function escapeData(text: string): string {
  return text.replace(/%/g, "%25").replace(/\r/g, "%0D").replace(/\n/g, "%0A");
}

export function escapeProperty(text: string): string {
  return escapeData(text).replace(/:/g, "%3A").replace(/,/g, "%2C");
}

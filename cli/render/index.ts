// The CLI's single entry point for showing diagnostics. Passes produce
// diagnostics as data (grammar/diagnostic.ts); this is the only place they
// become text, in one of five formats:
//   text   rich excerpts with carets, for people (rich.ts)
//   short  `file:line:col: error[T…]: …`, one per line (short.ts)
//   json   a stable array for tools (json.ts)
//   sarif  SARIF 2.1.0 for code scanning (sarif.ts)
//   github GitHub Actions annotations (github.ts)
// Everywhere, lines and columns are 1-based and columns count UTF-16 code
// units (line-index.ts). `sources` is keyed by `Span.file`.
import type { Diagnostic } from "../../grammar/diagnostic.js";
import { renderGithub } from "./github.js";
import { renderJson } from "./json.js";
import { SourceIndex } from "./locate.js";
import { renderRich } from "./rich.js";
import { renderSarif } from "./sarif.js";
import { renderShort } from "./short.js";
import type { RenderFormat, RenderOptions, SourceText } from "./types.js";

export { LineIndex, type Position } from "./line-index.js";
export type { RenderFormat, RenderOptions, RuleHelp, SourceText } from "./types.js";

/** Every format, e.g. for the CLI's `--format` choices. */
export const RENDER_FORMATS: readonly RenderFormat[] = ["text", "short", "json", "sarif", "github"];

/** Renders all diagnostics in one format; the result ends with a newline unless it is empty. */
export function renderDiagnostics(
  diags: readonly Diagnostic[],
  sources: ReadonlyMap<string, SourceText>,
  opts: RenderOptions,
): string {
  const index = new SourceIndex(sources);
  switch (opts.format) {
    case "text":
      return renderRich(diags, index, opts.color);
    case "short":
      return renderShort(diags, index);
    case "json":
      return renderJson(diags, index);
    case "sarif":
      return renderSarif(diags, index, opts);
    case "github":
      return renderGithub(diags, index);
    default:
      return assertNever(opts.format);
  }
}

function assertNever(format: never): never {
  throw new Error(`unknown diagnostic format: ${String(format)}`);
}

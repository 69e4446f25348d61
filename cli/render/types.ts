// The renderer's public types, apart from the functions, so that each format
// module can import them without importing the dispatcher in index.ts.

/** One source file as the CLI read it. */
export interface SourceText {
  /** The path as the user gave it; used for display only. */
  readonly file: string;
  readonly text: string;
}

export type RenderFormat = "text" | "short" | "json" | "sarif" | "github";

/** Catalogue entry for a code, used by SARIF's rule metadata. */
export interface RuleHelp {
  readonly title: string;
  readonly explanation: string;
}

export interface RenderOptions {
  readonly format: RenderFormat;
  /** ANSI colors; only the rich `text` format uses them. */
  readonly color: boolean;
  readonly toolVersion: string;
  readonly rulesHelp?: (code: string) => RuleHelp | undefined;
}

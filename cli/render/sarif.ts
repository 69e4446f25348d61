// `sarif` format: a SARIF 2.1.0 log, the format code-scanning services (GitHub
// code scanning, Azure DevOps, IDE viewers) import.
//
// Choices: one run; `columnKind` is "utf16CodeUnits", so columns are 1-based
// UTF-16 code units like everywhere else in tune; `endColumn` is exclusive, as
// SARIF defines it. The primary label is `locations[0]` and other labels are
// `relatedLocations`. Notes and help are appended to `message.text`, one per
// line. Rules (one per code used, sorted by id) take their descriptions from
// `rulesHelp`. URIs are relative with forward slashes as the user gave them;
// an absolute path becomes a `file://` URI. A file whose text is unknown gets
// a `charOffset`/`charLength` region instead of lines and columns.
import type { Span } from "../../grammar/ast.js";
import type { Diagnostic, Label, Severity } from "../../grammar/diagnostic.js";
import { flatMessage, primaryLabel, slashPath, type SourceIndex } from "./locate.js";
import type { RuleHelp } from "./types.js";

export const SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json";

// ---- the subset of the SARIF object model we emit

export interface SarifLog {
  readonly $schema: string;
  readonly version: "2.1.0";
  readonly runs: readonly SarifRun[];
}

export interface SarifRun {
  readonly tool: { readonly driver: SarifDriver };
  readonly columnKind: "utf16CodeUnits";
  readonly results: readonly SarifResult[];
}

export interface SarifDriver {
  readonly name: string;
  readonly version: string;
  readonly rules: readonly SarifRule[];
}

export interface SarifRule {
  readonly id: string;
  readonly shortDescription?: SarifText;
  readonly fullDescription?: SarifText;
  readonly help?: SarifText;
}

export interface SarifText {
  readonly text: string;
}

export interface SarifResult {
  readonly ruleId: string;
  readonly ruleIndex: number;
  readonly level: "error" | "warning" | "note";
  readonly message: SarifText;
  readonly locations: readonly SarifLocation[];
  readonly relatedLocations?: readonly SarifLocation[];
}

export interface SarifLocation {
  readonly id?: number;
  readonly physicalLocation: {
    readonly artifactLocation: { readonly uri: string };
    readonly region: SarifRegion;
  };
  readonly message?: SarifText;
}

export type SarifRegion =
  | { readonly startLine: number; readonly startColumn: number; readonly endLine: number; readonly endColumn: number }
  | { readonly charOffset: number; readonly charLength: number };

const LEVELS: Record<Severity, SarifResult["level"]> = { error: "error", warning: "warning", info: "note" };

// ---- building the log

export interface SarifOptions {
  readonly toolVersion: string;
  readonly rulesHelp?: (code: string) => RuleHelp | undefined;
}

export function renderSarif(diags: readonly Diagnostic[], index: SourceIndex, opts: SarifOptions): string {
  return JSON.stringify(toSarif(diags, index, opts), null, 2) + "\n";
}

export function toSarif(diags: readonly Diagnostic[], index: SourceIndex, opts: SarifOptions): SarifLog {
  const codes = [...new Set(diags.map((d) => d.code))].sort();
  const rules = codes.map((code) => rule(code, opts.rulesHelp?.(code)));
  const ruleIndex = new Map(codes.map((code, i) => [code, i]));
  const results = diags.map((d) => result(d, ruleIndex.get(d.code) ?? -1, index));
  const driver: SarifDriver = { name: "tune", version: opts.toolVersion, rules };
  return { $schema: SARIF_SCHEMA, version: "2.1.0", runs: [{ tool: { driver }, columnKind: "utf16CodeUnits", results }] };
}

function rule(id: string, help: RuleHelp | undefined): SarifRule {
  if (!help) return { id };
  return {
    id,
    shortDescription: { text: help.title },
    fullDescription: { text: help.explanation },
    help: { text: help.explanation },
  };
}

function result(d: Diagnostic, ruleIndex: number, index: SourceIndex): SarifResult {
  const primary = primaryLabel(d);
  const base = { ruleId: d.code, ruleIndex, level: LEVELS[d.severity], message: { text: flatMessage(d) } };
  if (!primary) return { ...base, locations: [] };
  const others = d.labels.filter((l) => l !== primary);
  const locations = [location(primary, index)];
  if (others.length === 0) return { ...base, locations };
  return { ...base, locations, relatedLocations: others.map((l, i) => ({ id: i + 1, ...location(l, index) })) };
}

function location(label: Label, index: SourceIndex): SarifLocation {
  const physicalLocation = {
    artifactLocation: { uri: artifactUri(index.displayPath(label.span.file)) },
    region: region(label.span, index),
  };
  return label.message ? { physicalLocation, message: { text: label.message } } : { physicalLocation };
}

function region(span: Span, index: SourceIndex): SarifRegion {
  const { start, end } = index.locate(span);
  if (!start || !end) return { charOffset: Math.max(0, span.start), charLength: Math.max(0, span.end - span.start) };
  return { startLine: start.line, startColumn: start.column, endLine: end.line, endColumn: end.column };
}

/** A URI reference for a path: relative paths stay relative; absolute ones become `file://` URIs. */
export function artifactUri(file: string): string {
  const path = slashPath(file);
  const encoded = path.split("/").map(encodeSegment).join("/");
  if (/^[A-Za-z]:\//.test(path)) return `file:///${path.slice(0, 2)}${encoded.slice(encoded.indexOf("/"))}`;
  if (path.startsWith("/")) return `file://${encoded}`;
  return encoded;
}

/** Percent-encodes what may not appear in a URI path segment (spaces, `%`, `#`, `?`, `:` …). */
function encodeSegment(segment: string): string {
  return encodeURIComponent(segment).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

// Response filters for generation tasks (lm_eval/filters/{extraction,selection,transformation}.py).
//
// A task's filter_list names pipelines ("strict-match", "flexible-extract"); each turns the model's
// responses for a doc into the string that metrics compare. Without a filter_list the harness applies
// "none" = take_first. Regex patterns are Python `re` syntax, translated by pyregex.

import { findall } from "./pyregex.js";
import { pyStrip } from "./pystr.js";
import type { FilterSpec, FilterStep } from "./types.js";

export const DEFAULT_FILTERS: FilterSpec[] = [{ name: "none", filter: [{ function: "take_first" }] }];

/** RegexFilter: findall, pick group_select (negative counts from the end), first non-empty group, strip. */
export function regexExtract(resp: string, pattern = "#### (\\-?[0-9\\.\\,]+)", groupSelect = 0, fallback = "[invalid]"): string {
  const matches = findall(pattern, resp);
  if (matches.length === 0) return fallback;
  const idx = groupSelect < 0 ? matches.length + groupSelect : groupSelect;
  let match = matches[idx];
  if (match === undefined) throw new Error(`regex filter: group_select ${groupSelect} out of range`);
  if (Array.isArray(match)) {
    const nonEmpty = match.filter((m) => m !== "");
    match = nonEmpty.length > 0 ? nonEmpty[0] : fallback;
  }
  return pyStrip(match);
}

function applyStep(resps: string[], step: FilterStep): string[] {
  switch (step.function) {
    case "regex":
      return resps.map((r) => regexExtract(r, step.regex_pattern, step.group_select ?? 0, step.fallback ?? "[invalid]"));
    case "take_first":
      return resps.slice(0, 1);
    case "remove_whitespace":
      return resps.map((r) => (r.startsWith(" ") ? r.slice(1) : r));
    case "lowercase":
      return resps.map((r) => r.toLowerCase());
    case "uppercase":
      return resps.map((r) => r.toUpperCase());
    default: {
      const never: never = step;
      throw new Error(`unknown filter ${JSON.stringify(never)}`);
    }
  }
}

/** Run one filter pipeline over a doc's responses; returns the filtered responses (one after take_first). */
export function applyFilter(spec: FilterSpec, resps: string[]): string[] {
  return spec.filter.reduce(applyStep, resps);
}

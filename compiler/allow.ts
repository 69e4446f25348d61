// `recipe { allow = ["T4010"] }`: warnings a recipe's author has reviewed and
// accepts. The check validates the list (T3021); the CLI drops allowed
// warnings and infos from what lint, plan and run print. Errors always print.
import type { Diagnostic } from "../grammar/diagnostic.js";
import type { CheckedBlock } from "./check/blocks.js";
import type { CheckContext } from "./check/context.js";
import { CODES } from "./codes.js";
import { didYouMean } from "./suggest.js";

/** Report entries of `allow` that are not catalogue codes. */
export function checkAllow(ctx: CheckContext, recipe: CheckedBlock): void {
  const v = recipe.attrs.get("allow");
  if (!v || v.k !== "list") return;
  for (const item of v.items) {
    if (item.k !== "string") continue;
    const code = item.value.toUpperCase();
    if (CODES[code]) continue;
    ctx.report("T3021", "error", `\`${item.value}\` is not a diagnostic code`, item.span, "unknown code", {
      help: didYouMean(code, Object.keys(CODES)) ?? "codes look like \"T4010\"; `tune explain --list` lists them",
    });
  }
}

/** The codes the entry recipe allows (upper-cased). */
export function allowedCodes(entry: readonly CheckedBlock[] | undefined): Set<string> {
  const recipe = entry?.find((b) => b.kind === "recipe");
  const v = recipe?.attrs.get("allow");
  const out = new Set<string>();
  if (v?.k === "list") for (const item of v.items) if (item.k === "string") out.add(item.value.toUpperCase());
  return out;
}

/** Drop warnings and infos whose code the recipe allows; errors are kept whatever the list says. */
export function applyAllow(diags: readonly Diagnostic[], allowed: ReadonlySet<string>): Diagnostic[] {
  if (allowed.size === 0) return [...diags];
  return diags.filter((d) => d.severity === "error" || !allowed.has(d.code));
}

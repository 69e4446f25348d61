// Renders the block specs as reference text: `tune explain <kind>` and
// docs/language.md both come from here, so docs cannot drift from the checker.
import { TOP_LEVEL } from "./blocks.js";
import { describeType, type AttrSpec, type BlockSpec } from "./types.js";

function defaultText(a: AttrSpec): string {
  if (a.required) return "required";
  if (a.default === undefined) return "—";
  return "`" + (Array.isArray(a.default) ? "[" + a.default.join(", ") + "]" : String(a.default)) + "`";
}

function attrRows(attrs: Readonly<Record<string, AttrSpec>>): string[] {
  return Object.entries(attrs).map(([k, a]) => `| \`${k}\` | ${describeType(a.type)} | ${defaultText(a)} | ${a.doc} |`);
}

export function blockDoc(spec: BlockSpec, level = 2): string {
  const h = "#".repeat(level);
  const naming = spec.name === "required" ? `${spec.kind} NAME { … }` : spec.name === "optional" ? `${spec.kind} [NAME] { … }` : `${spec.kind} { … }`;
  const out = [`${h} \`${naming}\``, "", spec.doc, ""];
  const rows = attrRows(spec.attrs);
  if (rows.length) out.push("| key | type | default | meaning |", "|---|---|---|---|", ...rows, "");
  if (spec.freeAttrs) out.push(`Any other key names a source: ${spec.freeAttrs.doc} (${describeType(spec.freeAttrs.type)}).`, "");
  if (spec.fields) out.push("Entries are field declarations: `name: type`, `?` for optional, `= default`, `from \"column\"` to rename.", "");
  for (const [op, s] of Object.entries(spec.steps ?? {})) {
    const pos = s.positional.map(([n]) => n);
    out.push(`- \`${op}(${[...pos, ...Object.keys(s.named).map((n) => n + " = …")].join(", ")})\` — ${s.doc}`);
    for (const [n, a] of [...s.positional, ...Object.entries(s.named)]) out.push(`  - \`${n}\`: ${describeType(a.type)}, ${defaultText(a)} — ${a.doc}`);
  }
  if (spec.steps) out.push("");
  for (const nested of Object.values(spec.blocks ?? {})) out.push(blockDoc(nested, level + 1));
  return out.join("\n");
}

export function languageReference(): string {
  const head = [
    "# The .tune language reference",
    "",
    "Generated from `compiler/schema/blocks.ts` by `node bin/tune.js explain --reference > docs/language.md`;",
    "the checker reads the same tables. Grammar: `docs/grammar.ebnf`. Diagnostics: `tune explain --list`.",
    "",
  ];
  return head.join("\n") + Object.values(TOP_LEVEL).map((s) => blockDoc(s)).join("\n") + "\n";
}

export function blockKinds(): string[] {
  return Object.keys(TOP_LEVEL);
}

export function explainBlock(kind: string): string | null {
  const spec = TOP_LEVEL[kind];
  return spec ? blockDoc(spec) + "\n" : null;
}

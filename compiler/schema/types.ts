// The vocabulary for describing block kinds: every attribute has a type, a
// default and a one-line doc. These specs are the single source for checking,
// `tune explain`-style docs and (later) editor completion.
import type { Unit } from "../../grammar/ast.js";

export type SymbolKind =
  | "recipe"
  | "model"
  | "arch"
  | "dataset"
  | "data"
  | "template"
  | "adapter"
  | "stage"
  | "judge"
  | "prompt"
  | "task"
  | "group"
  | "eval"
  | "export"
  | "hardware";

export type ValueType =
  | {
      readonly t: "number";
      readonly min?: number;
      readonly max?: number;
      readonly minExclusive?: boolean;
      readonly maxExclusive?: boolean;
      readonly int?: boolean;
      /** Units the number may carry; `null` in the list means a bare number is fine. */
      readonly units?: readonly (Unit | null)[];
    }
  | { readonly t: "string" }
  | { readonly t: "bool" }
  | { readonly t: "enum"; readonly values: readonly string[] }
  | { readonly t: "ref"; readonly kinds: readonly SymbolKind[] }
  | { readonly t: "list"; readonly of: ValueType; readonly minItems?: number }
  | { readonly t: "range" }
  | { readonly t: "oneOf"; readonly of: readonly ValueType[] }
  /** A boolean expression over the rows' fields (filters). */
  | { readonly t: "rowExpr" }
  /** A field name of the rows flowing through (bare identifier). */
  | { readonly t: "field" };

export interface AttrSpec {
  readonly type: ValueType;
  readonly doc: string;
  readonly required?: boolean;
  readonly default?: unknown;
}

export interface StepSpec {
  readonly doc: string;
  /** Positional parameters in order; each may also be given by name. */
  readonly positional: readonly (readonly [string, AttrSpec])[];
  readonly named: Readonly<Record<string, AttrSpec>>;
}

export interface BlockSpec {
  readonly kind: string;
  readonly doc: string;
  readonly name: "required" | "optional" | "none";
  readonly attrs: Readonly<Record<string, AttrSpec>>;
  readonly blocks?: Readonly<Record<string, BlockSpec>>;
  readonly steps?: Readonly<Record<string, StepSpec>>;
  /** `fields { name: type }` declarations are allowed directly in this block. */
  readonly fields?: boolean;
  /** Attribute keys are free names (e.g. `mix { source = 1% }`) of this type. */
  readonly freeAttrs?: AttrSpec;
  /** Only one block of this kind may appear (per parent / per file). */
  readonly unique?: boolean;
}

// ---- shorthand constructors used by the spec tables

export const num = (o: Omit<Extract<ValueType, { t: "number" }>, "t"> = {}): ValueType => ({ t: "number", ...o });
export const int = (o: Omit<Extract<ValueType, { t: "number" }>, "t" | "int"> = {}): ValueType => ({ t: "number", int: true, ...o });
export const str: ValueType = { t: "string" };
export const bool: ValueType = { t: "bool" };
export const enumOf = (...values: string[]): ValueType => ({ t: "enum", values });
export const ref = (...kinds: SymbolKind[]): ValueType => ({ t: "ref", kinds });
export const list = (of: ValueType, minItems?: number): ValueType => ({ t: "list", of, minItems });
export const oneOf = (...of: ValueType[]): ValueType => ({ t: "oneOf", of });
export const range: ValueType = { t: "range" };
export const rowExpr: ValueType = { t: "rowExpr" };
export const field: ValueType = { t: "field" };

export const fraction = num({ min: 0, max: 100, units: ["%"] });
export const fractionOrCount = num({ min: 0, units: ["%", null, "k", "M", "rows"] });
export const tokens = int({ min: 1, units: [null, "tokens", "k"] });
export const memorySize = num({ min: 0, minExclusive: true, units: ["GB", "GiB", "MB", "MiB"] });

export function describeType(t: ValueType): string {
  switch (t.t) {
    case "number":
      return t.int ? "an integer" : "a number";
    case "string":
      return "a string";
    case "bool":
      return "`true` or `false`";
    case "enum":
      return "one of " + t.values.map((v) => "`" + v + "`").join(", ");
    case "ref":
      return "a " + t.kinds.join(" or ") + " name";
    case "list":
      return "a list of " + describeType(t.of).replace(/^an? /, "") + "s";
    case "range":
      return "a range like `0..5`";
    case "oneOf":
      return t.of.map(describeType).join(", or ");
    case "rowExpr":
      return "a boolean expression over fields";
    case "field":
      return "a field name";
  }
}

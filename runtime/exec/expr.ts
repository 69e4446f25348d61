// Evaluates the filter expressions the compiler lowers to JSON
// (compiler/lower.ts exprJson) against one row. Semantics: Python-like —
// comparisons between a number and a missing value are false, `and`/`or`
// short-circuit, `len(x)` counts characters (code points, as Python's len),
// `tokens(x)` counts tokens with the tokenizer the executor supplies.
import type { Row } from "../data/row.js";
import { ExecError } from "./types.js";

type ExprJson = { [k: string]: unknown };
type Scalar = number | string | boolean | null;

export interface ExprEnv {
  countTokens?: (text: string) => number;
}

export function compilePredicate(expr: unknown, env: ExprEnv = {}): (row: Row) => boolean {
  return (row) => truthy(evaluate(expr as ExprJson, row, env));
}

function truthy(v: Scalar): boolean {
  if (v === null) return false;
  if (typeof v === "string") return v.length > 0;
  if (typeof v === "number") return v !== 0 && !Number.isNaN(v);
  return v;
}

function fieldValue(row: Row, path: string): Scalar {
  let cur: unknown = row.values;
  for (const part of path.split(".")) {
    if (cur === null || typeof cur !== "object") return null;
    cur = (cur as Record<string, unknown>)[part];
  }
  if (cur === undefined) return null;
  if (typeof cur === "bigint") return Number(cur);
  if (typeof cur === "number" || typeof cur === "string" || typeof cur === "boolean" || cur === null) return cur;
  return JSON.stringify(cur);
}

export function evaluate(e: ExprJson, row: Row, env: ExprEnv): Scalar {
  if ("num" in e) return e["num"] as number;
  if ("str" in e) return e["str"] as string;
  if ("bool" in e) return e["bool"] as boolean;
  if ("none" in e) return null;
  if ("field" in e) return fieldValue(row, e["field"] as string);
  if ("call" in e) return call(e["call"] as string, (e["args"] as ExprJson[]).map((a) => evaluate(a, row, env)), env);
  const op = e["op"] as string;
  if ("operand" in e) {
    const v = evaluate(e["operand"] as ExprJson, row, env);
    return op === "not" ? !truthy(v) : typeof v === "number" ? -v : null;
  }
  if (op === "and") return truthy(evaluate(e["left"] as ExprJson, row, env)) && truthy(evaluate(e["right"] as ExprJson, row, env));
  if (op === "or") return truthy(evaluate(e["left"] as ExprJson, row, env)) || truthy(evaluate(e["right"] as ExprJson, row, env));
  return binary(op, evaluate(e["left"] as ExprJson, row, env), evaluate(e["right"] as ExprJson, row, env));
}

function call(fn: string, args: Scalar[], env: ExprEnv): Scalar {
  const text = args[0] === null || args[0] === undefined ? "" : String(args[0]);
  if (fn === "len") return [...text].length;
  if (fn === "tokens") {
    if (!env.countTokens) throw new ExecError("T7101", "`tokens(…)` needs a tokenizer, and this recipe loads no model", "count characters with `len(…)`, or add the model the stage trains");
    return env.countTokens(text);
  }
  throw new ExecError("T7102", `unknown function \`${fn}\` in a filter`, "filters can call len(field) and tokens(field)");
}

function binary(op: string, a: Scalar, b: Scalar): Scalar {
  switch (op) {
    case "==":
      return a === b;
    case "!=":
      return a !== b;
    case "+":
      return typeof a === "number" && typeof b === "number" ? a + b : typeof a === "string" && typeof b === "string" ? a + b : null;
    case "-":
    case "*":
    case "/":
      if (typeof a !== "number" || typeof b !== "number") return null;
      return op === "-" ? a - b : op === "*" ? a * b : a / b;
  }
  // Ordering: only like with like; anything involving a missing value is false.
  if (a === null || b === null || typeof a !== typeof b) return false;
  switch (op) {
    case "<":
      return a < b;
    case "<=":
      return a <= b;
    case ">":
      return a > b;
    case ">=":
      return a >= b;
  }
  throw new ExecError("T7102", `unknown operator \`${op}\``, "use comparisons, and/or/not and + - * /");
}

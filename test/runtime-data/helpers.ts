// Shared helpers for the runtime/data tests: fixture paths and small synthetic streams.

import { fromValues, type RowStream } from "../../runtime/data/index.js";

export const FIX = "test/fixtures/data";
export const DATA = "data";

/** n synthetic rows {id, text} with a memory origin named `name`. */
export function numbered(n: number, name = "mem"): RowStream {
  return fromValues(
    name,
    Array.from({ length: n }, (_, i) => ({ id: i, text: `row ${i}` })),
  );
}

/** The ids of rows, in order. */
export async function ids(s: RowStream): Promise<number[]> {
  const out: number[] = [];
  for await (const r of s) out.push(r.values.id as number);
  return out;
}

/** The stream serialised as JSONL (for byte-identity checks). */
export async function jsonl(s: RowStream): Promise<string> {
  let out = "";
  for await (const r of s) out += JSON.stringify(r.values) + "\n";
  return out;
}

/** Catch the error a promise rejects with. */
export async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (e) {
    return e as Error;
  }
  throw new Error("expected a rejection");
}

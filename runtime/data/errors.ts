// Data errors for tune's runtime data pipeline.
//
// Why this exists: a bad record in a 50k-row file must be reported like a compiler error — with a code, the
// file and line (or row), the field, what was expected and a hint — and the "fail" / "skip" policy of a
// source must be applied in exactly one place so that skipped rows are always counted and reported, never
// silently dropped.

import { formatOrigin, type Origin } from "./row.js";

/** Catalogue of T5xxx codes raised by runtime/data (T5 = data, see shared/reference/style.md §6). */
export const DATA_CODES = {
  T5501: "data file cannot be read",
  T5502: "malformed record",
  T5503: "record is not an object",
  T5504: "unknown data format",
  T5510: "required field is missing",
  T5511: "field has the wrong type",
  T5512: "field holds invalid chat messages",
  T5520: "invalid argument to a data operation",
  T5521: "sample or split asks for more rows than the source has",
  T5522: "invalid mix weights or totals",
  T5523: "operation needs a replayable stream",
  T5530: "template refers to a field the row does not have",
  T5531: "row cannot be rendered by this template",
  T5532: "template cannot be compiled",
  T5533: "tokenizer options are inconsistent with the template",
} as const;

export type DataCode = keyof typeof DATA_CODES;

export interface DataErrorInit {
  code: DataCode;
  /** Message without location; the location prefix is added from `origin`. */
  message: string;
  hint: string;
  origin?: Origin;
  field?: string;
  expected?: string;
}

/** An error in data: carries a code, a located message (`file:line: …`) and a hint. */
export class DataError extends Error {
  readonly code: DataCode;
  readonly hint: string;
  readonly origin?: Origin;
  readonly field?: string;
  readonly expected?: string;
  /** The message without the location prefix (for renderers that print the location themselves). */
  readonly detail: string;

  constructor(init: DataErrorInit) {
    const where = init.origin ? `${formatOrigin(init.origin)}: ` : "";
    super(`${where}${init.message}`);
    this.name = "DataError";
    this.code = init.code;
    this.hint = init.hint;
    this.origin = init.origin;
    this.field = init.field;
    this.expected = init.expected;
    this.detail = init.message;
  }

  /** Short one-line-plus-help rendering: `file:line: error[T5511]: … \n  = help: …`. */
  render(): string {
    const where = this.origin ? `${formatOrigin(this.origin)}: ` : "";
    return `${where}error[${this.code}]: ${this.detail}\n  = help: ${this.hint}`;
  }
}

// ---- bad-row policy

export type BadRowPolicy = "fail" | "skip";

export interface BadRowSummary {
  policy: BadRowPolicy;
  skipped: number;
  byCode: Partial<Record<DataCode, number>>;
  /** The first few reasons, rendered (`file:line: error[T5511]: …`). */
  firstReasons: string[];
}

/**
 * Applies a source's bad-row policy. `fail` rethrows the first error; `skip` counts it and keeps the first
 * `keep` reasons. One log per source, shared by the reader (malformed records) and the schema check.
 */
export class BadRowLog {
  readonly policy: BadRowPolicy;
  private readonly keep: number;
  private skippedCount = 0;
  private readonly counts: Partial<Record<DataCode, number>> = {};
  private readonly reasons: DataError[] = [];

  constructor(policy: BadRowPolicy = "fail", keep = 5) {
    this.policy = policy;
    this.keep = keep;
  }

  /** Record a bad row: throws under "fail", otherwise counts it. */
  handle(err: DataError): void {
    if (this.policy === "fail") throw err;
    this.skippedCount++;
    this.counts[err.code] = (this.counts[err.code] ?? 0) + 1;
    if (this.reasons.length < this.keep) this.reasons.push(err);
  }

  get skipped(): number {
    return this.skippedCount;
  }

  /** Forget counts (a replayable stream calls this when it is iterated again). */
  reset(): void {
    this.skippedCount = 0;
    this.reasons.length = 0;
    for (const k of Object.keys(this.counts)) delete this.counts[k as DataCode];
  }

  summary(): BadRowSummary {
    return {
      policy: this.policy,
      skipped: this.skippedCount,
      byCode: { ...this.counts },
      firstReasons: this.reasons.map((e) => e.render()),
    };
  }

  /** Human-readable report, e.g. for `tune data`: "skipped 3 bad rows (T5511 ×2, T5510 ×1); first: …". */
  report(): string {
    if (this.skippedCount === 0) return "no bad rows";
    const codes = Object.entries(this.counts)
      .map(([c, n]) => `${c} ×${n}`)
      .join(", ");
    const first = this.reasons.map((e) => `  ${e.message}`).join("\n");
    return `skipped ${this.skippedCount} bad row(s) (${codes}); first ${this.reasons.length}:\n${first}`;
  }
}

/** Wrap an unknown thrown value into a message string. */
export function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

// Errors of the storage layer (cache, run directories, lockfiles) and the `tune cache` / `tune runs` commands.
//
// Why this exists: storage failures surface far from their cause (a corrupt cache entry found hours into a run, a
// run directory locked by a process nobody remembers starting). Each one carries a code, a message that stands on
// its own and a hint saying what to do, and is rendered the same way as data errors: `error[T9103]: …` + help.

/** Catalogue of T9xxx codes (T9 = storage and runs). */
export const STORE_CODES = {
  T9001: "cache entry is corrupt or half-written",
  T9002: "invalid cache key",
  T9003: "no cache entry matches",
  T9004: "cache key prefix too short",
  T9005: "cache directory cannot be used",
  T9006: "invalid size",
  T9007: "cache entry output is invalid",
  T9101: "run not found",
  T9102: "run id is ambiguous",
  T9103: "run is in use by another process",
  T9104: "stale run lock taken over",
  T9105: "run directory is unreadable",
  T9106: "runs directory not found",
  T9107: "run completed; nothing to resume",
  T9108: "recipe changed since the run started",
  T9109: "no run of the recipe to resume",
  T9203: "lockfile does not match (--frozen)",
  T9204: "lockfile not found (--frozen)",
  T9201: "lockfile is invalid",
  T9202: "unsupported lockfile version",
  T9901: "storage I/O error",
} as const;

export type StoreCode = keyof typeof STORE_CODES;

export class StoreError extends Error {
  readonly code: StoreCode;
  readonly hint: string;

  constructor(code: StoreCode, message: string, hint: string) {
    super(message);
    this.name = "StoreError";
    this.code = code;
    this.hint = hint;
  }

  /** `error[T9103]: …` plus a help line, as the CLI prints it. */
  render(severity: "error" | "warning" = "error"): string {
    return `${severity}[${this.code}]: ${this.message}\n  = help: ${this.hint}\n`;
  }
}

/** A warning the storage layer reports without failing (corrupt entry quarantined, stale lock taken over). */
export interface StoreWarning {
  readonly code: StoreCode;
  readonly message: string;
  readonly hint: string;
}

export type WarningSink = (w: StoreWarning) => void;

/** Default sink: one `warning[T9xxx]` line plus help on stderr. */
export const stderrWarnings: WarningSink = (w) => {
  process.stderr.write(`warning[${w.code}]: ${w.message}\n  = help: ${w.hint}\n`);
};

/** Any failure as a StoreError: StoreErrors pass through; file-system errors become T9901 with the path. */
export function asStoreError(e: unknown): StoreError {
  if (e instanceof StoreError) return e;
  const err = e as NodeJS.ErrnoException;
  const detail = err?.code && err.path ? `${err.code} on ${err.path}` : err instanceof Error ? err.message : String(e);
  return new StoreError("T9901", `storage operation failed: ${detail}`, "check permissions and free disk space");
}

export function errnoCode(e: unknown): string | undefined {
  return (e as NodeJS.ErrnoException | undefined)?.code;
}

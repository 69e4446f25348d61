// Progress display for long nodes: a redrawn bar with ETA and throughput on a
// TTY, plain periodic lines otherwise (CI logs, files). Time is injected so
// tests can drive it without sleeping.

export interface ProgressSink {
  readonly isTTY: boolean;
  write(text: string): void;
}

export interface Progress {
  /** Advance by `n` units; `fields` (loss, lr, tok/s…) show after the bar. */
  tick(n: number, fields?: Readonly<Record<string, number | string>>): void;
  done(summary?: string): void;
}

const BAR = 24;
const PLAIN_EVERY_MS = 10_000;

export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return "?";
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(s % 60).padStart(2, "0")}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, "0")}m`;
}

function formatField(v: number | string): string {
  if (typeof v === "string") return v;
  if (Number.isInteger(v)) return String(v);
  const a = Math.abs(v);
  return a !== 0 && (a < 1e-3 || a >= 1e5) ? v.toExponential(2) : v.toFixed(4);
}

export function createProgress(sink: ProgressSink, label: string, total: number, unit: string, now: () => number = Date.now): Progress {
  const start = now();
  let count = 0;
  let lastPlain = start;
  let last: Readonly<Record<string, number | string>> = {};
  const line = (final: boolean): string => {
    const elapsed = now() - start;
    const frac = total > 0 ? Math.min(1, count / total) : 0;
    const eta = count > 0 && !final ? ((elapsed / count) * (total - count)) : 0;
    const fields = Object.entries(last).map(([k, v]) => `${k} ${formatField(v)}`).join("  ");
    const filled = Math.round(frac * BAR);
    const bar = sink.isTTY ? `[${"█".repeat(filled)}${"·".repeat(BAR - filled)}] ` : "";
    const timing = final ? `in ${formatDuration(elapsed)}` : `elapsed ${formatDuration(elapsed)} eta ${formatDuration(eta)}`;
    return `${label} ${bar}${count}/${total} ${unit}  ${fields ? fields + "  " : ""}${timing}`;
  };
  return {
    tick(n, fields) {
      count += n;
      if (fields) last = fields;
      if (sink.isTTY) sink.write(`\r\x1b[2K${line(false)}`);
      else if (now() - lastPlain >= PLAIN_EVERY_MS || count >= total) {
        lastPlain = now();
        sink.write(line(false) + "\n");
      }
    },
    done(summary) {
      const text = line(true) + (summary ? `  ${summary}` : "");
      sink.write(sink.isTTY ? `\r\x1b[2K${text}\n` : text + "\n");
    },
  };
}

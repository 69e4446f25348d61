// Byte sizes as people write and read them: `10GB`, `500 MiB`, `1.5T` in; `1.2 GB` out.
//
// Why this exists: `tune cache gc --budget 10GB` and the size columns of `tune cache ls` must agree on units. Like
// the recipe language (`memory = 80 GB`), KB/MB/GB/TB are decimal (1000^n) and KiB/MiB/GiB/TiB binary (1024^n);
// a bare K/M/G/T is decimal too.

import { StoreError } from "./errors.js";

const UNITS: Record<string, number> = {
  "": 1,
  b: 1,
  k: 1e3, kb: 1e3, m: 1e6, mb: 1e6, g: 1e9, gb: 1e9, t: 1e12, tb: 1e12,
  kib: 1024, mib: 1024 ** 2, gib: 1024 ** 3, tib: 1024 ** 4,
};

/** Bytes in a size such as `10GB`, `2.5 GiB`, `0`; T9006 otherwise. */
export function parseSize(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(text);
  const unit = m ? UNITS[m[2]!.toLowerCase()] : undefined;
  if (!m || unit === undefined) {
    throw new StoreError("T9006", `\`${text}\` is not a size`, "write a number with a unit: 500MB, 10GB, 2GiB (KB/MB/GB are 1000-based, KiB/MiB/GiB 1024-based)");
  }
  return Math.floor(Number(m[1]) * unit);
}

/** `0 B`, `512 B`, `1.5 kB`, `12.3 MB`, `1.20 GB`: decimal units, three significant digits. */
export function formatBytes(n: number): string {
  if (n < 1000) return `${n} B`;
  const units = ["kB", "MB", "GB", "TB", "PB"];
  let v = n;
  let i = -1;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return `${v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2)} ${units[i]}`;
}

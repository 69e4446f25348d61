// Units and human-readable numbers shared by the estimator, the renderers and
// the memory diagnostic, so a size is spelled the same way everywhere.
import type { Json } from "../graph.js";

export const GiB = 2 ** 30;
export const MiB = 2 ** 20;

/** Bytes per element of a dtype name; null for names we do not know. */
export function dtypeBytes(dtype: Json | undefined): number | null {
  switch (dtype) {
    case "fp32":
      return 4;
    case "bf16":
    case "fp16":
      return 2;
    default:
      return null;
  }
}

/** A memory size as lowered: `{ value, unit }` with GB/GiB/MB/MiB (a bare number is read as GiB). */
export function memoryBytes(v: Json | undefined): number | null {
  if (typeof v === "number") return v * GiB;
  if (!v || typeof v !== "object" || Array.isArray(v) || typeof v["value"] !== "number") return null;
  const scale: Record<string, number> = { GB: 1e9, GiB, MB: 1e6, MiB };
  const s = typeof v["unit"] === "string" ? scale[v["unit"]] : undefined;
  return s === undefined ? null : v["value"] * s;
}

/** 12,345,678 — grouping by hand so output does not depend on the ICU build. */
export function grouped(n: number): string {
  const [int, frac] = String(Math.round(n * 100) / 100).split(".");
  const sign = int!.startsWith("-") ? "-" : "";
  const digits = sign ? int!.slice(1) : int!;
  const withCommas = digits.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  return sign + withCommas + (frac ? "." + frac : "");
}

/** 6.74B, 4.19M, 12.3K, 512. */
export function formatCount(n: number): string {
  const abs = Math.abs(n);
  if (abs >= 1e12) return (n / 1e12).toFixed(2) + "T";
  if (abs >= 1e9) return (n / 1e9).toFixed(2) + "B";
  if (abs >= 1e6) return (n / 1e6).toFixed(2) + "M";
  if (abs >= 1e3) return (n / 1e3).toFixed(1) + "K";
  return String(Math.round(n));
}

/** GiB with one decimal; below 1 GiB, whole MiB (so a 16 MiB adapter does not read "0.0 GiB"). */
export function formatBytes(bytes: number): string {
  if (bytes === 0) return "0";
  if (Math.abs(bytes) < GiB) return `${Math.max(1, Math.round(bytes / MiB))} MiB`;
  return `${(bytes / GiB).toFixed(1)} GiB`;
}

/** A share as a percentage with enough digits to be non-zero: 0.062%, 1.2%, 100%. */
export function formatPercent(fraction: number): string {
  const p = fraction * 100;
  if (p === 0) return "0%";
  if (p >= 10) return `${p.toFixed(1).replace(/\.0$/, "")}%`;
  if (p >= 1) return `${p.toFixed(2)}%`;
  return `${p.toPrecision(2)}%`;
}

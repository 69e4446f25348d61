// Shipped eval data: the subsets under data/eval/<dataset>/, described by manifest.json.
//
// A split is a map from the document's index in the full Hugging Face split to the doc, plus the full size.
// Eval splits are shipped as prefixes; big few-shot splits are shipped sparse (only the rows the harness
// sampler draws, see data/eval/make_subsets.py). Sampling happens over the full size, so the draws match the
// harness; asking for a row that is not shipped is an error that says so, never a silent substitute.

import { DataUnavailableError } from "./errors.js";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { Doc } from "./types.js";

export interface SplitManifest {
  file: string | null;
  rows: number;
  /** Population size the harness sees (the HF split size when the data is hub-compatible). */
  size: number;
  layout: "full" | "prefix" | "sparse" | "absent";
  where?: Record<string, unknown>;
  hub_size?: number;
}

export interface DatasetManifest {
  hub: { path: string; name: string | null };
  hub_compatible: boolean;
  note?: string;
  configs: Record<string, { splits: Record<string, SplitManifest> }>;
}

/** One split: docs by original index; `size` is the full population size. */
export class DocSplit {
  constructor(
    readonly name: string,
    readonly size: number,
    private readonly byIndex: Map<number, Doc>,
    readonly layout: SplitManifest["layout"],
    readonly where: string,
  ) {}

  get shipped(): number {
    return this.byIndex.size;
  }

  has(i: number): boolean {
    return this.byIndex.has(i);
  }

  get(i: number): Doc {
    const doc = this.byIndex.get(i);
    if (!doc) {
      throw new DataUnavailableError(
        `${this.where}: split "${this.name}" row ${i} of ${this.size} is not shipped locally ` +
          `(${this.layout}, ${this.shipped} rows); use the full data set for this shot count or limit`,
      );
    }
    return doc;
  }

  /** Docs 0..n-1 (a prefix); throws if any is missing. */
  prefix(n: number): Doc[] {
    return Array.from({ length: n }, (_, i) => this.get(i));
  }

  /** Number of leading docs that are shipped without a gap. */
  shippedPrefix(): number {
    let n = 0;
    while (this.byIndex.has(n)) n++;
    return n;
  }

  static fromDocs(name: string, docs: Doc[], where = "inline"): DocSplit {
    return new DocSplit(name, docs.length, new Map(docs.map((d, i) => [i, d])), "full", where);
  }
}

export function readManifest(dir: string): DatasetManifest {
  return JSON.parse(readFileSync(join(dir, "manifest.json"), "utf8")) as DatasetManifest;
}

/** Config key of a manifest for a task's dataset_name (a single config is used when the name is null). */
export function manifestConfig(m: DatasetManifest, datasetName: string | null | undefined, where: string) {
  if (datasetName && m.configs[datasetName]) return m.configs[datasetName];
  const keys = Object.keys(m.configs);
  if (!datasetName && keys.length === 1) return m.configs[keys[0]];
  throw new Error(`${where}: manifest has no config ${datasetName ?? "(default)"}`);
}

const fileCache = new Map<string, Doc[]>();

function readJsonl(path: string): Doc[] {
  const hit = fileCache.get(path);
  if (hit) return hit;
  const docs = readFileSync(path, "utf8")
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => JSON.parse(l) as Doc);
  fileCache.set(path, docs);
  return docs;
}

function matches(doc: Doc, where: Record<string, unknown> | undefined): boolean {
  if (!where) return true;
  return Object.entries(where).every(([k, v]) => doc[k] === v);
}

/** Load one split of a dataset folder; absent splits load as an empty population of their known size. */
export function loadSplit(dir: string, datasetName: string | null | undefined, split: string): DocSplit {
  const where = `${dir} [${datasetName ?? "default"}]`;
  const cfg = manifestConfig(readManifest(dir), datasetName, where);
  const entry = cfg.splits[split];
  if (!entry) throw new Error(`${where}: no split "${split}" in manifest`);
  const byIndex = new Map<number, Doc>();
  if (entry.file) {
    const rows = readJsonl(join(dir, entry.file)).filter((d) => matches(d, entry.where));
    rows.forEach((row, i) => {
      if (entry.layout === "sparse") {
        const { _idx, ...doc } = row;
        byIndex.set(_idx as number, doc);
      } else byIndex.set(i, row);
    });
  }
  return new DocSplit(split, entry.size, byIndex, entry.layout, where);
}

/** Split sizes a manifest knows (for the task index), preferring the hub size when recorded. */
export function knownSplitSizes(dir: string, datasetName: string | null | undefined): Record<string, { size: number; shipped: number; layout: string }> {
  const cfg = manifestConfig(readManifest(dir), datasetName, dir);
  const out: Record<string, { size: number; shipped: number; layout: string }> = {};
  for (const [name, s] of Object.entries(cfg.splits)) out[name] = { size: s.hub_size ?? s.size, shipped: s.rows, layout: s.layout };
  return out;
}

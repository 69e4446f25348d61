// Which files of a dataset repo hold one configuration's split — the decision `datasets.load_dataset` makes,
// for the layouts tune can read (Parquet, JSON Lines, JSON, CSV).
//
// Why this exists: the resolver lists a repo (online) or a snapshot folder (offline) and must pick the same
// files from either, so the choice is one pure function of the paths and the dataset card. Order of evidence:
//   1. the card's `configs:` YAML (README.md front matter) with `data_files` globs per split — authoritative;
//   2. the common layouts: `<config>/…` or `data/<config>/…` folders, `data/<split>-*.parquet`, and files or
//      folders whose name contains the split as a word (`train`, `alpaca_train.jsonl`, `<config>/<split>/0000.parquet`
//      of refs/convert/parquet); with no split words at all, every file is the train split.
// Shards come back in natural order (`…-00002-of-00010` before `…-00010-of-00010`).

import { parse as parseYaml } from "yaml";
import { HubDatasetError } from "./errors.js";

export type HubFormat = "parquet" | "jsonl" | "json" | "csv";

/** Readable formats in order of preference when one split ships several (Parquet is the Hub's canonical one). */
const FORMATS: ReadonlyArray<[HubFormat, RegExp]> = [
  ["parquet", /\.parquet$/i],
  ["jsonl", /\.(jsonl|ndjson)$/i],
  ["json", /\.json$/i],
  ["csv", /\.csv$/i],
];

/** Split names and the words datasets accepts for them (datasets/data_files.py, SPLIT_KEYWORDS). */
const SPLIT_WORDS: Readonly<Record<string, readonly string[]>> = {
  train: ["train", "training"],
  validation: ["validation", "valid", "dev", "val"],
  test: ["test", "testing", "eval", "evaluation"],
};

export interface Selection {
  readonly files: string[];
  readonly format: HubFormat;
}

export interface SelectRequest {
  readonly id: string;
  readonly config?: string;
  readonly split: string;
  /**
   * The paths are a local snapshot, which may hold only what was downloaded before: then a lone configuration
   * folder is not taken as "the only configuration" (another one may simply not be cached), except `default`.
   */
  readonly partial?: boolean;
}

const natural = new Intl.Collator("en", { numeric: true });
const formatOf = (p: string): HubFormat | null => FORMATS.find(([, re]) => re.test(p))?.[0] ?? null;
const hidden = (p: string) => p.split("/").some((s) => s.startsWith(".") || s.startsWith("__"));
const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** Choose the files of `req.config`/`req.split` among `paths`, given the dataset card's text (or null). */
export function selectFiles(paths: readonly string[], readme: string | null, req: SelectRequest): Selection {
  const configs = readme ? cardConfigs(readme) : [];
  const picked = configs.length > 0 ? fromCard(paths, configs, req) : fromLayout(paths, req);
  return readable(picked, req);
}

// ---- the dataset card

interface CardConfig {
  readonly name: string;
  readonly isDefault: boolean;
  /** split → glob patterns, relative to the repo root. */
  readonly splits: ReadonlyMap<string, readonly string[]>;
}

/** The `configs:` entries of a card's YAML front matter ([] when absent or unreadable). */
export function cardConfigs(readme: string): CardConfig[] {
  const m = /^---\r?\n([\s\S]*?)\r?\n---\s*(\r?\n|$)/.exec(readme);
  if (!m) return [];
  let meta: unknown;
  try {
    meta = parseYaml(m[1]);
  } catch {
    return [];
  }
  const list = (meta as { configs?: unknown } | null)?.configs;
  if (!Array.isArray(list)) return [];
  const out: CardConfig[] = [];
  for (const c of list as Array<Record<string, unknown>>) {
    if (!c || typeof c !== "object" || typeof c["config_name"] !== "string") continue;
    const dir = typeof c["data_dir"] === "string" ? c["data_dir"].replace(/\/+$/, "") + "/" : "";
    const splits = new Map<string, string[]>();
    const add = (split: string, pats: unknown) => {
      const arr = (Array.isArray(pats) ? pats : [pats]).filter((x): x is string => typeof x === "string");
      splits.set(split, [...(splits.get(split) ?? []), ...arr.map((p) => dir + p.replace(/^\.?\//, ""))]);
    };
    const df = c["data_files"];
    if (typeof df === "string" || (Array.isArray(df) && df.every((x) => typeof x === "string"))) add("train", df);
    else if (Array.isArray(df)) for (const e of df as Array<Record<string, unknown>>) add(String(e?.["split"] ?? "train"), e?.["path"]);
    else if (df && typeof df === "object") for (const [k, v] of Object.entries(df)) add(k, v);
    else if (dir) add("train", "**");
    out.push({ name: c["config_name"], isDefault: c["default"] === true, splits });
  }
  return out;
}

/** A data_files glob as a regex: `**` crosses folders, `*` and `?` do not. */
export function globToRegExp(glob: string): RegExp {
  let re = "";
  for (let i = 0; i < glob.length; i++) {
    const ch = glob[i];
    if (ch === "*" && glob[i + 1] === "*") {
      const slash = glob[i + 2] === "/";
      re += slash ? "(?:.*/)?" : ".*";
      i += slash ? 2 : 1;
    } else if (ch === "*") re += "[^/]*";
    else if (ch === "?") re += "[^/]";
    else re += escapeRe(ch);
  }
  return new RegExp(`^${re}$`);
}

function fromCard(paths: readonly string[], configs: CardConfig[], req: SelectRequest): string[] {
  const names = configs.map((c) => c.name);
  let cfg: CardConfig | undefined;
  if (req.config !== undefined) {
    cfg = configs.find((c) => c.name === req.config);
    if (!cfg) throw noConfig(req, names);
  } else {
    cfg = configs.find((c) => c.isDefault) ?? configs.find((c) => c.name === "default") ?? (configs.length === 1 ? configs[0] : undefined);
    if (!cfg) throw ambiguous(req, names);
  }
  const globs = cfg.splits.get(req.split);
  if (!globs) throw noSplit(req, cfg.name, [...cfg.splits.keys()]);
  const res = globs.map(globToRegExp);
  const hits = paths.filter((p) => !hidden(p) && res.some((r) => r.test(p)));
  if (hits.length === 0) throw noFiles(req, `the card's data_files for ${cfg.name}/${req.split} (${globs.join(", ")}) match no file`);
  return hits;
}

// ---- common layouts

/** Whether `path` names `word` as a word: delimited by start/end, `/`, `-`, `_`, `.`, space or a digit. */
const hasWord = (path: string, word: string) => new RegExp(`(^|[-._ 0-9/])${escapeRe(word)}($|[-._ 0-9/])`, "i").test(path);

function wordsFor(split: string): readonly string[] {
  return SPLIT_WORDS[split] ?? [split];
}

const isSplitWord = (s: string) => Object.values(SPLIT_WORDS).some((ws) => ws.includes(s.toLowerCase()));

function fromLayout(paths: readonly string[], req: SelectRequest): string[] {
  const data = paths.filter((p) => !hidden(p) && formatOf(p) !== null);
  if (data.length === 0) throw noFiles(req, "the repository holds no .parquet, .jsonl, .json or .csv file");
  // Folders at the top (or under data/) that are configurations rather than splits.
  const configDirs = [...new Set(data.map((p) => p.split("/")).filter((s) => s.length > 1 && s[0] !== "data" && !isSplitWord(s[0])).map((s) => s[0]))].sort();
  let scope: { files: string[]; base: string };
  if (req.config !== undefined) {
    const under = (pre: string) => data.filter((p) => p.startsWith(pre));
    const own = under(`${req.config}/`);
    const inData = under(`data/${req.config}/`);
    if (own.length > 0) scope = { files: own, base: `${req.config}/` };
    else if (inData.length > 0) scope = { files: inData, base: `data/${req.config}/` };
    else if (req.config === "default" && configDirs.length === 0) scope = { files: data, base: "" };
    else throw noConfig(req, configDirs);
  } else {
    const plain = data.filter((p) => !configDirs.includes(p.split("/")[0]));
    if (plain.length > 0) scope = { files: plain, base: "" };
    else if (configDirs.length === 1 && (!req.partial || configDirs[0] === "default")) scope = { files: data, base: `${configDirs[0]}/` };
    else throw ambiguous(req, configDirs);
  }
  const rel = (p: string) => p.slice(scope.base.length);
  const hits = scope.files.filter((p) => wordsFor(req.split).some((w) => hasWord(rel(p), w)));
  if (hits.length > 0) return hits;
  const anySplit = scope.files.some((p) => Object.values(SPLIT_WORDS).flat().some((w) => hasWord(rel(p), w)));
  if (!anySplit && req.split === "train") return scope.files;
  throw noFiles(req, `no file${scope.base ? ` under ${scope.base}` : ""} is named after the split \`${req.split}\``);
}

// ---- one format, natural order

function readable(picked: readonly string[], req: SelectRequest): Selection {
  for (const [format, re] of FORMATS) {
    const files = picked.filter((p) => re.test(p));
    if (files.length > 0) return { files: [...files].sort(natural.compare), format };
  }
  const shown = picked.slice(0, 3).join(", ") + (picked.length > 3 ? ", …" : "");
  throw new HubDatasetError("T7204", `${what(req)}: its files (${shown}) are in a format tune cannot read`, "tune reads .parquet, .jsonl, .json and .csv; try `revision = \"refs/convert/parquet\"`, the Hub's Parquet conversion");
}

// ---- messages

const what = (req: SelectRequest) => `hub dataset ${req.id}${req.config !== undefined ? ` (config ${req.config})` : ""} split ${req.split}`;
const listed = (xs: readonly string[]) => (xs.length > 0 ? xs.map((x) => `\`${x}\``).join(", ") : "none");

function noConfig(req: SelectRequest, names: readonly string[]): HubDatasetError {
  return new HubDatasetError("T7204", `hub dataset ${req.id} has no configuration \`${req.config}\``, `its configurations: ${listed(names)}; set \`config = "…"\` to one of them`);
}

function ambiguous(req: SelectRequest, names: readonly string[]): HubDatasetError {
  return new HubDatasetError("T7205", `hub dataset ${req.id} has several configurations and the dataset block names none`, `set \`config = "…"\` to one of ${listed(names)}`);
}

function noSplit(req: SelectRequest, config: string, splits: readonly string[]): HubDatasetError {
  return new HubDatasetError("T7204", `hub dataset ${req.id} (config ${config}) has no split \`${req.split}\``, `its splits: ${listed(splits)}; set \`split = "…"\` to one of them`);
}

function noFiles(req: SelectRequest, why: string): HubDatasetError {
  return new HubDatasetError("T7204", `${what(req)} has no data files: ${why}`, "check `config` and `split`; a dataset that only ships a loading script can be read at `revision = \"refs/convert/parquet\"`");
}

/**
 * A shard set that is visibly incomplete (`train-00000-of-00003…` present but not all three), as a message,
 * or null. Used on local snapshots, where an interrupted download or a partial `hf_hub_download` may have left
 * only some shards: reading those would silently train on part of the data.
 */
export function incompleteShards(files: readonly string[]): string | null {
  const groups = new Map<string, { total: number; seen: Set<number> }>();
  for (const f of files) {
    const m = /^(.*)-(\d{5})-of-(\d{5})(?=[-.])/.exec(f);
    if (!m) continue;
    const key = `${m[1]}|${m[3]}`;
    const g = groups.get(key) ?? { total: Number(m[3]), seen: new Set<number>() };
    g.seen.add(Number(m[2]));
    groups.set(key, g);
  }
  for (const [key, g] of groups) {
    if (g.seen.size < g.total) return `${key.split("|")[0]}-*-of-${key.split("|")[1]}: ${g.seen.size} of ${g.total} shards`;
  }
  return null;
}

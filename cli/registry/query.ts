// `tune search <words>` (the registry's search API, /-/v1/search) and `tune info <pkg>` (versions, dist-tags,
// the recipe card, and what the package exports).
//
// Why this exists: before importing a package a user wants to know what it is and what it defines. `info` reads
// the packument for versions and tags, then fetches the chosen version into the store (verified like any
// install) and lists the named blocks of each entry file, so "what it exports" is what the compiler will see.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import semver from "semver";
import { parseSource } from "../../grammar/parse.js";
import type { Io } from "../commands.js";
import { fromNpmError } from "./errors.js";
import { ensureInStore, npmOptions, pacote, resolveVersion, type FetchContext } from "./fetch.js";
import type { RegistrySpec } from "./spec.js";
import { readInside, readRecipeManifest } from "./store.js";

export interface SearchHit {
  readonly name: string;
  readonly version: string;
  readonly description: string;
  readonly keywords: readonly string[];
}

export async function search(ctx: FetchContext, words: readonly string[], size = 20): Promise<SearchHit[]> {
  const mod = (await import("npm-registry-fetch")) as unknown as { default?: typeof import("npm-registry-fetch") } & typeof import("npm-registry-fetch");
  const fetch = mod.default ?? mod;
  let body: Record<string, unknown>;
  try {
    body = await fetch.json("/-/v1/search", { ...npmOptions(ctx), query: { text: words.join(" "), size } } as Parameters<typeof fetch.json>[1]);
  } catch (e) {
    throw fromNpmError(e, `search \`${words.join(" ")}\``, ctx.config.secrets);
  }
  const objects = Array.isArray(body["objects"]) ? (body["objects"] as { package?: Record<string, unknown> }[]) : [];
  return objects
    .map((o) => o.package ?? {})
    .map((p) => ({
      name: String(p["name"] ?? ""),
      version: versionOf(p),
      description: typeof p["description"] === "string" ? p["description"] : "",
      keywords: Array.isArray(p["keywords"]) ? (p["keywords"] as unknown[]).map(String) : [],
    }))
    .filter((p) => p.name !== "");
}

/** The npm search API gives `version`; some registries (Verdaccio) give `dist-tags` and `versions` instead. */
function versionOf(p: Record<string, unknown>): string {
  if (typeof p["version"] === "string") return p["version"];
  const latest = (p["dist-tags"] as Record<string, unknown> | undefined)?.["latest"];
  if (typeof latest === "string") return latest;
  const versions = p["versions"] && typeof p["versions"] === "object" ? Object.keys(p["versions"] as object).filter((v) => semver.valid(v)) : [];
  return versions.length > 0 ? semver.rsort(versions)[0]! : "";
}

export function searchText(hits: readonly SearchHit[]): string {
  if (hits.length === 0) return "no packages found\n";
  const width = Math.max(...hits.map((h) => h.name.length + h.version.length + 1));
  return hits.map((h) => `${`${h.name}@${h.version}`.padEnd(width)}  ${h.description}`.trimEnd() + "\n").join("");
}

export interface PackageInfo {
  readonly name: string;
  readonly version: string;
  readonly description: string;
  readonly distTags: Readonly<Record<string, string>>;
  readonly versions: readonly string[];
  /** Entry file → its named blocks (`template alpaca`, …). */
  readonly exports: ReadonlyArray<{ readonly entry: string; readonly blocks: readonly string[] }>;
  readonly card: string;
}

export async function info(ctx: FetchContext, spec: RegistrySpec): Promise<PackageInfo> {
  const p = await pacote();
  let doc;
  try {
    doc = await p.packument(spec.name, npmOptions(ctx, { preferOnline: !ctx.offline }));
  } catch (e) {
    throw fromNpmError(e, spec.name, ctx.config.secrets);
  }
  const chosen = await resolveVersion(ctx, spec.name, spec.range === "*" ? "latest" : spec.range);
  const dir = await ensureInStore(ctx, chosen);
  const manifest = readRecipeManifest(dir);
  const entries = manifest.ok ? manifest.manifest.entries : [];
  const exports = entries.map((entry) => {
    const got = readInside(dir, entry);
    const blocks = got.ok ? parseSource(`${spec.name}/${entry}`, got.text).value.blocks.filter((b) => b.name?.text).map((b) => `${b.type.text} ${b.name!.text}`) : [];
    return { entry, blocks };
  });
  let card = "";
  for (const f of ["README.md", "readme.md", "README", "Readme.md"]) {
    try {
      card = readFileSync(join(dir, f), "utf8");
      break;
    } catch {
      // try the next spelling
    }
  }
  return {
    name: spec.name,
    version: chosen.version,
    description: manifest.ok ? manifest.manifest.description : "",
    distTags: (doc["dist-tags"] ?? {}) as Record<string, string>,
    versions: semver.sort(Object.keys(doc.versions)),
    exports,
    card,
  };
}

export function infoText(i: PackageInfo): string {
  const lines = [`${i.name}@${i.version}${i.description ? ` — ${i.description}` : ""}`];
  lines.push(`dist-tags: ${Object.entries(i.distTags).map(([t, v]) => `${t}=${v}`).join(", ") || "(none)"}`);
  lines.push(`versions: ${i.versions.join(", ")}`);
  lines.push("exports:");
  for (const e of i.exports) {
    lines.push(`  ${i.name}@^${i.version}${e === i.exports[0] ? "" : "/" + e.entry}  (${e.entry})`);
    for (const b of e.blocks) lines.push(`    ${b}`);
  }
  if (i.card) lines.push("", i.card.trimEnd());
  return lines.join("\n") + "\n";
}

export function printInfo(i: PackageInfo, json: boolean, io: Io): void {
  io.out(json ? JSON.stringify(i, null, 2) + "\n" : infoText(i));
}

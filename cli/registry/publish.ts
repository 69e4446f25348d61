// `tune publish [dir]`: validate a recipe package, pack exactly its recipe files, and publish it with libnpmpublish.
//
// Why this exists: a published version is immutable, so everything that can be checked is checked before it
// leaves the machine: package.json names its entries, no lifecycle scripts (packages are never executed),
// a README (the recipe card), every .tune file lints clean and is `tune fmt` stable, no links. The tarball holds
// only package.json, README/LICENSE/CHANGELOG and .tune files, packed reproducibly (fixed mtime, sorted names),
// so the same sources give the same sha512.
import { createHash } from "node:crypto";
import { lstatSync, readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import semver from "semver";
import { formatSource } from "../../grammar/format.js";
import { lintCommand, type Io } from "../commands.js";
import { fromNpmError, RegistryError } from "./errors.js";
import type { NpmConfig } from "./npmrc.js";
import { parseRegistrySpec } from "./spec.js";
import { checkManifest, type RecipeManifest } from "./store.js";

/** Lifecycle scripts npm (and other clients) run on install or pack; a recipe package may have none of them. */
const LIFECYCLE = ["preinstall", "install", "postinstall", "prepublish", "preprepare", "prepare", "postprepare", "prepack", "postpack", "prepublishOnly", "publish", "postpublish", "dependencies"];
const META = /^(readme|license|licence|changelog|notice)(\.(md|txt|markdown))?$/i;
/** npm's fixed tarball mtime, so packing is reproducible. */
const MTIME = new Date("1985-10-26T08:15:00.000Z");

export interface Packed {
  readonly manifest: RecipeManifest;
  readonly pkg: Record<string, unknown>;
  readonly files: readonly string[];
  readonly tarball: Buffer;
  readonly integrity: string;
}

/** Validate the package in `dir` (throws T8010/T8011/T8012 listing every problem) and pack it. */
export async function validateAndPack(dir: string): Promise<Packed> {
  const root = resolve(dir);
  let pkg: Record<string, unknown>;
  try {
    pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as Record<string, unknown>;
  } catch (e) {
    throw new RegistryError("T8010", `${join(root, "package.json")}: ${e instanceof SyntaxError ? `not valid JSON (${e.message})` : "missing"}`, "run `tune init` to scaffold a recipe package");
  }
  const checked = checkManifest(pkg);
  if (!checked.ok) throw new RegistryError("T8010", checked.reason, 'add `"tune": { "entries": ["recipe.tune"] }` to package.json');
  const manifest = checked.manifest;
  const nameOk = parseRegistrySpec(manifest.name);
  if (!nameOk.ok || nameOk.spec.name !== manifest.name) throw new RegistryError("T8010", `\`${manifest.name}\` is not a valid package name`, "package names are lowercase, e.g. `@team/alpaca-recipes`");
  if (semver.valid(manifest.version) === null || semver.clean(manifest.version) !== manifest.version) {
    throw new RegistryError("T8010", `version \`${manifest.version}\` is not an exact semver version`, "write e.g. `1.0.0`");
  }
  const scripts = typeof pkg["scripts"] === "object" && pkg["scripts"] !== null ? Object.keys(pkg["scripts"] as object) : [];
  const lifecycle = scripts.filter((s) => LIFECYCLE.includes(s));
  if (lifecycle.length > 0) {
    throw new RegistryError("T8012", `package.json has lifecycle scripts: ${lifecycle.join(", ")}`, "recipe packages are never executed; remove the scripts");
  }

  const { files, links } = packageFiles(root);
  const problems: string[] = [];
  for (const l of links) problems.push(`${l}: symbolic links are not packed; replace it with the file`);
  if (!files.some((f) => /^readme(\.(md|markdown|txt))?$/i.test(f))) problems.push("README.md is missing: it is the package's recipe card");
  const tunes = files.filter((f) => f.endsWith(".tune"));
  for (const e of manifest.entries) if (!tunes.includes(e)) problems.push(`tune entry \`${e}\` does not exist`);
  for (const f of tunes) {
    const text = readFileSync(join(root, f), "utf8");
    const res = formatSource(f, text);
    if (!res.ok) problems.push(`${f}: has syntax errors`);
    else if (res.text !== text) problems.push(`${f}: not formatted (run \`tune fmt ${join(dir, f)}\`)`);
  }
  let lintOut = "";
  const io: Io = { out: (t) => (lintOut += t), err: (t) => (lintOut += t) };
  if (tunes.length > 0 && lintCommand(tunes.map((f) => join(root, f)), { format: "short", color: false }, io) !== 0) {
    problems.push(`lint findings:\n${lintOut.trimEnd().split("\n").map((l) => "    " + l).join("\n")}`);
  }
  if (problems.length > 0) {
    throw new RegistryError("T8011", `${manifest.name}@${manifest.version} is not ready to publish:\n  - ${problems.join("\n  - ")}`, "fix the listed problems (`tune lint`, `tune fmt`) and publish again", 1);
  }
  const tarball = await pack(root, files);
  return { manifest, pkg, files, tarball, integrity: "sha512-" + createHash("sha512").update(tarball).digest("base64") };
}

/** Files that go into the tarball: package.json, README/LICENSE/CHANGELOG at the top, every .tune file. */
function packageFiles(root: string): { files: string[]; links: string[] } {
  const files: string[] = [];
  const links: string[] = [];
  const walk = (rel: string): void => {
    for (const name of readdirSync(join(root, rel)).sort()) {
      if (name.startsWith(".") || name === "node_modules" || name === "runs") continue;
      const r = rel ? `${rel}/${name}` : name;
      const st = lstatSync(join(root, r));
      const wanted = name.endsWith(".tune") || (rel === "" && (name === "package.json" || META.test(name)));
      if (st.isSymbolicLink()) {
        if (wanted) links.push(r);
      } else if (st.isDirectory()) walk(r);
      else if (st.isFile() && wanted) files.push(r);
    }
  };
  walk("");
  return { files: files.sort(), links };
}

async function pack(root: string, files: readonly string[]): Promise<Buffer> {
  const tar = await import("tar");
  const stream = tar.create({ gzip: { level: 9 }, cwd: root, portable: true, prefix: "package", mtime: MTIME, follow: false }, [...files]);
  const chunks: Buffer[] = [];
  for await (const c of stream as AsyncIterable<Buffer>) chunks.push(c);
  return Buffer.concat(chunks);
}

export interface PublishOptions {
  readonly tag?: string;
  readonly access?: "public" | "restricted";
  readonly dryRun: boolean;
}

/** Validate, pack and (unless dry-run) publish; prints what it did. Returns the exit code. */
export async function publishPackage(dir: string, config: NpmConfig, opts: PublishOptions, io: Io): Promise<number> {
  const packed = await validateAndPack(dir);
  const { name, version } = packed.manifest;
  const registry = config.registryFor(name);
  io.out(`${name}@${version}: ${packed.files.length} file(s), ${packed.tarball.length} bytes, ${packed.integrity.slice(0, 23)}…\n`);
  for (const f of packed.files) io.out(`  ${f}\n`);
  if (opts.dryRun) {
    io.out(`dry run: validated and packed; not published to ${registry}\n`);
    return 0;
  }
  const libpub = await import("libnpmpublish");
  const publish = (libpub as unknown as { default?: typeof libpub }).default?.publish ?? libpub.publish;
  try {
    await publish(packed.pkg as unknown as Parameters<typeof publish>[0], packed.tarball, {
      ...config.options,
      defaultTag: opts.tag ?? "latest",
      ...(opts.access ? { access: opts.access } : {}),
      npmVersion: "tune",
    } as Parameters<typeof publish>[2]);
  } catch (e) {
    throw fromNpmError(e, `${name}@${version}`, config.secrets);
  }
  io.out(`published ${name}@${version} to ${registry} (tag ${opts.tag ?? "latest"})\n`);
  return 0;
}

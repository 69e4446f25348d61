// The registry's commands: `tune add`, `install`, `publish`, `search`, `info`, `init`. Each is a function that
// returns an exit code (testable in-process, like cli/commands.ts), and `registerRegistryCommands` wires them
// into the commander program.
//
// Why this exists: one place turns every failure into `error[T8xxx]: message` + help with exit 2 (1 when a check
// said no: publish validation, `--frozen` drift), with tokens redacted and never a stack trace.
import { dirname, join, resolve } from "node:path";
import { Command, Option } from "commander";
import type { Io } from "../commands.js";
import { processIo } from "../commands.js";
import { fromNpmError, redact, RegistryError } from "./errors.js";
import { fetchContext } from "./fetch.js";
import { initPackage } from "./init.js";
import { install } from "./install.js";
import { findLock, LOCK_FILE } from "./lockfile.js";
import { loadNpmConfig, type NpmConfig } from "./npmrc.js";
import { publishPackage } from "./publish.js";
import { info, printInfo, search, searchText } from "./query.js";
import { parseRegistrySpec, type RegistrySpec } from "./spec.js";

export interface RegistryOptions {
  /** Project folder (default: the working directory). */
  readonly cwd?: string;
  /** `--registry`: the default registry URL, overriding .npmrc. */
  readonly registry?: string;
  /** Cache root (default $TUNE_CACHE_DIR or ~/.cache/tune). */
  readonly cacheDir?: string;
  readonly offline?: boolean;
  readonly env?: NodeJS.ProcessEnv;
}

/** Run a command body; print any failure as `error[T8xxx]` + help (tokens redacted) and return its exit code. */
async function guarded(io: Io, secrets: () => readonly string[], body: () => Promise<number> | number): Promise<number> {
  try {
    return await body();
  } catch (e) {
    const err = e instanceof RegistryError ? e : fromNpmError(e, "registry command", secrets());
    io.err(redact(err.render(), secrets()));
    return err.exitCode;
  }
}

function config(opts: RegistryOptions, root: string): NpmConfig {
  return loadNpmConfig({ projectDir: root, ...(opts.registry ? { registry: opts.registry } : {}), ...(opts.env ? { env: opts.env } : {}) });
}

/** The project: the folder of the nearest tune.lock at or above cwd, else cwd itself. */
function projectOf(opts: RegistryOptions): { root: string; lockPath: string } {
  const cwd = resolve(opts.cwd ?? process.cwd());
  const found = findLock(cwd);
  const root = found ? dirname(found) : cwd;
  return { root, lockPath: found ?? join(root, LOCK_FILE) };
}

function specOrThrow(text: string, allowTag: boolean): RegistrySpec {
  const parsed = parseRegistrySpec(text, allowTag);
  if (!parsed.ok) throw new RegistryError("T8001", parsed.reason, parsed.hint);
  return parsed.spec;
}

export async function addCommand(packages: readonly string[], opts: RegistryOptions, io: Io): Promise<number> {
  let secrets: readonly string[] = [];
  return guarded(io, () => secrets, async () => {
    const specs = packages.map((p) => specOrThrow(p, true));
    const { root, lockPath } = projectOf(opts);
    const cfg = config(opts, root);
    secrets = cfg.secrets;
    const res = await install(fetchContext(cfg, !!opts.offline, opts.cacheDir), root, lockPath, { frozen: false, add: specs });
    for (const s of specs) {
      const p = res.packages.get(s.name)!;
      io.out(`added ${s.name}@${p.version}  (import from "${s.name}@^${p.version}")\n`);
    }
    io.out(res.wrote ? `wrote ${lockPath}\n` : `${lockPath} unchanged\n`);
    return 0;
  });
}

export async function installCommand(opts: RegistryOptions & { readonly frozen?: boolean }, io: Io): Promise<number> {
  let secrets: readonly string[] = [];
  return guarded(io, () => secrets, async () => {
    const { root, lockPath } = projectOf(opts);
    const cfg = config(opts, root);
    secrets = cfg.secrets;
    const res = await install(fetchContext(cfg, !!opts.offline, opts.cacheDir), root, lockPath, { frozen: !!opts.frozen });
    for (const [name, p] of [...res.packages].sort(([a], [b]) => (a < b ? -1 : 1))) {
      io.out(`  ${name}@${p.version}${res.changed.includes(name) ? "  (resolved)" : ""}\n`);
    }
    io.out(`${res.packages.size} package(s) installed; ${res.wrote ? `wrote ${lockPath}` : `${lockPath} unchanged`}\n`);
    return 0;
  });
}

export async function publishCommand(dir: string | undefined, opts: RegistryOptions & { readonly dryRun?: boolean; readonly tag?: string; readonly access?: "public" | "restricted" }, io: Io): Promise<number> {
  let secrets: readonly string[] = [];
  return guarded(io, () => secrets, async () => {
    const root = resolve(opts.cwd ?? process.cwd(), dir ?? ".");
    const cfg = config(opts, root);
    secrets = cfg.secrets;
    return publishPackage(root, cfg, { dryRun: !!opts.dryRun, ...(opts.tag ? { tag: opts.tag } : {}), ...(opts.access ? { access: opts.access } : {}) }, io);
  });
}

export async function searchCommand(words: readonly string[], opts: RegistryOptions & { readonly json?: boolean }, io: Io): Promise<number> {
  let secrets: readonly string[] = [];
  return guarded(io, () => secrets, async () => {
    if (words.length === 0) throw new RegistryError("T8001", "`tune search` needs words to search for", "e.g. `tune search alpaca lora`");
    const { root } = projectOf(opts);
    const cfg = config(opts, root);
    secrets = cfg.secrets;
    const hits = await search(fetchContext(cfg, !!opts.offline, opts.cacheDir), words);
    io.out(opts.json ? JSON.stringify(hits, null, 2) + "\n" : searchText(hits));
    return 0;
  });
}

export async function infoCommand(pkg: string, opts: RegistryOptions & { readonly json?: boolean }, io: Io): Promise<number> {
  let secrets: readonly string[] = [];
  return guarded(io, () => secrets, async () => {
    const spec = specOrThrow(pkg, true);
    const { root } = projectOf(opts);
    const cfg = config(opts, root);
    secrets = cfg.secrets;
    printInfo(await info(fetchContext(cfg, !!opts.offline, opts.cacheDir), spec), !!opts.json, io);
    return 0;
  });
}

export async function initCommand(dir: string | undefined, opts: { readonly cwd?: string; readonly name?: string }, io: Io): Promise<number> {
  return guarded(io, () => [], () => initPackage(resolve(opts.cwd ?? process.cwd(), dir ?? "."), opts.name ? { name: opts.name } : {}, io));
}

/**
 * Add the registry commands to the `tune` program. `setExit` receives each command's exit code (main.ts passes
 * the same callback its own commands use); without it the code goes to process.exitCode.
 */
export function registerRegistryCommands(program: Command, setExit: (code: number) => void = (c) => void (process.exitCode = c)): void {
  const registry = () => new Option("--registry <url>", "registry URL (default: .npmrc `registry=`, else registry.npmjs.org)");
  const common = (o: { registry?: string; offline?: boolean }): RegistryOptions => ({ ...(o.registry ? { registry: o.registry } : {}), offline: !!o.offline });

  program
    .command("add")
    .description("fetch registry packages (@scope/name@range) into the cache and pin them in tune.lock")
    .argument("<packages...>", "package specs, e.g. @acme/alpagasus@^1.2 or @acme/alpagasus@latest")
    .addOption(registry())
    .option("--offline", "use only the local cache")
    .action(async (pkgs: string[], o) => setExit(await addCommand(pkgs, common(o), processIo)));

  program
    .command("install")
    .description("install the registry packages the project's recipes import, as pinned by tune.lock")
    .option("--frozen", "fail (exit 1) instead of changing tune.lock")
    .option("--offline", "use only the local cache")
    .addOption(registry())
    .action(async (o) => setExit(await installCommand({ ...common(o), frozen: !!o.frozen }, processIo)));

  program
    .command("publish")
    .description("validate a recipe package (lint, fmt, README) and publish it")
    .argument("[dir]", "package folder", ".")
    .option("--dry-run", "validate and pack; publish nothing")
    .option("--tag <tag>", "dist-tag to publish under", "latest")
    .addOption(new Option("--access <access>", "access for scoped packages").choices(["public", "restricted"]))
    .addOption(registry())
    .action(async (dir: string, o) => setExit(await publishCommand(dir, { ...common(o), dryRun: !!o.dryRun, tag: o.tag, ...(o.access ? { access: o.access } : {}) }, processIo)));

  program
    .command("search")
    .description("search the registry for recipe packages")
    .argument("<words...>", "search words")
    .option("--json", "machine-readable output")
    .addOption(registry())
    .action(async (words: string[], o) => setExit(await searchCommand(words, { ...common(o), json: !!o.json }, processIo)));

  program
    .command("info")
    .description("show a package's versions, recipe card and exports")
    .argument("<package>", "package spec, e.g. @acme/alpagasus or @acme/alpagasus@^1.2")
    .option("--json", "machine-readable output")
    .addOption(registry())
    .action(async (pkg: string, o) => setExit(await infoCommand(pkg, { ...common(o), json: !!o.json }, processIo)));

  program
    .command("init")
    .description("scaffold a recipe package (package.json with a tune field, recipe, README card)")
    .argument("[dir]", "folder to create it in", ".")
    .option("--name <name>", "package name, e.g. @team/alpaca-lora (default: the folder's name)")
    .action(async (dir: string, o) => setExit(await initCommand(dir, o.name ? { name: o.name } : {}, processIo)));
}

// The registry's pieces that need no registry: spec parsing, .npmrc settings and redaction, tune.lock reading and
// writing (sharing the file with other features), the compile-time resolver on a real store folder, and the
// commander wiring (exit codes, error shape).
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Command } from "commander";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fsHost } from "../../cli/host.js";
import { registerRegistryCommands } from "../../cli/registry/commands.js";
import { fromNpmError, redact, REGISTRY_CODES } from "../../cli/registry/errors.js";
import { lockText, readLock, writeLock } from "../../cli/registry/lockfile.js";
import { loadNpmConfig, parseNpmrc } from "../../cli/registry/npmrc.js";
import { parseRegistrySpec } from "../../cli/registry/spec.js";
import { packageDir, storePaths } from "../../cli/registry/store.js";
import { compile } from "../../compiler/compile.js";

let tmp: string;
beforeAll(() => void (tmp = mkdtempSync(join(tmpdir(), "tune-registry-units-"))));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const INTEGRITY = "sha512-" + Buffer.alloc(64, 7).toString("base64");

describe("package specs", () => {
  it("parses scoped and unscoped names, ranges and entry subpaths", () => {
    expect(parseRegistrySpec("@acme/alpagasus@^1.2")).toEqual({ ok: true, spec: { name: "@acme/alpagasus", range: "^1.2", subpath: null } });
    expect(parseRegistrySpec("@acme/t@~1.0.0/lib/chat")).toEqual({ ok: true, spec: { name: "@acme/t", range: "~1.0.0", subpath: "lib/chat.tune" } });
    expect(parseRegistrySpec("plain-pkg@>=1.0.0 <2")).toEqual({ ok: true, spec: { name: "plain-pkg", range: ">=1.0.0 <2", subpath: null } });
    expect(parseRegistrySpec("@acme/x")).toEqual({ ok: true, spec: { name: "@acme/x", range: "*", subpath: null } });
  });

  it("accepts dist-tags only where asked (tune add), never in imports", () => {
    expect(parseRegistrySpec("@acme/x@latest", true)).toMatchObject({ ok: true, spec: { range: "latest" } });
    expect(parseRegistrySpec("@acme/x@latest")).toMatchObject({ ok: false, reason: "`latest` is not a semver range" });
  });

  it("refuses bad names and entry paths that leave the package", () => {
    expect(parseRegistrySpec("@Acme/X@1")).toMatchObject({ ok: false, reason: "`@Acme/X` is not a valid package name" });
    expect(parseRegistrySpec("@acme/x@1/../../etc/passwd")).toMatchObject({ ok: false, reason: expect.stringContaining("cannot leave the package") });
    expect(parseRegistrySpec("@acme/x@1//etc/passwd")).toMatchObject({ ok: false, reason: expect.stringContaining("cannot be absolute") });
    expect(parseRegistrySpec("@acme/x@")).toMatchObject({ ok: false, reason: expect.stringContaining("empty version range") });
  });
});

describe(".npmrc", () => {
  it("expands ${VAR}, reads scoped registries, lets the project override the user file, and knows its secrets", () => {
    const dir = join(tmp, "npmrc");
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "user.npmrc"), "registry=https://user.example/\n//corp.example/:_authToken=userSecret123\n");
    writeFileSync(join(dir, ".npmrc"), "# project\n@acme:registry=https://corp.example\n//corp.example/:_authToken=${CORP_TOKEN}\n");
    const cfg = loadNpmConfig({ projectDir: dir, env: { NPM_CONFIG_USERCONFIG: join(dir, "user.npmrc"), CORP_TOKEN: "projSecret456" } });
    expect(cfg.registry).toBe("https://user.example/");
    expect(cfg.registryFor("@acme/x")).toBe("https://corp.example/");
    expect(cfg.registryFor("other")).toBe("https://user.example/");
    expect(cfg.options["//corp.example/:_authToken"]).toBe("projSecret456");
    expect(cfg.secrets).toContain("projSecret456");
    expect(redact("401 for token projSecret456; Authorization: Bearer abcdefgh", cfg.secrets)).toBe("401 for token ***; Authorization: Bearer ***");
  });

  it("reports an unset variable with file and line", () => {
    expect(() => parseNpmrc("a=1\n//h/:_authToken=${MISSING_TOKEN}\n", {}, "/p/.npmrc")).toThrow("/p/.npmrc:2 uses ${MISSING_TOKEN}, which is not set in the environment");
  });

  it("maps npm's errors onto codes, redacting secrets", () => {
    const e = fromNpmError(Object.assign(new Error("401 Unauthorized - GET http://r/x - token s3cretValue rejected"), { statusCode: 401, code: "E401" }), "@a/x@^1", ["s3cretValue"]);
    expect(e.code).toBe("T8004");
    expect(e.render()).not.toContain("s3cretValue");
    expect(fromNpmError(Object.assign(new Error("x"), { code: "EINTEGRITY" }), "@a/x@1.0.0", []).code).toBe("T8003");
    expect(fromNpmError(Object.assign(new Error("x"), { code: "ECONNREFUSED" }), "@a/x", []).code).toBe("T8006");
    expect(Object.keys(REGISTRY_CODES).every((c) => /^T8\d{3}$/.test(c))).toBe(true);
  });
});

describe("tune.lock", () => {
  it("rewrites only `packages`, keeping other sections and their order, with sorted names", () => {
    const path = join(tmp, "shared.lock");
    writeFileSync(path, JSON.stringify({ version: 1, tune: "0.1.0", models: { base: { revision: "abc" } } }, null, 2));
    const lock = readLock(path);
    const pkgs = new Map([
      ["@z/b", { version: "2.0.0", resolved: "http://r/@z/b/-/b-2.0.0.tgz", integrity: INTEGRITY }],
      ["@a/a", { version: "1.0.0", resolved: "http://r/@a/a/-/a-1.0.0.tgz", integrity: INTEGRITY, imports: { "@z/b": "^2" } }],
    ]);
    writeLock(lock, pkgs);
    const back = JSON.parse(readFileSync(path, "utf8"));
    expect(Object.keys(back)).toEqual(["version", "tune", "models", "packages"]);
    expect(back.models).toEqual({ base: { revision: "abc" } });
    expect(Object.keys(back.packages)).toEqual(["@a/a", "@z/b"]);
    expect(readLock(path).packages.get("@a/a")).toEqual(pkgs.get("@a/a"));
    expect(lockText(readLock(path).raw, readLock(path).packages)).toBe(readFileSync(path, "utf8"));
  });

  it("refuses malformed entries with T8009", () => {
    const path = join(tmp, "bad.lock");
    const bad = (entry: unknown, why: string) => {
      writeFileSync(path, JSON.stringify({ packages: { "@a/x": entry } }));
      expect(() => readLock(path)).toThrow(why);
    };
    bad({ version: "^1.0.0", resolved: "http://r/x.tgz", integrity: INTEGRITY }, "not an exact semver version");
    bad({ version: "1.0.0", resolved: "http://user:pw@r/x.tgz", integrity: INTEGRITY }, "carries credentials");
    bad({ version: "1.0.0", resolved: "http://r/x.tgz", integrity: "sha1-abc" }, "not a sha512 integrity");
    writeFileSync(path, "{ nope");
    expect(() => readLock(path)).toThrow(/not valid JSON/);
  });
});

describe("compile-time resolution through tune.lock and the store", () => {
  /** A project with a lock naming @acme/lib@1.2.0, whose unpacked files are written straight into the store. */
  function setup(name: string, files: Record<string, string>, entries = ["lib.tune"]): { project: string; cacheDir: string; pkgDir: string } {
    const root = join(tmp, name);
    const project = join(root, "project");
    const cacheDir = join(root, "cache");
    mkdirSync(project, { recursive: true });
    writeFileSync(join(project, "tune.lock"), JSON.stringify({ version: 1, packages: { "@acme/lib": { version: "1.2.0", resolved: "http://r/@acme/lib/-/lib-1.2.0.tgz", integrity: INTEGRITY } } }));
    const pkgDir = packageDir(storePaths(cacheDir), INTEGRITY);
    mkdirSync(pkgDir, { recursive: true });
    writeFileSync(join(pkgDir, "package.json"), JSON.stringify({ name: "@acme/lib", version: "1.2.0", tune: { entries } }));
    for (const [f, t] of Object.entries(files)) {
      mkdirSync(join(pkgDir, f, ".."), { recursive: true });
      writeFileSync(join(pkgDir, f), t);
    }
    return { project, cacheDir, pkgDir };
  }
  const TEMPLATE = 'template shared {\n  prompt = "{{instruction}}"\n  completion = "{{output}}"\n}\n';

  function errors(project: string, cacheDir: string, text: string): string[] {
    return compile(join(project, "r.tune"), text, fsHost({ cacheDir }))
      .diagnostics.filter((d) => d.code === "T2004")
      .map((d) => `${d.message} | ${d.help ?? ""}`);
  }

  it("loads the entry and its relative imports under versioned virtual paths", () => {
    const { project, cacheDir } = setup("ok", { "lib.tune": 'import { shared } from "./parts/t.tune"\n', "parts/t.tune": TEMPLATE }, ["lib.tune", "parts/t.tune"]);
    const c = compile(join(project, "r.tune"), 'import { shared } from "@acme/lib@^1.1/parts/t.tune"\nimport "@acme/lib@1.2.0" as lib\n', fsHost({ cacheDir }));
    expect(c.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
    expect([...c.program.modules.keys()].sort()).toEqual(["@acme/lib@1.2.0/lib.tune", "@acme/lib@1.2.0/parts/t.tune", join(project, "r.tune")].sort());
  });

  it("explains every way an import can fail", () => {
    const { project, cacheDir, pkgDir } = setup("fail", { "lib.tune": TEMPLATE, "hidden.tune": TEMPLATE });
    expect(errors(project, cacheDir, 'import "@acme/lib@^2" as x\n')).toEqual(["tune.lock pins @acme/lib@1.2.0, which does not satisfy `^2` | run `tune add @acme/lib@^2` to move the lock, or widen the range"]);
    expect(errors(project, cacheDir, 'import "@acme/other@^1" as x\n')[0]).toMatch(/^registry package `@acme\/other@\^1` is not installed \| run `tune add @acme\/other@\^1`/);
    expect(errors(project, cacheDir, 'import "@acme/lib@^1/hidden.tune" as x\n')).toEqual(["@acme/lib@1.2.0 does not export `hidden.tune` | its entries: lib.tune"]);
    expect(errors(project, cacheDir, 'import "@acme/lib@latest" as x\n')[0]).toMatch(/^`latest` is not a semver range/);
    rmSync(pkgDir, { recursive: true });
    expect(errors(project, cacheDir, 'import "@acme/lib@^1" as x\n')).toEqual(["@acme/lib@1.2.0 is locked but not in the package cache | run `tune install` to fetch the locked packages"]);
    expect(errors(tmp, cacheDir, 'import "@acme/lib@^1" as x\n')[0]).toContain("no tune.lock found above this file");
  });

  it("does not follow a symlink out of the package, nor `..` above its root", () => {
    const outside = join(tmp, "outside.tune");
    writeFileSync(outside, TEMPLATE);
    const { project, cacheDir, pkgDir } = setup("links", { "lib.tune": 'import { shared } from "./link.tune"\n', "up.tune": 'import { shared } from "../../../../outside.tune"\n' }, ["lib.tune", "up.tune"]);
    symlinkSync(outside, join(pkgDir, "link.tune"));
    expect(errors(project, cacheDir, 'import "@acme/lib@^1" as x\n')).toEqual(["@acme/lib@1.2.0: `link.tune` leads outside the package directory | imports inside a package stay inside it; report this to the package's author"]);
    expect(errors(project, cacheDir, 'import "@acme/lib@^1/up.tune" as x\n')[0]).toMatch(/^`\.\.\/\.\.\/\.\.\/\.\.\/outside\.tune` leaves package @acme\/lib@1\.2\.0/);
  });
});

describe("commander wiring", () => {
  async function cli(args: string[]): Promise<{ code: number; err: string }> {
    const program = new Command().exitOverride();
    let code = -1;
    registerRegistryCommands(program, (c) => (code = c));
    let err = "";
    const write = process.stderr.write.bind(process.stderr);
    process.stderr.write = ((s: string) => ((err += s), true)) as typeof process.stderr.write;
    try {
      await program.parseAsync(args, { from: "user" });
    } finally {
      process.stderr.write = write;
    }
    return { code, err };
  }

  it("prints a coded error with help and exits 2 for a bad spec, without a stack trace", async () => {
    const r = await cli(["add", "Not A Package"]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^error\[T8001\]: `Not A Package` is not a valid package name\n {2}= help: /);
    expect(r.err).not.toMatch(/\n\s+at /);
  });

  it("exits 1 when publish validation fails (a check said no)", async () => {
    const dir = join(tmp, "unready");
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "package.json"), JSON.stringify({ name: "@acme/unready", version: "1.0.0", tune: { entries: ["a.tune"] } }));
    writeFileSync(join(dir, "a.tune"), TEMPLATE_UNFORMATTED);
    const r = await cli(["publish", dir, "--dry-run"]);
    expect(r.code).toBe(1);
    expect(r.err).toContain("error[T8011]");
    expect(r.err).toContain("README.md is missing");
  });
});

const TEMPLATE_UNFORMATTED = 'template a {\nprompt = "{{x}}"\n  completion = "{{y}}"\n}\n';

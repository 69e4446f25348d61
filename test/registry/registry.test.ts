// End-to-end proof of the recipe registry against a real Verdaccio on loopback: publish (validated), resolve
// ranges, lock, import into recipes that compile and plan, and the failure modes that matter: republish (409),
// bad token (401), tampered tarball (integrity), --frozen drift, offline installs, and packages that try to
// escape their directory or run scripts.
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fsHost } from "../../cli/host.js";
import type { Io } from "../../cli/commands.js";
import { runRecipeCommand } from "../../cli/run.js";
import { addCommand, infoCommand, initCommand, installCommand, publishCommand, searchCommand, type RegistryOptions } from "../../cli/registry/commands.js";
import { compile } from "../../compiler/compile.js";
import { dumpGraph } from "../../compiler/graph.js";
import { formatSource } from "../../grammar/format.js";
import { parseSource } from "../../grammar/parse.js";
import { PASSWORD, startRegistry, USER, type TestRegistry } from "./verdaccio.js";

const SCOPE = "@tune-examples";
const DRY_RUN = { dryRun: true, smoke: false, color: false, device: "auto", runsDir: "runs", cache: false };
let reg: TestRegistry;
let token: string;
let tmp: string;
let cacheDir: string;
/** Everything any command printed, to check that no token ever appears. */
const transcript: string[] = [];
const savedCache = process.env["TUNE_CACHE_DIR"];

function capture(): Io & { out_: () => string; err_: () => string } {
  let out = "";
  let err = "";
  return {
    out: (t) => void ((out += t), transcript.push(t)),
    err: (t) => void ((err += t), transcript.push(t)),
    out_: () => out,
    err_: () => err,
  };
}

/** A folder with an .npmrc pointing at the test registry; the token comes from the environment, as in CI. */
function project(name: string, tokenValue = token): { dir: string; opts: RegistryOptions } {
  const dir = join(tmp, name);
  mkdirSync(dir, { recursive: true });
  const host = reg.url.replace(/^http:/, "");
  writeFileSync(join(dir, ".npmrc"), `registry=${reg.url}\n${host}:_authToken=\${TUNE_TEST_TOKEN}\n`);
  return { dir, opts: { cwd: dir, cacheDir, env: { NPM_CONFIG_USERCONFIG: join(tmp, "no-user-npmrc"), TUNE_TEST_TOKEN: tokenValue } } };
}

function write(dir: string, files: Record<string, string>): void {
  for (const [f, text] of Object.entries(files)) {
    mkdirSync(join(dir, f, ".."), { recursive: true });
    writeFileSync(join(dir, f), text);
  }
}

function pkgJson(name: string, version: string, entries: string[], extra: Record<string, unknown> = {}): string {
  return JSON.stringify({ name, version, description: `${name} test package`, keywords: ["tune"], tune: { entries }, ...extra }, null, 2) + "\n";
}

/** Source text of named blocks of a stdlib file, formatted: the shared parts of the model-card recipes. */
function stdBlocks(file: string, names: string[], header: string): string {
  const text = readFileSync(`stdlib/${file}`, "utf8");
  const blocks = parseSource(file, text).value.blocks.filter((b) => names.includes(b.name?.text ?? ""));
  expect(blocks.map((b) => b.name!.text).sort()).toEqual([...names].sort());
  const out = formatSource(file, `# ${header}\n\n` + blocks.map((b) => text.slice(b.span.start, b.span.end)).join("\n\n") + "\n");
  if (!out.ok) throw new Error("stdlib blocks do not format");
  return out.text;
}

function lockOf(dir: string): { version: number; packages: Record<string, { version: string; resolved: string; integrity: string; imports?: Record<string, string> }> } & Record<string, unknown> {
  return JSON.parse(readFileSync(join(dir, "tune.lock"), "utf8"));
}

function sha512OfStoredTarball(name: string, version: string): string {
  const base = name.split("/").pop()!;
  return "sha512-" + createHash("sha512").update(readFileSync(join(reg.storage, name, `${base}-${version}.tgz`))).digest("base64");
}

async function publishDir(dir: string, opts: RegistryOptions, extra: { dryRun?: boolean } = {}) {
  const io = capture();
  const code = await publishCommand(dir, { ...opts, ...extra }, io);
  return { code, out: io.out_(), err: io.err_() };
}

async function publishRaw(files: Record<string, string>, manifest: Record<string, unknown>, links: Record<string, string> = {}): Promise<void> {
  // A hostile publisher skips `tune publish`'s validation: pack and publish with npm's libraries directly.
  const dir = mkdtempSync(join(tmp, "raw-"));
  write(dir, { ...files, "package.json": JSON.stringify(manifest) });
  for (const [from, to] of Object.entries(links)) symlinkSync(to, join(dir, from));
  const tar = await import("tar");
  const chunks: Buffer[] = [];
  for await (const c of tar.create({ gzip: true, cwd: dir, prefix: "package", portable: true }, ["package.json", ...Object.keys(files), ...Object.keys(links)]) as AsyncIterable<Buffer>) chunks.push(c);
  const { publish } = (await import("libnpmpublish")).default ?? (await import("libnpmpublish"));
  await publish(manifest as never, Buffer.concat(chunks), { registry: reg.url, [`${reg.url.replace(/^http:/, "")}:_authToken`]: token } as never);
}

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), "tune-registry-"));
  cacheDir = join(tmp, "cache");
  process.env["TUNE_CACHE_DIR"] = cacheDir; // for runCommand's compile, which uses the default host
  reg = await startRegistry(join(tmp, "verdaccio"));
  token = await reg.login(USER, PASSWORD);
});

afterAll(async () => {
  await reg?.close();
  if (savedCache === undefined) delete process.env["TUNE_CACHE_DIR"];
  else process.env["TUNE_CACHE_DIR"] = savedCache;
  rmSync(tmp, { recursive: true, force: true });
});

describe("recipe registry against a real Verdaccio", () => {
  const templates = `${SCOPE}/templates`;
  const evals = `${SCOPE}/open-llm`;

  it("publishes two versions of the shared templates and the open-llm eval suite", async () => {
    const { dir, opts } = project("pub-templates");
    const v1 = stdBlocks("templates.tune", ["alpaca", "llama3_chat"], "Alpaca and Llama 3 chat templates, exact reference wording.");
    write(dir, { "package.json": pkgJson(templates, "1.0.0", ["templates.tune"]), "templates.tune": v1, "README.md": "# templates\n\nAlpaca and Llama 3 chat.\n" });
    let r = await publishDir(dir, opts);
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
    expect(r.out).toContain(`published ${templates}@1.0.0 to ${reg.url}`);
    // 1.1.0 adds chatml.
    write(dir, { "package.json": pkgJson(templates, "1.1.0", ["templates.tune"]), "templates.tune": stdBlocks("templates.tune", ["alpaca", "llama3_chat", "chatml"], "Alpaca, Llama 3 chat and ChatML templates.") });
    r = await publishDir(dir, opts);
    expect(r.code).toBe(0);

    const e = project("pub-evals");
    write(e.dir, {
      "package.json": pkgJson(evals, "1.0.0", ["open-llm.tune"]),
      "README.md": "# open-llm\n\nThe Open LLM Leaderboard (v1) tasks.\n",
      "open-llm.tune": '# The Open LLM Leaderboard v1 suite.\nimport { arc_challenge, hellaswag, mmlu, truthfulqa_mc2 } from "std/evals"\n\ngroup open_llm {\n  tasks = [arc_challenge, hellaswag, mmlu, truthfulqa_mc2]\n  metrics = [acc, acc_norm]\n}\n',
    });
    r = await publishDir(e.dir, e.opts);
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
  });

  it("refuses to republish a version (409), and a bad token (401), without printing the token", async () => {
    const { dir, opts } = project("pub-templates");
    const again = await publishDir(dir, opts);
    expect(again.code).toBe(2);
    expect(again.err).toMatch(/^error\[T8005\]: @tune-examples\/templates@1\.1\.0 is already published; published versions are immutable/);
    expect(again.err).toContain("= help: bump `version`");

    const bogus = "npm_bogusTokenValue0123456789";
    const bad = project("pub-badtoken", bogus);
    write(bad.dir, { "package.json": pkgJson(`${SCOPE}/nope`, "1.0.0", ["a.tune"]), "README.md": "# nope\n", "a.tune": 'template a {\n  prompt = "{{x}}"\n  completion = "{{y}}"\n}\n' });
    const r = await publishDir(bad.dir, bad.opts);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^error\[T8004\]: the registry refused @tune-examples\/nope@1\.0\.0 \(HTTP 401\)/);
    expect(r.err).not.toContain(bogus);
    expect(r.err).not.toMatch(/\n\s+at /); // no stack trace
  });

  it("validates before publishing: lint, fmt, README, scripts", async () => {
    const { dir, opts } = project("pub-invalid");
    write(dir, {
      "package.json": pkgJson(`${SCOPE}/invalid`, "1.0.0", ["a.tune", "missing.tune"]),
      "a.tune": "template a {\n    prompt = \"{{x}}\"\n  completion = \"{{y}}\"\n  colour = 3\n}\n",
    });
    const r = await publishDir(dir, opts);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^error\[T8011\]: @tune-examples\/invalid@1\.0\.0 is not ready to publish/);
    expect(r.err).toContain("README.md is missing");
    expect(r.err).toContain("tune entry `missing.tune` does not exist");
    expect(r.err).toContain("a.tune: not formatted");
    expect(r.err).toMatch(/lint findings:[\s\S]*colour/);

    write(dir, { "package.json": pkgJson(`${SCOPE}/invalid`, "1.0.0", ["a.tune"], { scripts: { postinstall: "node steal.js" } }) });
    const s = await publishDir(dir, opts);
    expect(s.code).toBe(2);
    expect(s.err).toMatch(/^error\[T8012\]: package.json has lifecycle scripts: postinstall/);
  });

  it("scaffolds a package with `tune init` that passes validation and publishes", async () => {
    const { dir, opts } = project("starter");
    const io = capture();
    expect(await initCommand(undefined, { cwd: dir, name: `${SCOPE}/starter` }, io)).toBe(0);
    expect(readdirSync(dir).sort()).toEqual([".npmrc", "README.md", "package.json", "recipe.tune", "templates.tune"]);
    expect(JSON.parse(readFileSync(join(dir, "package.json"), "utf8")).tune).toEqual({ entries: ["recipe.tune", "templates.tune"] });
    const again = capture();
    expect(await initCommand(undefined, { cwd: dir, name: `${SCOPE}/starter` }, again)).toBe(2);
    expect(again.err_()).toMatch(/^error\[T8014\]/);
    const r = await publishDir(dir, opts);
    expect(r.err).toBe("");
    expect(r.out).toContain(`published ${SCOPE}/starter@0.1.0`);
  });

  it("resolves a range with `tune add`, locks exact version, URL and integrity, and imports compile", async () => {
    const { dir, opts } = project("consumer");
    const io = capture();
    expect(await addCommand([`${templates}@^1.0`], opts, io)).toBe(0);
    expect(io.out_()).toContain(`added ${templates}@1.1.0`);
    const lock = lockOf(dir);
    expect(lock.version).toBe(1);
    expect(lock.packages[templates]).toEqual({
      version: "1.1.0",
      resolved: expect.stringMatching(new RegExp(`^${reg.url}@tune-examples/templates/-/templates-1\\.1\\.0\\.tgz$`)),
      integrity: sha512OfStoredTarball(templates, "1.1.0"),
    });

    // The model-card recipe with its shared parts imported from the registry instead of the stdlib.
    const original = readFileSync("recipes/llama3-8b-alpaca-gpt4.tune", "utf8");
    const recipe = original.replace('import { llama3_chat } from "std/templates"', `import { llama3_chat } from "${templates}@^1.0"`);
    expect(recipe).not.toBe(original);
    write(dir, { "llama3.tune": recipe });
    const c = compile(join(dir, "llama3.tune"), recipe, fsHost({ cacheDir }));
    expect(c.diagnostics.map((d) => `${d.code} ${d.message}`)).toEqual([]);
    // Same template bytes → the same graph, hash for hash, as the stdlib version.
    const ref = compile("recipes/llama3-8b-alpaca-gpt4.tune", original, fsHost({ cacheDir }));
    expect(dumpGraph(c.graph!)).toBe(dumpGraph(ref.graph!));
    expect([...c.program.modules.keys()]).toContain(`${templates}@1.1.0/templates.tune`);
  });

  it("installs the imports a recipe declares (with a package importing another) and runs it --dry-run", async () => {
    // A package whose own file imports the templates package with a narrower range (~1.0 → 1.0.x).
    const p = project("pub-chat-parts");
    write(p.dir, {
      "package.json": pkgJson(`${SCOPE}/chat-parts`, "1.0.0", ["parts.tune"]),
      "README.md": "# chat-parts\n",
      "parts.tune": `import { alpaca } from "${templates}@~1.0.0"\n\nadapter lora_all {\n  method = lora\n  r = 16\n  alpha = 32\n  dropout = 0.05\n  targets = all_linear\n}\n`,
    });
    // Its author installs its dependency first, so that lint (and publish) can resolve it.
    expect(await installCommand(p.opts, capture())).toBe(0);
    const pr = await publishDir(p.dir, p.opts);
    expect(pr.err).toBe("");

    const { dir, opts } = project("alpagasus-like");
    const original = readFileSync("recipes/alpagasus.tune", "utf8");
    const recipe = original
      .replace('import { alpaca } from "std/templates"', `import { alpaca } from "${templates}@^1.0"\nimport { open_llm } from "${evals}@^1"\nimport { lora_all } from "${SCOPE}/chat-parts@^1"`)
      .replace('import { arc_challenge, hellaswag, mmlu, truthfulqa_mc2 } from "std/evals"\n', "")
      .replace(/eval open_llm \{[\s\S]*?\n\}/, "eval open_llm_eval {\n  models = [llama2, sft]\n  task(open_llm, shots = 0, metric = acc)\n}")
      .replace(/adapter qlora \{[\s\S]*?\n\}\n/, "")
      .replace("adapter = qlora", "adapter = lora_all");
    expect(recipe).toContain("task(open_llm");
    write(dir, { "recipe.tune": recipe });
    const io = capture();
    expect(await installCommand(opts, io)).toBe(0);
    const lock = lockOf(dir);
    // One version per package: ^1.0 (recipe) and ~1.0.0 (chat-parts) meet at 1.0.0.
    expect(Object.fromEntries(Object.entries(lock.packages).map(([n, p]) => [n, p.version]))).toEqual({
      [`${SCOPE}/chat-parts`]: "1.0.0",
      [evals]: "1.0.0",
      [templates]: "1.0.0",
    });
    expect(lock.packages[`${SCOPE}/chat-parts`]!.imports).toEqual({ [templates]: "~1.0.0" });
    for (const [n, p] of Object.entries(lock.packages)) expect(p.integrity).toBe(sha512OfStoredTarball(n, p.version));

    const run = capture();
    const code = await runRecipeCommand(join(dir, "recipe.tune"), DRY_RUN, run);
    expect(run.err_()).not.toMatch(/error/);
    expect(code).toBe(0);
    expect(run.out_()).toContain("eval_task:open_llm@sft"); // the group from @tune-examples/open-llm
    expect(run.out_()).toMatch(/training +sft, LoRA r=16 on q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj, down_proj/); // lora_all from chat-parts
    expect(run.out_()).toContain("dry run: compiled and planned");
  });

  it("fails --frozen on drift and leaves tune.lock untouched; without --frozen it updates", async () => {
    const { dir, opts } = project("consumer");
    write(dir, { "llama3.tune": readFileSync(join(dir, "llama3.tune"), "utf8").replace(`"${templates}@^1.0"`, `"${templates}@~1.0.0"`) });
    const before = readFileSync(join(dir, "tune.lock"), "utf8");
    const io = capture();
    expect(await installCommand({ ...opts, frozen: true } , io)).toBe(1);
    expect(io.err_()).toMatch(/^error\[T8008\]: --frozen: tune.lock pins @tune-examples\/templates@1\.1\.0, but llama3\.tune:\d+ asks for `~1\.0\.0`/);
    expect(readFileSync(join(dir, "tune.lock"), "utf8")).toBe(before);
    // Compiling says what is wrong, too.
    const c = compile(join(dir, "llama3.tune"), readFileSync(join(dir, "llama3.tune"), "utf8"), fsHost({ cacheDir }));
    expect(c.diagnostics.filter((d) => d.code === "T2004").map((d) => d.message)).toEqual([`tune.lock pins ${templates}@1.1.0, which does not satisfy \`~1.0.0\``]);

    const ok = capture();
    expect(await installCommand(opts, ok)).toBe(0);
    expect(ok.out_()).toContain(`${templates}@1.0.0  (resolved)`);
    expect(lockOf(dir).packages[templates]!.version).toBe("1.0.0");
    const frozen = capture();
    expect(await installCommand({ ...opts, frozen: true } , frozen)).toBe(0);
    expect(frozen.out_()).toContain("unchanged");
  });

  it("searches the registry and shows a package's versions, card and exports", async () => {
    const { opts } = project("consumer");
    const s = capture();
    expect(await searchCommand(["templates"], opts, s)).toBe(0);
    expect(s.out_()).toContain(`${templates}@1.1.0`);
    const i = capture();
    expect(await infoCommand(templates, opts, i)).toBe(0);
    expect(i.out_()).toContain("versions: 1.0.0, 1.1.0");
    expect(i.out_()).toContain("dist-tags: latest=1.1.0");
    expect(i.out_()).toMatch(/exports:\n {2}@tune-examples\/templates@\^1\.1\.0 {2}\(templates\.tune\)\n {4}template alpaca\n {4}template llama3_chat\n {4}template chatml/);
    expect(i.out_()).toContain("# templates");
  });

  it("rejects a tampered tarball with an integrity error and installs nothing", async () => {
    const victim = `${SCOPE}/tamper-me`;
    const p = project("pub-tamper");
    write(p.dir, { "package.json": pkgJson(victim, "1.0.0", ["t.tune"]), "README.md": "# t\n", "t.tune": 'template t {\n  prompt = "{{instruction}}"\n  completion = "{{output}}"\n}\n' });
    expect((await publishDir(p.dir, p.opts)).code).toBe(0);
    // tune.lock is authoritative: a lock naming other bytes than the registry serves fails, even untampered.
    const pinned = project("pinned");
    expect(await addCommand([`${victim}@1`], pinned.opts, capture())).toBe(0);
    const lock = lockOf(pinned.dir);
    lock.packages[victim]!.integrity = "sha512-" + createHash("sha512").update("other bytes").digest("base64");
    writeFileSync(join(pinned.dir, "tune.lock"), JSON.stringify(lock));
    const pinnedIo = capture();
    expect(await installCommand({ ...pinned.opts, cacheDir: join(tmp, "cache-pinned") }, pinnedIo)).toBe(2);
    expect(pinnedIo.err_()).toMatch(/^error\[T8003\]: integrity check failed for @tune-examples\/tamper-me@1\.0\.0/);
    // Someone with write access to the registry's storage swaps the tarball's bytes.
    const file = join(reg.storage, victim, "tamper-me-1.0.0.tgz");
    const bytes = readFileSync(file);
    bytes[bytes.length - 9] ^= 0xff;
    writeFileSync(file, bytes);

    const { opts } = project("tampered");
    const fresh = { ...opts, cacheDir: join(tmp, "cache-tamper") };
    const io = capture();
    expect(await addCommand([`${victim}@^1`], fresh, io)).toBe(2);
    expect(io.err_()).toMatch(/^error\[T8003\]: integrity check failed for @tune-examples\/tamper-me@1\.0\.0/);
    expect(existsSync(join(tmp, "tampered", "tune.lock"))).toBe(false);
    expect(readdirSync(join(tmp, "cache-tamper", "registry", "packages")).filter((d) => !d.includes(".tmp-"))).toEqual([]);
  });

  it("keeps imports inside the package and never runs package scripts", async () => {
    const marker = join(tmp, "script-ran");
    await publishRaw(
      {
        "escape.tune": 'import { x } from "../../outside.tune"\n',
        "absolute.tune": `import { x } from "${join(tmp, "outside.tune")}"\n`,
        "linked.tune": 'import { x } from "./evil.tune"\n',
        "README.md": "# hostile\n",
      },
      { name: `${SCOPE}/hostile`, version: "1.0.0", tune: { entries: ["escape.tune", "absolute.tune", "linked.tune"] }, scripts: { postinstall: `node -e "require('fs').writeFileSync('${marker}','')"` } },
      { "evil.tune": join(tmp, "outside.tune") },
    );
    writeFileSync(join(tmp, "outside.tune"), 'template x {\n  prompt = "{{a}}"\n  completion = "{{b}}"\n}\n');
    const { dir, opts } = project("hostile");
    // An import of a package nobody published does not block `tune add` of another one; `tune install` names it.
    write(dir, { "other.tune": `import "${SCOPE}/unpublished@^1" as u\n` });
    expect(await addCommand([`${SCOPE}/hostile@1`], opts, capture())).toBe(0);
    const inst = capture();
    expect(await installCommand(opts, inst)).toBe(2);
    expect(inst.err_()).toMatch(/^error\[T8002\]: @tune-examples\/unpublished@\^1: not found in the registry \(imported by other\.tune:1\)/);
    expect(existsSync(marker)).toBe(false);
    const messages = (entry: string): string[] => {
      const text = `import { x } from "${SCOPE}/hostile@1/${entry}"\n`;
      const diags = compile(join(dir, "r.tune"), text, fsHost({ cacheDir })).diagnostics;
      return diags.filter((d) => d.code === "T2004").map((d) => `${d.code} ${d.message}`);
    };
    expect(messages("escape.tune")).toEqual(["T2004 `../../outside.tune` leaves package @tune-examples/hostile@1.0.0"]);
    expect(messages("absolute.tune")).toEqual([`T2004 cannot import \`${join(tmp, "outside.tune")}\` from package @tune-examples/hostile@1.0.0`]);
    expect(messages("linked.tune")).toEqual(["T2004 @tune-examples/hostile@1.0.0: the package has no file `evil.tune`"]);
  });

  it("installs offline from the cache, with the registry gone", async () => {
    await reg.close();
    const { dir, opts } = project("offline");
    const src = join(tmp, "alpagasus-like");
    write(dir, { "recipe.tune": readFileSync(join(src, "recipe.tune"), "utf8"), "tune.lock": readFileSync(join(src, "tune.lock"), "utf8") });
    // Unpacked packages dropped: they are re-extracted from the verified tarball cache.
    rmSync(join(cacheDir, "registry", "packages"), { recursive: true, force: true });
    const io = capture();
    expect(await installCommand({ ...opts, offline: true, frozen: true } , io)).toBe(0);
    expect(io.out_()).toContain("3 package(s) installed");
    const run = capture();
    expect(await runRecipeCommand(join(dir, "recipe.tune"), DRY_RUN, run)).toBe(0);

    const empty = capture();
    expect(await installCommand({ ...opts, offline: true, cacheDir: join(tmp, "cache-empty") }, empty)).toBe(2);
    expect(empty.err_()).toMatch(/^error\[T8007\]: .* is not in the offline cache/);
  });

  it("never prints or writes the token", () => {
    expect(transcript.join("")).not.toContain(token);
    for (const d of readdirSync(tmp)) {
      const lock = join(tmp, d, "tune.lock");
      if (existsSync(lock)) expect(readFileSync(lock, "utf8")).not.toContain(token);
    }
  });
});

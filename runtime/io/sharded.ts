// Load the weights of a Hugging Face model directory: one `model.safetensors`, or shards listed by
// `model.safetensors.index.json` ({"metadata": {"total_size"}, "weight_map": {name: file}}).
//
// Why this exists: released checkpoints above ~5 GB are always sharded, and a missing or renamed shard is the most
// common broken download. We check the whole plan (every shard present, every indexed tensor in its shard) before
// reading tensor data, so the error names the file and the tensor instead of failing halfway through a load.
//
// Error codes (SafetensorsError): T6020 no weights in the directory · T6021 bad index file · T6022 shard missing ·
// T6023 indexed tensor absent from its shard.

import { access, readFile } from "node:fs/promises";
import { basename, join, resolve, sep } from "node:path";
import { SafetensorsError, readSafetensorsHeader, readTensorF32, type StHeader } from "./safetensors.js";

export const SINGLE_FILE = "model.safetensors";
export const INDEX_FILE = "model.safetensors.index.json";

export interface WeightPlan {
  /** shard file name → tensor names to read from it (in file order) */
  files: Map<string, string[]>;
  /** true when the directory uses an index */
  sharded: boolean;
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

async function readIndex(dir: string): Promise<Map<string, string>> {
  const path = join(dir, INDEX_FILE);
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(path, "utf8"));
  } catch (err) {
    throw new SafetensorsError("T6021", `${path}: cannot read index (${(err as Error).message})`,
      "the index must be JSON with a \"weight_map\" object", path);
  }
  const wm = (parsed as { weight_map?: unknown } | null)?.weight_map;
  if (typeof wm !== "object" || wm === null || Array.isArray(wm)) {
    throw new SafetensorsError("T6021", `${path}: missing "weight_map" object`, "re-download the index file", path);
  }
  const out = new Map<string, string>();
  const root = resolve(dir);
  for (const [name, file] of Object.entries(wm as Record<string, unknown>)) {
    if (typeof file !== "string" || !resolve(root, file).startsWith(root + sep)) {
      throw new SafetensorsError("T6021", `${path}: weight_map entry \`${name}\` has invalid file ${JSON.stringify(file)}`,
        "shard names must be plain file names inside the model directory", path);
    }
    out.set(name, file);
  }
  return out;
}

/** Work out which files hold which tensors, verifying every shard exists. */
export async function planHfWeights(dir: string): Promise<WeightPlan> {
  if (await exists(join(dir, INDEX_FILE))) {
    const index = await readIndex(dir);
    const files = new Map<string, string[]>();
    for (const [name, file] of index) {
      const list = files.get(file) ?? [];
      list.push(name);
      files.set(file, list);
    }
    for (const file of files.keys()) {
      if (!(await exists(join(dir, file)))) {
        throw new SafetensorsError("T6022", `${join(dir, file)}: shard listed in ${INDEX_FILE} is missing (${files.get(file)!.length} tensors)`,
          "the download is incomplete; fetch every model-0000k-of-0000n.safetensors file", join(dir, file));
      }
    }
    return { files, sharded: true };
  }
  if (await exists(join(dir, SINGLE_FILE))) {
    const header = await readSafetensorsHeader(join(dir, SINGLE_FILE));
    return { files: new Map([[SINGLE_FILE, header.tensors.map((t) => t.name)]]), sharded: false };
  }
  const bin = await exists(join(dir, "pytorch_model.bin"));
  throw new SafetensorsError("T6020", `${dir}: no ${SINGLE_FILE} or ${INDEX_FILE}`,
    bin ? "only pytorch_model.bin is present; convert it to safetensors first (tune does not read pickle files)"
      : "point to a Hugging Face model directory that contains safetensors weights", dir);
}

function checkShardHasAll(header: StHeader, names: string[], path: string): void {
  const have = new Set(header.tensors.map((t) => t.name));
  const missing = names.filter((n) => !have.has(n));
  if (missing.length > 0) {
    throw new SafetensorsError("T6023", `${path}: ${missing.length} tensor(s) listed in ${INDEX_FILE} are absent, e.g. \`${missing[0]}\``,
      `the index and the shard ${basename(path)} disagree; re-download both`, path);
  }
}

/**
 * Load all (or the `filter`-selected) weights of a HF model directory as float32 tensors.
 * Headers of all shards are validated before any tensor data is read.
 */
export async function loadHfWeights(
  dir: string,
  filter: (name: string) => boolean = () => true,
): Promise<Map<string, { shape: number[]; data: Float32Array }>> {
  const plan = await planHfWeights(dir);
  const headers = new Map<string, StHeader>();
  for (const [file, names] of plan.files) {
    const path = join(dir, file);
    const header = await readSafetensorsHeader(path);
    checkShardHasAll(header, names, path);
    headers.set(file, header);
  }
  const out = new Map<string, { shape: number[]; data: Float32Array }>();
  for (const [file, names] of plan.files) {
    for (const name of names) {
      if (filter(name)) out.set(name, await readTensorF32(join(dir, file), headers.get(file)!, name));
    }
  }
  return out;
}

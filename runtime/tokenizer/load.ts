// Load a Hugging Face tokenizer directory (tokenizer.json + tokenizer_config.json) through @huggingface/tokenizers.
//
// Why this exists: the data pipeline, generation, log-probabilities and evaluation all need the same four things
// from a model's tokenizer: ids of a text *without* BOS/EOS (`TokenizerLike`, special-token text → its id), the
// ids the tokenizer itself would produce (BOS when its post-processor or `add_bos_token` says so), decoding, and
// the bos/eos/pad ids. This wraps the engine once, resolves those ids from tokenizer_config.json (string or
// `{content}` forms), and turns missing or malformed files into coded errors (see errors.ts).

import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { Tokenizer as HfTokenizer } from "@huggingface/tokenizers";
import type { TokenizerLike } from "../data/tokenize.js";
import { TokenizerError } from "./errors.js";

export const TOKENIZER_FILE = "tokenizer.json";
export const TOKENIZER_CONFIG_FILE = "tokenizer_config.json";

export interface Tokenizer extends TokenizerLike {
  /** Ids of `text` with no special tokens added (special-token text still maps to its id). */
  encode(text: string): number[];
  /** Ids as the tokenizer's own `add_special_tokens=True` gives them (BOS prepended when configured). */
  encodeWithSpecials(text: string): number[];
  /** Text of ids (special tokens kept unless `skipSpecial`); `decode(encode(s)) === s` for byte-level BPE. */
  decode(ids: readonly number[], opts?: { skipSpecial?: boolean }): string;
  /** Text of one token, as `decode([id])` (may hold U+FFFD for a token that is part of a UTF-8 sequence). */
  tokenText(id: number): string;
  /** Vocabulary string of a token ("Ġthe"), undefined for an unknown id. */
  tokenString(id: number): string | undefined;
  /** Id of a token string (special tokens included). */
  tokenId(token: string): number | undefined;
  bosId: number | null;
  eosId: number | null;
  padId: number | null;
  /** Whether `encodeWithSpecials` starts with BOS. */
  addsBos: boolean;
  /** Number of ids (max id + 1, added tokens included). */
  vocabSize: number;
  /** Special tokens: content → id. */
  specialTokens: Map<string, number>;
}

type Json = Record<string, unknown>;

async function readJson(path: string, required: boolean, codes: { missing: string; bad: string }): Promise<Json | null> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (!required && code === "ENOENT") return null;
    throw new TokenizerError(codes.missing, path, `cannot read (${code ?? (err as Error).message})`,
      "a model directory needs tokenizer.json (the Hugging Face fast-tokenizer file); slow-only tokenizers (tokenizer.model) are not supported");
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new TokenizerError(codes.bad, path, `not valid JSON (${(err as Error).message})`, "the file is corrupt or truncated; re-download it");
  }
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    throw new TokenizerError(codes.bad, path, "expected a JSON object", "re-download the file");
  }
  return json as Json;
}

/** A special-token entry of tokenizer_config.json: "…" or {"content": "…"}; null when absent. */
function specialContent(v: unknown, field: string, path: string): string | null {
  if (v === undefined || v === null) return null;
  if (typeof v === "string") return v;
  if (typeof v === "object" && typeof (v as Json)["content"] === "string") return (v as Json)["content"] as string;
  throw new TokenizerError("T6082", path, `\`${field}\` must be a string or {"content": …}`, "compare with the released tokenizer_config.json");
}

function checkShape(tj: Json, path: string): void {
  const model = tj["model"] as Json | undefined;
  if (typeof model !== "object" || model === null || typeof model["type"] !== "string") {
    throw new TokenizerError("T6081", path, "missing the `model` object (with a `type`)", "this is not a Hugging Face tokenizer.json");
  }
  if (tj["added_tokens"] !== undefined && !Array.isArray(tj["added_tokens"])) {
    throw new TokenizerError("T6081", path, "`added_tokens` must be an array", "re-download the file");
  }
  for (const key of ["normalizer", "pre_tokenizer", "post_processor", "decoder"]) if (!(key in tj)) tj[key] = null;
  if (!Array.isArray(tj["added_tokens"])) tj["added_tokens"] = [];
}

function resolveId(hf: HfTokenizer, token: string | null, field: string, path: string): number | null {
  if (token === null) return null;
  const id = hf.token_to_id(token);
  if (id === undefined) {
    throw new TokenizerError("T6083", path, `${field} ${JSON.stringify(token)} is not in the vocabulary`, "fix the token in tokenizer_config.json or add it to tokenizer.json");
  }
  return id;
}

/** Load the tokenizer of a model directory. */
export async function loadTokenizer(dir: string): Promise<Tokenizer> {
  const tjPath = join(dir, TOKENIZER_FILE);
  const cfgPath = join(dir, TOKENIZER_CONFIG_FILE);
  const tj = (await readJson(tjPath, true, { missing: "T6080", bad: "T6081" }))!;
  const cfg = (await readJson(cfgPath, false, { missing: "T6082", bad: "T6082" })) ?? {};
  checkShape(tj, tjPath);
  let hf: HfTokenizer;
  try {
    hf = new HfTokenizer(tj, cfg);
  } catch (err) {
    throw new TokenizerError("T6081", tjPath, `rejected by the tokenizer engine (${(err as Error).message})`, "the file is malformed or uses an unsupported component");
  }
  return wrapTokenizer(hf, cfg, cfgPath);
}

/** Wrap an engine tokenizer with its tokenizer_config.json object. */
export function wrapTokenizer(hf: HfTokenizer, cfg: Json, cfgPath = TOKENIZER_CONFIG_FILE): Tokenizer {
  const bosId = resolveId(hf, specialContent(cfg["bos_token"], "bos_token", cfgPath), "bos_token", cfgPath);
  const eosId = resolveId(hf, specialContent(cfg["eos_token"], "eos_token", cfgPath), "eos_token", cfgPath);
  const padId = resolveId(hf, specialContent(cfg["pad_token"], "pad_token", cfgPath), "pad_token", cfgPath);
  const specialTokens = new Map<string, number>();
  for (const [id, t] of hf.get_added_tokens_decoder()) if (t.special) specialTokens.set(t.content, id);
  const vocab = hf.get_vocab(true);
  let maxId = -1;
  for (const id of vocab.values()) maxId = Math.max(maxId, id);
  const encode = (text: string): number[] => (text.length === 0 ? [] : hf.encode(text, { add_special_tokens: false }).ids);
  const engineWithSpecials = (text: string): number[] => hf.encode(text, { add_special_tokens: true }).ids;
  // transformers lets `add_bos_token` (Llama/Gemma tokenizers) override the post-processor; honour it when set.
  const flag = cfg["add_bos_token"];
  const probe = engineWithSpecials("a");
  const engineAddsBos = bosId !== null && probe.length > 0 && probe[0] === bosId;
  const addsBos = typeof flag === "boolean" && bosId !== null ? flag : engineAddsBos;
  const encodeWithSpecials = (text: string): number[] => {
    const ids = engineWithSpecials(text);
    if (addsBos && !engineAddsBos) return [bosId!, ...ids];
    if (!addsBos && engineAddsBos && ids[0] === bosId) return ids.slice(1);
    return ids;
  };
  const checkIds = (ids: readonly number[]): void => {
    for (const id of ids) {
      if (!Number.isInteger(id) || id < 0 || id > maxId) {
        throw new TokenizerError("T6085", "<decode>", `token id ${id} is outside the vocabulary [0, ${maxId}]`, "ids must come from this tokenizer");
      }
    }
  };
  return {
    encode,
    encodeWithSpecials,
    decode(ids, opts = {}) {
      if (ids.length === 0) return "";
      checkIds(ids);
      return hf.decode([...ids], { skip_special_tokens: opts.skipSpecial ?? false });
    },
    tokenText(id) {
      checkIds([id]);
      return hf.decode([id], { skip_special_tokens: false });
    },
    tokenString: (id) => hf.id_to_token(id),
    tokenId: (token) => hf.token_to_id(token),
    bosId,
    eosId,
    padId,
    addsBos,
    vocabSize: maxId + 1,
    specialTokens,
  };
}

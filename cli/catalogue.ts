// Every diagnostic code `tune explain` knows: the compiler's catalogue plus the
// registry's (cli/registry/errors.ts) and the Hub datasets' (T72xx). Runtime codes (T55xx data, T56xx judge,
// T60xx model files, T7xxx executors, T9xxx store) are documented next to the
// code that raises them and carry their hint in the message itself.
import { CODES, type CodeInfo } from "../compiler/codes.js";
import { REGISTRY_CODES } from "./registry/errors.js";
import { HUB_CATALOGUE } from "../runtime/data/hub/errors.js";

/** Lint-time data checks that read local files (cli/lint-truncation.ts). */
const LINT_DATA_CODES: Readonly<Record<string, CodeInfo>> = {
  T5540: { title: "rows will be truncated at the cutoff", explanation: "`tune lint` rendered the first rows (up to 2,000) of each local dataset feeding a stage with the stage's template and counted their tokens with the model's real tokenizer (its tokenizer.json, the Hugging Face cache, or a known public tokenizer such as Llama 3's); at least 1% of them are longer than the stage's `cutoff` and will be cut there, usually through the response. Raise `cutoff`, filter long rows, or allow the code when truncation is intended. `tune data` shows the full histogram." },
};

export const ALL_CODES: Readonly<Record<string, CodeInfo>> = { ...CODES, ...REGISTRY_CODES, ...HUB_CATALOGUE, ...LINT_DATA_CODES };

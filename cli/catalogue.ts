// Every diagnostic code `tune explain` knows: the compiler's catalogue plus the
// registry's (cli/registry/errors.ts) and the Hub datasets' (T72xx). Runtime codes (T55xx data, T56xx judge,
// T60xx model files, T7xxx executors, T9xxx store) are documented next to the
// code that raises them and carry their hint in the message itself.
import { CODES, type CodeInfo } from "../compiler/codes.js";
import { REGISTRY_CODES } from "./registry/errors.js";
import { HUB_CATALOGUE } from "../runtime/data/hub/errors.js";

export const ALL_CODES: Readonly<Record<string, CodeInfo>> = { ...CODES, ...REGISTRY_CODES, ...HUB_CATALOGUE };

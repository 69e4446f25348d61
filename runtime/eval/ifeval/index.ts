// IFEval scoring (lm-eval tasks/ifeval/utils.py): strict and loose following per instruction, and the
// four metrics prompt_level_{strict,loose}_acc (all instructions of a prompt followed) and
// inst_level_{strict,loose}_acc (per instruction, aggregated over all instructions of all prompts).

import { pyStrip } from "../pystr.js";
import { buildChecker, type Check, type Kwargs } from "./checkers.js";

export { APPROXIMATE_CHECKERS, buildChecker, knownInstructions } from "./checkers.js";
export { detectLanguage } from "./langid.js";
export { countSentences, countWords, splitIntoSentences, wordTokenize } from "./text.js";

export interface IfevalDoc {
  key?: number;
  prompt: string;
  instruction_id_list: string[];
  kwargs: (Kwargs | null)[];
}

function checkers(doc: IfevalDoc): Check[] {
  return doc.instruction_id_list.map((id, i) => buildChecker(id, doc.kwargs[i]));
}

/** test_instruction_following_strict: each instruction checked on the raw response (empty fails). */
export function followStrict(doc: IfevalDoc, response: string): boolean[] {
  return checkers(doc).map((check) => pyStrip(response) !== "" && check(response));
}

/** The eight response variants of the loose test: with/without the first line, last line, and "*". */
export function looseVariants(response: string): string[] {
  const r = response.split("\n");
  const first = pyStrip(r.slice(1).join("\n"));
  const last = pyStrip(r.slice(0, -1).join("\n"));
  const both = pyStrip(r.slice(1, -1).join("\n"));
  const noStar = (s: string): string => s.split("*").join("");
  return [response, noStar(response), first, last, both, noStar(first), noStar(last), noStar(both)];
}

/** test_instruction_following_loose: followed if any variant passes. */
export function followLoose(doc: IfevalDoc, response: string): boolean[] {
  const variants = looseVariants(response);
  return checkers(doc).map((check) => variants.some((v) => pyStrip(v) !== "" && check(v)));
}

/** process_results for one doc. */
export function ifevalProcessResults(doc: Record<string, unknown>, response: string): Record<string, boolean | boolean[]> {
  const d = doc as unknown as IfevalDoc;
  const strict = followStrict(d, response);
  const loose = followLoose(d, response);
  return {
    prompt_level_strict_acc: strict.every(Boolean),
    inst_level_strict_acc: strict,
    prompt_level_loose_acc: loose.every(Boolean),
    inst_level_loose_acc: loose,
  };
}

// The IFEval instruction checkers (google-research instruction_following_eval/instructions.py, as vendored
// in lm-eval tasks/ifeval), one function per instruction id of the registry. Each takes the kwargs of its
// instruction and returns a predicate over a response. Exact ports, except where they call NLTK or
// langdetect (count_sentences, word_tokenize, language detection): those use the approximations in
// text.ts and langid.ts, and the ids that depend on them are listed in APPROXIMATE_CHECKERS.

import { findall, search, split } from "../pyregex.js";
import { pyIsLower, pyIsUpper, pySplitWhitespace, pyStrip, pyStripChars } from "../pystr.js";
import { detectLanguage, LangDetectError } from "./langid.js";
import { countSentences, countWords, wordTokenize } from "./text.js";

export type Kwargs = Record<string, unknown>;
export type Check = (response: string) => boolean;

const LESS = "less than";
const RELATIONS = ["less than", "at least"];

function need<T>(kw: Kwargs, key: string): T {
  const v = kw[key];
  if (v === undefined || v === null) throw new Error(`IFEval: missing kwarg ${key}`);
  return v as T;
}

function relation(kw: Kwargs, key: string): string {
  const r = need<string>(kw, key);
  if (!RELATIONS.includes(r)) throw new Error(`The supported relation for comparison must be in ${RELATIONS}, but ${r} is given.`);
  return r;
}

function compare(actual: number, rel: string, threshold: number): boolean {
  return rel === LESS ? actual < threshold : actual >= threshold;
}

/** langdetect failure counts as followed, as in the original. */
function languageIs(value: string, lang: string): boolean {
  try {
    return detectLanguage(value) === lang;
  } catch (e) {
    if (e instanceof LangDetectError) return true;
    throw e;
  }
}

function jsonLoads(s: string): boolean {
  try {
    JSON.parse(s);
    return true;
  } catch {
    // Python's json accepts NaN / Infinity / -Infinity; JSON.parse does not.
    if (!/NaN|Infinity/.test(s)) return false;
    try {
      JSON.parse(s.replace(/-?Infinity|NaN/g, "0"));
      return true;
    } catch {
      return false;
    }
  }
}

function removePrefix(s: string, p: string): string {
  return s.startsWith(p) ? s.slice(p.length) : s;
}

function removeSuffix(s: string, p: string): string {
  return p && s.endsWith(p) ? s.slice(0, -p.length) : s;
}

const CHECKERS: Record<string, (kw: Kwargs) => Check> = {
  "keywords:existence": (kw) => {
    const keywords = need<string[]>(kw, "keywords");
    return (v) => keywords.every((k) => search(k, v, { ignoreCase: true }));
  },
  "keywords:frequency": (kw) => {
    const keyword = pyStrip(need<string>(kw, "keyword"));
    const freq = need<number>(kw, "frequency");
    const rel = relation(kw, "relation");
    return (v) => compare(findall(keyword, v, { ignoreCase: true }).length, rel, freq);
  },
  "keywords:forbidden_words": (kw) => {
    const words = [...new Set(need<string[]>(kw, "forbidden_words"))];
    return (v) => !words.some((w) => search(`\\b${w}\\b`, v, { ignoreCase: true }));
  },
  "keywords:letter_frequency": (kw) => {
    // The original replaces a "letter" outside a-z (keys 1122 "#" and 1129 "!") with random.choice of the
    // global, unseeded generator, so its score there is not reproducible; we count the given character.
    const letter = pyStrip(need<string>(kw, "letter")).toLowerCase();
    const freq = need<number>(kw, "let_frequency");
    const rel = relation(kw, "let_relation");
    return (v) => compare([...v.toLowerCase()].filter((c) => c === letter).length, rel, freq);
  },
  "language:response_language": (kw) => {
    const lang = need<string>(kw, "language");
    return (v) => languageIs(v, lang);
  },
  "length_constraints:number_sentences": (kw) => {
    const n = need<number>(kw, "num_sentences");
    const rel = relation(kw, "relation");
    return (v) => compare(countSentences(v), rel, n);
  },
  "length_constraints:number_paragraphs": (kw) => {
    const want = need<number>(kw, "num_paragraphs");
    return (v) => {
      const paragraphs = split("\\s?\\*\\*\\*\\s?", v);
      let n = paragraphs.length;
      for (let i = 0; i < paragraphs.length; i++) {
        if (pyStrip(paragraphs[i])) continue;
        if (i === 0 || i === paragraphs.length - 1) n--;
        else return false;
      }
      return n === want;
    };
  },
  "length_constraints:number_words": (kw) => {
    const n = need<number>(kw, "num_words");
    const rel = relation(kw, "relation");
    return (v) => compare(countWords(v), rel, n);
  },
  "length_constraints:nth_paragraph_first_word": nthParagraphFirstWord,
  "detectable_content:number_placeholders": (kw) => {
    const n = need<number>(kw, "num_placeholders");
    return (v) => findall("\\[.*?\\]", v).length >= n;
  },
  "detectable_content:postscript": (kw) => {
    const marker = pyStrip(need<string>(kw, "postscript_marker"));
    const pattern =
      marker === "P.P.S" ? "\\s*p\\.\\s?p\\.\\s?s.*$" : marker === "P.S." ? "\\s*p\\.\\s?s\\..*$" : `\\s*${marker.toLowerCase()}.*$`;
    return (v) => findall(pattern, v.toLowerCase(), { multiline: true }).length > 0;
  },
  "detectable_format:number_bullet_lists": (kw) => {
    const n = need<number>(kw, "num_bullets");
    return (v) => {
      const stars = findall("^\\s*\\*[^\\*].*$", v, { multiline: true }).length;
      const dashes = findall("^\\s*-.*$", v, { multiline: true }).length;
      return stars + dashes === n;
    };
  },
  "detectable_format:constrained_response": () => {
    const options = ["My answer is yes.", "My answer is no.", "My answer is maybe."];
    return (v) => options.some((o) => pyStrip(v).includes(o));
  },
  "detectable_format:number_highlighted_sections": (kw) => {
    const n = need<number>(kw, "num_highlights");
    return (v) => {
      let count = 0;
      for (const h of findall("\\*[^\\n\\*]*\\*", v) as string[]) if (pyStrip(pyStripChars(h, "*"))) count++;
      for (const h of findall("\\*\\*[^\\n\\*]*\\*\\*", v) as string[]) if (pyStrip(removeSuffix(removePrefix(h, "**"), "**"))) count++;
      return count >= n;
    };
  },
  "detectable_format:multiple_sections": (kw) => {
    const splitter = pyStrip(need<string>(kw, "section_spliter"));
    const n = need<number>(kw, "num_sections");
    return (v) => split(`\\s?${splitter}\\s?\\d+\\s?`, v).length - 1 >= n;
  },
  "detectable_format:json_format": () => (v) => {
    let s = pyStrip(v);
    for (const p of ["```json", "```Json", "```JSON", "```"]) s = removePrefix(s, p);
    return jsonLoads(pyStrip(removeSuffix(s, "```")));
  },
  "detectable_format:title": () => (v) =>
    (findall("<<[^\\n]+>>", v) as string[]).some((t) => pyStrip(t.replace(/^<+/, "").replace(/>+$/, "")) !== ""),
  "combination:two_responses": () => (v) => {
    const parts = v.split("******");
    const valid: string[] = [];
    for (let i = 0; i < parts.length; i++) {
      if (pyStrip(parts[i])) valid.push(parts[i]);
      else if (i !== 0 && i !== parts.length - 1) return false;
    }
    return valid.length === 2 && pyStrip(valid[0]) !== pyStrip(valid[1]);
  },
  "combination:repeat_prompt": (kw) => {
    const prompt = pyStrip(need<string>(kw, "prompt_to_repeat")).toLowerCase();
    return (v) => pyStrip(v).toLowerCase().startsWith(prompt);
  },
  "startend:end_checker": (kw) => {
    const phrase = pyStrip(need<string>(kw, "end_phrase")).toLowerCase();
    return (v) => pyStripChars(pyStrip(v), '"').toLowerCase().endsWith(phrase);
  },
  "change_case:capital_word_frequency": (kw) => {
    const freq = need<number>(kw, "capital_frequency");
    const rel = relation(kw, "capital_relation");
    return (v) => compare(wordTokenize(v).filter(pyIsUpper).length, rel, freq);
  },
  "change_case:english_capital": () => (v) => {
    if (!pyIsUpper(v)) return false;
    return languageIs(v, "en");
  },
  "change_case:english_lowercase": () => (v) => {
    if (!pyIsLower(v)) return false;
    return languageIs(v, "en");
  },
  "punctuation:no_comma": () => (v) => !v.includes(","),
  "startend:quotation": () => (v) => {
    const s = pyStrip(v);
    return s.length > 1 && s[0] === '"' && s[s.length - 1] === '"';
  },
};

function nthParagraphFirstWord(kw: Kwargs): Check {
  const want = need<number>(kw, "num_paragraphs");
  const nth = need<number>(kw, "nth_paragraph");
  const firstWord = need<string>(kw, "first_word").toLowerCase();
  return (v) => {
    const paragraphs = v.split("\n\n");
    const n = paragraphs.filter((p) => pyStrip(p)).length;
    if (nth > n) return false;
    const paragraph = pyStrip(paragraphs[nth - 1]);
    if (!paragraph) return false;
    let word = pyStrip(pySplitWhitespace(paragraph)[0]);
    word = word.replace(/^'+/, "").replace(/^"+/, "");
    let got = "";
    for (const ch of word) {
      if ([".", ",", "?", "!", "'", '"'].includes(ch)) break;
      got += ch.toLowerCase();
    }
    return n === want && got === firstWord;
  };
}

/** Instruction ids whose checker relies on an approximation of NLTK or langdetect. */
export const APPROXIMATE_CHECKERS = [
  "language:response_language",
  "length_constraints:number_sentences",
  "change_case:capital_word_frequency",
  "change_case:english_capital",
  "change_case:english_lowercase",
];

export function knownInstructions(): string[] {
  return Object.keys(CHECKERS);
}

/** The predicate for one instruction: kwargs with falsy values dropped, as lm-eval's utils does. */
export function buildChecker(id: string, kwargs: Kwargs | null | undefined): Check {
  const make = CHECKERS[id];
  if (!make) throw new Error(`IFEval: unknown instruction ${id}`);
  const kw: Kwargs = {};
  for (const [k, v] of Object.entries(kwargs ?? {})) if (v) kw[k] = v;
  return make(kw);
}

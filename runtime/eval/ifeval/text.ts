// Text measures used by the IFEval checkers (instructions_util.py in google-research / lm-eval).
//
// split_into_sentences and count_words are exact ports. count_sentences (NLTK Punkt, English model) and
// word_tokenize (NLTK's Treebank-style tokenizer) need NLTK's trained data, which is not available here:
// both are APPROXIMATIONS written to agree on ordinary text (see the notes at each function).

import { findall, toJsRegExp } from "../pyregex.js";
import { pyStrip } from "../pystr.js";

const ALPHABETS = "([A-Za-z])";
const PREFIXES = "(Mr|St|Mrs|Ms|Dr)[.]";
const SUFFIXES = "(Inc|Ltd|Jr|Sr|Co)";
const STARTERS = "(Mr|Mrs|Ms|Dr|Prof|Capt|Cpt|Lt|He\\s|She\\s|It\\s|They\\s|Their\\s|Our\\s|We\\s|But\\s|However\\s|That\\s|This\\s|Wherever)";
const ACRONYMS = "([A-Z][.][A-Z][.](?:[A-Z][.])?)";
const WEBSITES = "[.](com|net|org|io|gov|edu|me)";
const DIGITS = "([0-9])";

function reSub(pattern: string, repl: string | ((m: string, ...g: string[]) => string), text: string): string {
  const re = new RegExp(pattern, "g");
  if (typeof repl === "function") return text.replace(re, (m: string, ...rest: unknown[]) => repl(m, ...(rest.slice(0, -2) as string[])));
  return text.replace(re, repl);
}

/** instructions_util.split_into_sentences, ported rule for rule (its patterns are ASCII-only). */
export function splitIntoSentences(input: string): string[] {
  let text = " " + input + "  ";
  text = text.split("\n").join(" ");
  text = reSub(PREFIXES, "$1<prd>", text);
  text = reSub(WEBSITES, "<prd>$1", text);
  text = reSub(DIGITS + "[.]" + DIGITS, "$1<prd>$2", text);
  text = reSub("\\.{2,}", (m) => "<prd>".repeat(m.length) + "<stop>", text);
  if (text.includes("Ph.D")) text = text.split("Ph.D.").join("Ph<prd>D<prd>");
  text = reSub("\\s" + ALPHABETS + "[.] ", " $1<prd> ", text);
  text = reSub(ACRONYMS + " " + STARTERS, "$1<stop> $2", text);
  text = reSub(ALPHABETS + "[.]" + ALPHABETS + "[.]" + ALPHABETS + "[.]", "$1<prd>$2<prd>$3<prd>", text);
  text = reSub(ALPHABETS + "[.]" + ALPHABETS + "[.]", "$1<prd>$2<prd>", text);
  text = reSub(" " + SUFFIXES + "[.] " + STARTERS, " $1<stop> $2", text);
  text = reSub(" " + SUFFIXES + "[.]", " $1<prd>", text);
  text = reSub(" " + ALPHABETS + "[.]", " $1<prd>", text);
  if (text.includes("\u201d")) text = text.split(".\u201d").join("\u201d.");
  if (text.includes('"')) text = text.split('."').join('".');
  if (text.includes("!")) text = text.split('!"').join('"!');
  if (text.includes("?")) text = text.split('?"').join('"?');
  text = text.split(".").join(".<stop>");
  text = text.split("?").join("?<stop>");
  text = text.split("!").join("!<stop>");
  text = text.split("<prd>").join(".");
  let sentences = text.split("<stop>").map(pyStrip);
  if (sentences.length > 0 && !sentences[sentences.length - 1]) sentences = sentences.slice(0, -1);
  return sentences;
}

/** count_words: nltk RegexpTokenizer(r"\w+") with Python's Unicode \w. Exact. */
export function countWords(text: string): number {
  return findall("\\w+", text).length;
}

// ---- count_sentences: APPROXIMATION of nltk punkt (english.pickle)

const ABBREVIATIONS = new Set(
  (
    "mr mrs ms dr prof sr jr st vs etc e.g i.e inc ltd co corp jan feb mar apr jun jul aug sep sept oct nov dec " +
    "u.s u.k u.n a.m p.m no fig gen gov col sen rep rev lt sgt capt mt ft vol pp ed est approx dept univ cf al " +
    "ave blvd rd mass calif fla wash n.y d.c ph.d m.d b.a m.a"
  ).split(" "),
);
const SENT_STARTERS = new Set("the it he she they we i this in but a an there if as for and so then after when our my".split(" "));
const CLOSERS = "\"')]}\u201d\u2019";

function classifyBreak(word: string, next: string | undefined): boolean {
  let core = word;
  while (core.length > 1 && CLOSERS.includes(core[core.length - 1])) core = core.slice(0, -1);
  const last = core[core.length - 1];
  if (last === "?" || last === "!") return true;
  if (last !== ".") return false;
  const nextUpper = next !== undefined && /^["'(\[\u201c\u2018]*\p{Lu}/u.test(next);
  const nextLower = next !== undefined && /^["'(\[\u201c\u2018]*\p{Ll}/u.test(next);
  if (core.endsWith("..")) return nextUpper; // ellipsis: a break only before a capitalised word
  const bare = core.replace(/^[^\p{L}\p{N}]+/u, "").slice(0, -1).toLowerCase();
  if (ABBREVIATIONS.has(bare)) return nextUpper && SENT_STARTERS.has(next!.replace(/^[^\p{L}]+/u, "").toLowerCase().replace(/[^\p{L}]+$/u, ""));
  if (/^\p{L}$/u.test(bare)) return false; // an initial such as "J."
  if (/^[\p{N}.,]+$/u.test(bare)) return !nextLower; // "1." in a list starts a sentence unless lowercase follows
  return true;
}

/**
 * count_sentences: APPROXIMATION of NLTK's Punkt English model. A sentence ends at a token ending in
 * "?" or "!" or a "." (closing quotes/brackets allowed after it), except after a known abbreviation (unless a
 * frequent sentence starter follows), an initial, a number followed by a lowercase word, or an ellipsis
 * not followed by a capital. Punkt's learned abbreviation list and orthographic statistics are not available.
 */
export function countSentences(text: string): number {
  const words = text.split(/\s+/u).filter((w) => w.length > 0);
  if (words.length === 0) return 0;
  let n = 0;
  let open = false;
  words.forEach((w, i) => {
    open = true;
    if (classifyBreak(w, words[i + 1])) {
      n++;
      open = false;
    }
  });
  return open ? n + 1 : n;
}

// ---- word_tokenize: nltk.word_tokenize = Punkt sentences, then NLTKWordTokenizer on each

/** re.sub with Python replacement syntax (\1, \g<0>) through the Python-regex translator. */
function pySub(pattern: string, repl: string, text: string): string {
  const js = repl.replace(/\\g<0>/g, "$$&").replace(/\\(\d)/g, "$$$1");
  return text.replace(toJsRegExp(pattern), js);
}

// nltk/tokenize/destructive.py (NLTK 3.9), in the order tokenize() applies them
const STARTING_QUOTES: [string, string][] = [
  ["([«“‘„]|[`]+)", " \\1 "],
  ['^"', "``"],
  ["(``)", " \\1 "],
  ["([ \\(\\[{<])(\"|'{2})", "\\1 `` "],
  ["(?i)(?<!\\w)(')(?!(?:re|ve|ll|m|t|s|d|n)\\b)(?=\\w)", "\\1 "],
];
const PUNCTUATION: [string, string][] = [
  ["([^\\.])(\\.)([\\]\\)}>\"'»”’ ]*)\\s*$", "\\1 \\2 \\3 "],
  ["([:,])([^\\d])", " \\1 \\2"],
  ["([:,])$", " \\1 "],
  ["\\.{2,}", " \\g<0> "],
  ["[;@#$%&]", " \\g<0> "],
  ["[\\u2012-\\u2015]", " \\g<0> "],
  ["([^\\.])(\\.)([\\]\\)}>\"']*)\\s*$", "\\1 \\2\\3 "],
  ["[?!]", " \\g<0> "],
  ["([^'])' ", "\\1 ' "],
  ["[*]", " \\g<0> "],
];
const AFTER_PUNCT: [string, string][] = [
  ["[\\]\\[\\(\\)\\{\\}\\<\\>]", " \\g<0> "],
  ["--", " -- "],
];
const ENDING_QUOTES: [string, string][] = [
  ["([»”’])", " \\1 "],
  ["''", " '' "],
  ['"', " '' "],
  ["\\s+", " "],
  ["([^' ])('[sS]|'[mM]|'[dD]|') ", "\\1 \\2 "],
  ["([^' ])('ll|'LL|'re|'RE|'ve|'VE|n't|N'T) ", "\\1 \\2 "],
];
const CONTRACTIONS: string[] = [
  "(?i)\\b(can)(not)\\b",
  "(?i)\\b(d)('ye)\\b",
  "(?i)\\b(gim)(me)\\b",
  "(?i)\\b(gon)(na)\\b",
  "(?i)\\b(got)(ta)\\b",
  "(?i)\\b(lem)(me)\\b",
  "(?i)\\b(more)('n)\\b",
  "(?i)\\b(wan)(na)(?=\\s)",
  "(?i) ('t)(is)\\b",
  "(?i) ('t)(was)\\b",
];

/** NLTKWordTokenizer.tokenize: exact port (checked against NLTK in harness_fixture.json). */
export function treebankTokenize(text: string): string[] {
  let t = text;
  for (const [re, repl] of [...STARTING_QUOTES, ...PUNCTUATION, ...AFTER_PUNCT]) t = pySub(re, repl, t);
  t = ` ${t} `;
  for (const [re, repl] of ENDING_QUOTES) t = pySub(re, repl, t);
  for (const re of CONTRACTIONS) t = pySub(re, " \\1 \\2 ", t);
  return t.split(/\s+/u).filter((w) => w.length > 0);
}

/**
 * nltk.word_tokenize: APPROXIMATION. NLTK first splits Punkt sentences (data not available here) and
 * tokenizes each; we tokenize the whole text at once, so only a sentence-final period that is not at the
 * end of the text stays attached to its word ("KNOW." instead of "KNOW", ".") — isupper() is the same.
 */
export function wordTokenize(text: string): string[] {
  return treebankTokenize(text);
}

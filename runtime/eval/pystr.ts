// Python `str` behaviour the harness depends on.
//
// Scores hinge on small string facts: acc_norm divides by `len(choice)` (code points, not UTF-16 units),
// `_encode_pair` moves `len(context) - len(context.rstrip())` characters, IFEval asks `isupper()`. JS
// string methods differ at the edges (trim() strips U+FEFF but not U+001C..U+001F; length counts surrogate
// halves), so these helpers follow CPython's definitions.

/** Characters for which CPython's `str.isspace()` is true. */
const PY_SPACE = new Set(
  [
    0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x1c, 0x1d, 0x1e, 0x1f, 0x20, 0x85, 0xa0, 0x1680, 0x2000, 0x2001, 0x2002,
    0x2003, 0x2004, 0x2005, 0x2006, 0x2007, 0x2008, 0x2009, 0x200a, 0x2028, 0x2029, 0x202f, 0x205f, 0x3000,
  ].map((c) => String.fromCharCode(c)),
);

export function pyIsSpaceChar(ch: string): boolean {
  return PY_SPACE.has(ch);
}

/** `s.isspace()`: non-empty and all whitespace. */
export function pyIsSpace(s: string): boolean {
  if (s.length === 0) return false;
  for (const ch of s) if (!PY_SPACE.has(ch)) return false;
  return true;
}

export function pyRstrip(s: string): string {
  let end = s.length;
  while (end > 0 && PY_SPACE.has(s[end - 1])) end--;
  return s.slice(0, end);
}

export function pyLstrip(s: string): string {
  let start = 0;
  while (start < s.length && PY_SPACE.has(s[start])) start++;
  return s.slice(start);
}

export function pyStrip(s: string): string {
  return pyLstrip(pyRstrip(s));
}

/** `s.strip(chars)`. */
export function pyStripChars(s: string, chars: string): string {
  let start = 0;
  let end = s.length;
  while (start < end && chars.includes(s[start])) start++;
  while (end > start && chars.includes(s[end - 1])) end--;
  return s.slice(start, end);
}

/** `len(s)`: code points. */
export function pyLen(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}

/** `len(s.encode("utf-8"))`. */
export function utf8Length(s: string): number {
  return Buffer.byteLength(s, "utf8");
}

/** `s.split()` with no separator: runs of whitespace, no empty strings. */
export function pySplitWhitespace(s: string): string[] {
  const out: string[] = [];
  let cur = "";
  for (const ch of s) {
    if (PY_SPACE.has(ch)) {
      if (cur) out.push(cur);
      cur = "";
    } else cur += ch;
  }
  if (cur) out.push(cur);
  return out;
}

/** `s.isupper()`: at least one cased character and no lowercase or titlecase one. */
export function pyIsUpper(s: string): boolean {
  let cased = false;
  for (const ch of s) {
    if (/[\p{Lowercase}\p{Lt}]/u.test(ch)) return false;
    if (/\p{Uppercase}/u.test(ch)) cased = true;
  }
  return cased;
}

/** `s.islower()`: at least one cased character and no uppercase or titlecase one. */
export function pyIsLower(s: string): boolean {
  let cased = false;
  for (const ch of s) {
    if (/[\p{Uppercase}\p{Lt}]/u.test(ch)) return false;
    if (/\p{Lowercase}/u.test(ch)) cased = true;
  }
  return cased;
}

/** Move trailing whitespace of the context to the continuation, as the harness's `_encode_pair` does. */
export function movePairWhitespace(context: string, continuation: string): { context: string; continuation: string } {
  const trimmed = pyRstrip(context);
  const n = context.length - trimmed.length;
  if (n === 0) return { context, continuation };
  return { context: trimmed, continuation: context.slice(trimmed.length) + continuation };
}

// Python `re` semantics on top of JavaScript RegExp.
//
// Task definitions (GSM8K filters, exact_match `regexes_to_ignore`) and the IFEval checkers use Python
// regular expressions verbatim. JavaScript differs in ways that change results: `\w`, `\d`, `\b` are
// ASCII-only in JS but Unicode-aware for Python str patterns; `$` in Python also matches before a final
// newline; Python accepts inline flags `(?s)`/`(?i)` and `(?P<name>)`, and any escaped punctuation such as
// `\-` or `\,`, which the JS `u` flag rejects. `toJsRegExp` translates a pattern once; `findall`, `sub`,
// `search`, `split` mirror the `re` functions the harness calls.

const WORD = "\\p{L}\\p{N}_";
const SYNTAX = new Set("^$\\.*+?()[]{}|/".split(""));

export interface PyRegexOptions {
  ignoreCase?: boolean;
  multiline?: boolean;
  dotAll?: boolean;
}

const cache = new Map<string, RegExp>();

/** Translate a Python `re` pattern into a global, Unicode-aware JS RegExp. */
export function toJsRegExp(pattern: string, opts: PyRegexOptions = {}): RegExp {
  const key = `${pattern}\u0000${opts.ignoreCase ? "i" : ""}${opts.multiline ? "m" : ""}${opts.dotAll ? "s" : ""}`;
  const hit = cache.get(key);
  if (hit) {
    hit.lastIndex = 0;
    return hit;
  }
  let body = pattern;
  const flags = { i: !!opts.ignoreCase, m: !!opts.multiline, s: !!opts.dotAll };
  const inline = /^\(\?([aiLmsux]+)\)/.exec(body);
  if (inline) {
    for (const f of inline[1]) if (f === "i" || f === "m" || f === "s") flags[f] = true;
    body = body.slice(inline[0].length);
  }
  const source = translateBody(body, flags.m, flags.s);
  const re = new RegExp(source, `gu${flags.i ? "i" : ""}${flags.s ? "s" : ""}`);
  cache.set(key, re);
  return re;
}

function translateBody(p: string, multiline: boolean, dotAll: boolean): string {
  let out = "";
  let classStart = -1; // out.length right after "[" or "[^" while inside a class, else -1
  for (let i = 0; i < p.length; i++) {
    const c = p[i];
    if (c === "\\") {
      i++;
      out += translateEscape(p[i] ?? "", classStart >= 0);
      continue;
    }
    if (classStart >= 0) {
      if (c === "]" && out.length === classStart) out += "\\]"; // `[]...]`: a literal first `]`
      else if (c === "]") {
        out += c;
        classStart = -1;
      } else out += c === "[" ? "\\[" : c;
      continue;
    }
    if (c === "[") {
      const neg = p[i + 1] === "^";
      out += neg ? "[^" : "[";
      if (neg) i++;
      classStart = out.length;
      continue;
    }
    if (c === "{" || c === "}") {
      const q = c === "{" ? /^\{(\d*)(,?)(\d*)\}/.exec(p.slice(i)) : null;
      if (q && (q[1] !== "" || (q[2] === "," && q[3] !== ""))) {
        out += `{${q[1] || "0"}${q[2]}${q[3]}}`; // Python allows `{,n}`; JS needs `{0,n}`
        i += q[0].length - 1;
      } else out += `\\${c}`; // a brace that is not a quantifier is a literal in Python
      continue;
    }
    if (c === "(" && p.startsWith("(?P<", i)) {
      out += "(?<";
      i += 3;
      continue;
    }
    if (c === "(" && p.startsWith("(?P=", i)) {
      const end = p.indexOf(")", i);
      out += `\\k<${p.slice(i + 4, end)}>`;
      i = end;
      continue;
    }
    // Anchors follow Python: only "\n" ends a line (JS's `m` flag also breaks at "\r", U+2028, U+2029), and
    // `$` without MULTILINE also matches just before a trailing newline. The JS `m` flag is never set.
    if (c === "$") {
      out += multiline ? "(?=\\n|(?![\\s\\S]))" : "(?=\\n?(?![\\s\\S]))";
      continue;
    }
    if (c === "^") {
      out += multiline ? "(?:(?<=\\n)|(?<![\\s\\S]))" : "(?<![\\s\\S])";
      continue;
    }
    // Python's `.` excludes only "\n"; JS's also excludes "\r", U+2028 and U+2029.
    if (c === "." && !dotAll) {
      out += "[^\\n]";
      continue;
    }
    out += c === "/" ? "\\/" : c;
  }
  return out;
}

function translateEscape(c: string, inClass: boolean): string {
  switch (c) {
    case "w":
      return inClass ? WORD : `[${WORD}]`;
    case "W":
      return inClass ? "\\W" : `[^${WORD}]`;
    case "d":
      return "\\p{Nd}";
    case "D":
      return inClass ? "\\D" : "\\P{Nd}";
    case "b":
      return inClass ? "\\x08" : `(?:(?<=[${WORD}])(?![${WORD}])|(?<![${WORD}])(?=[${WORD}]))`;
    case "B":
      return `(?:(?<=[${WORD}])(?=[${WORD}])|(?<![${WORD}])(?![${WORD}]))`;
    case "A":
      return "(?<![\\s\\S])";
    case "Z":
      return "(?![\\s\\S])";
    default:
      break;
  }
  if (/[A-Za-z0-9]/.test(c)) return `\\${c}`; // \n \t \s \S \x.. \u.... \1 keep their meaning
  if (SYNTAX.has(c) || (inClass && c === "-")) return `\\${c}`;
  return c === "" ? "\\\\" : c; // Python allows escaping any punctuation; JS `u` mode does not
}

/** `re.findall`: whole matches, the single group, or a tuple (array) of groups. */
export function findall(pattern: string, text: string, opts?: PyRegexOptions): (string | string[])[] {
  const re = toJsRegExp(pattern, opts);
  const out: (string | string[])[] = [];
  for (const m of text.matchAll(re)) {
    if (m.length === 1) out.push(m[0]);
    else if (m.length === 2) out.push(m[1] ?? "");
    else out.push(m.slice(1).map((g) => g ?? ""));
  }
  return out;
}

/** `re.search(...) is not None`. */
export function search(pattern: string, text: string, opts?: PyRegexOptions): boolean {
  const re = toJsRegExp(pattern, opts);
  re.lastIndex = 0;
  const found = re.test(text);
  re.lastIndex = 0;
  return found;
}

/** `re.sub(pattern, repl, text)` with a literal replacement (no group references). */
export function sub(pattern: string, repl: string, text: string, opts?: PyRegexOptions): string {
  return text.replace(toJsRegExp(pattern, opts), () => repl);
}

/** `re.split(pattern, text)`, captured groups included as Python does. */
export function split(pattern: string, text: string, opts?: PyRegexOptions): string[] {
  const re = toJsRegExp(pattern, opts);
  const out: string[] = [];
  let last = 0;
  for (const m of text.matchAll(re)) {
    if (m[0] === "" && m.index === last && m.index !== 0) continue;
    out.push(text.slice(last, m.index));
    for (const g of m.slice(1)) out.push(g ?? "");
    last = m.index + m[0].length;
  }
  out.push(text.slice(last));
  return out;
}

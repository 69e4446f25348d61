// A small Wadler/Prettier-style layout engine for the formatter. format.ts
// describes *what* may break (groups, soft lines); this decides *where*, given
// the 100-column budget: a group prints flat if the rest of its line fits,
// otherwise its lines break and the groups inside it get their own chance.
// Kept apart so the AST printer reads as a description of the canonical layout.

/** A layout document. Strings are printed as they are; only triple-quoted strings may hold line breaks. */
export type Doc = string | readonly Doc[] | DocNode;

type DocNode =
  | { readonly t: "indent"; readonly contents: Doc }
  | { readonly t: "group"; readonly contents: Doc; readonly broken: boolean }
  | { readonly t: "line"; readonly flat: string; readonly hard: boolean }
  | { readonly t: "blank" }
  | { readonly t: "ifBreak"; readonly broken: Doc; readonly flat: Doc }
  | { readonly t: "suffix"; readonly text: string };

type Mode = "flat" | "break";
type Command = readonly [indent: number, mode: Mode, doc: Doc];

const INDENT_WIDTH = 2;

/** Always a line break. */
export const HARD: Doc = { t: "line", flat: "", hard: true };
/** A line break when its group breaks, else a space. */
export const LINE: Doc = { t: "line", flat: " ", hard: false };
/** A line break when its group breaks, else nothing. */
export const SOFT: Doc = { t: "line", flat: "", hard: false };
/** One empty line when its group is broken (place it right before a line); nothing when flat. */
export const BLANK: Doc = { t: "blank" };

export function indent(contents: Doc): Doc {
  return { t: "indent", contents };
}

/** A group breaks when it does not fit, when `force` is set, or when it holds a hard line. */
export function group(contents: Doc, force = false): Doc {
  return { t: "group", contents, broken: force || hasHardLine(contents) };
}

export function ifBreak(broken: Doc, flat: Doc = ""): Doc {
  return { t: "ifBreak", broken, flat };
}

/** Text printed where it stands but not counted when deciding whether a line fits (end-of-line comments). */
export function suffix(text: string): Doc {
  return { t: "suffix", text };
}

/** Array.isArray narrows a readonly array to any[]; this keeps the element type. */
function isList(doc: Doc): doc is readonly Doc[] {
  return Array.isArray(doc);
}

function hasHardLine(doc: Doc): boolean {
  if (typeof doc === "string") return false;
  if (isList(doc)) return doc.some(hasHardLine);
  const node: DocNode = doc;
  switch (node.t) {
    case "line":
      return node.hard;
    case "group":
      return node.broken;
    case "indent":
      return hasHardLine(node.contents);
    case "ifBreak":
      return hasHardLine(node.flat);
    default:
      return false;
  }
}

/** Lays a document out in `width` columns. Never leaves blanks at the end of a line it breaks. */
export function render(doc: Doc, width: number): string {
  const out: string[] = [];
  let column = 0;
  const stack: Command[] = [[0, "break", doc]];
  const write = (s: string): void => {
    out.push(s);
    const nl = s.lastIndexOf("\n");
    column = nl < 0 ? column + s.length : s.length - nl - 1;
  };
  const newline = (indentBy: number): void => {
    trimEnd(out);
    write("\n" + " ".repeat(indentBy));
  };
  while (stack.length > 0) {
    const [ind, mode, d] = stack.pop()!;
    if (typeof d === "string") {
      write(d);
      continue;
    }
    if (isList(d)) {
      for (let i = d.length - 1; i >= 0; i--) stack.push([ind, mode, d[i]!]);
      continue;
    }
    const node: DocNode = d;
    switch (node.t) {
      case "indent":
        stack.push([ind + INDENT_WIDTH, mode, node.contents]);
        break;
      case "group": {
        const flat: Command = [ind, "flat", node.contents];
        const fitsFlat = mode === "flat" || (!node.broken && fits(flat, stack, width - column, width));
        stack.push(fitsFlat && !node.broken ? flat : [ind, "break", node.contents]);
        break;
      }
      case "line":
        if (mode === "flat" && !node.hard) write(node.flat);
        else newline(ind);
        break;
      case "blank":
        if (mode === "break") {
          trimEnd(out);
          write("\n");
        }
        break;
      case "ifBreak":
        stack.push([ind, mode, mode === "break" ? node.broken : node.flat]);
        break;
      case "suffix":
        write(node.text);
        break;
    }
  }
  trimEnd(out);
  return out.join("");
}

/** Drops spaces at the end of the output so far (indentation of a line that stayed empty, a flat-mode space). */
function trimEnd(out: string[]): void {
  while (out.length > 0) {
    const last = out[out.length - 1]!;
    const trimmed = last.replace(/[ \t]+$/, "");
    if (trimmed.length > 0) {
      out[out.length - 1] = trimmed;
      return;
    }
    out.pop();
  }
}

/**
 * Whether `next` printed flat, followed by what is already queued, fits in
 * `remaining` columns up to the next line break. A multi-line string must fit
 * on its first line, and its last line starts a fresh count.
 */
function fits(next: Command, rest: readonly Command[], remaining: number, width: number): boolean {
  const todo: Command[] = [next];
  let restIndex = rest.length;
  while (remaining >= 0) {
    if (todo.length === 0) {
      if (restIndex === 0) return true;
      todo.push(rest[--restIndex]!);
      continue;
    }
    const [ind, mode, d] = todo.pop()!;
    if (typeof d === "string") {
      const firstBreak = d.indexOf("\n");
      if (firstBreak < 0) {
        remaining -= d.length;
        continue;
      }
      if (firstBreak > remaining) return false;
      remaining = width - (d.length - d.lastIndexOf("\n") - 1);
      continue;
    }
    if (isList(d)) {
      for (let i = d.length - 1; i >= 0; i--) todo.push([ind, mode, d[i]!]);
      continue;
    }
    const node: DocNode = d;
    switch (node.t) {
      case "indent":
        todo.push([ind + INDENT_WIDTH, mode, node.contents]);
        break;
      case "group":
        todo.push([ind, node.broken ? "break" : mode, node.contents]);
        break;
      case "line":
        if (mode === "break" || node.hard) return true;
        remaining -= node.flat.length;
        break;
      case "blank":
        if (mode === "break") return true;
        break;
      case "ifBreak":
        todo.push([ind, mode, mode === "break" ? node.broken : node.flat]);
        break;
      case "suffix":
        break;
    }
  }
  return false;
}

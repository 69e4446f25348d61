// Few-shot prompts, built exactly by the harness rules (api/samplers.py ContextSampler.get_context and
// api/task.py ConfigurableTask.fewshot_context, no chat template).
//
//   [system_instruction + fewshot_delimiter] + [description]
//   + per shot: doc_to_text + target_delimiter + target + fewshot_delimiter
//   + doc_to_text(doc)
//
// Shots: `first_n` takes the first n docs; `default` draws Random(seed).sample(docs, n) — n + 1 when the shot
// split is the eval split, then drops docs equal to the eval doc and keeps n. One generator per task,
// advancing across eval docs in order, so the caller owns it.

import { isDeepStrictEqual } from "node:util";
import { docToChoice, docToTarget, docToText, pyStr, renderTemplate } from "./docref.js";
import { PyRandom, sampleIndices } from "./pyrandom.js";
import { pyIsSpace } from "./pystr.js";
import type { LoadedTask } from "./task.js";
import type { Doc } from "./types.js";

export interface ContextOptions {
  systemInstruction?: string;
}

/** A fresh sampler generator, as `task.set_fewshot_seed(fewshot_random_seed)` makes one per task. */
export function fewshotRng(seed = 1234): PyRandom {
  return new PyRandom(seed);
}

function genPrefix(task: LoadedTask, doc: Doc): string | null {
  const p = task.config.gen_prefix;
  if (p === undefined) return null;
  return Object.hasOwn(doc, p) ? String(doc[p]) : renderTemplate(p, doc);
}

/** The shot docs for one eval doc (advances `rng` for the default sampler). */
export function selectShots(task: LoadedTask, doc: Doc, n: number, rng: PyRandom): Doc[] {
  const source = task.fewshot;
  if (!source) throw new Error(`${task.name}: ${n}-shot requested but the task has no few-shot split`);
  const sampler = task.config.fewshot_config?.sampler ?? "default";
  if (sampler === "first_n") {
    if (n > source.size) throw new Error(`${task.name}: ${n} shots requested, ${source.size} available`);
    return source.prefix(n);
  }
  const draw = task.nPlusOne ? n + 1 : n;
  const picked = sampleIndices(rng, source.size, draw).map((i) => source.get(i));
  return picked.filter((x) => !isDeepStrictEqual(x, doc)).slice(0, n);
}

function shotText(task: LoadedTask, shot: Doc): string {
  const hasChoices = task.config.doc_to_choice !== undefined;
  const content = docToText(task.config.doc_to_text, shot, hasChoices);
  if (typeof content === "string") return content;
  return docToChoice(task.config.doc_to_choice, shot)[content];
}

function shotTarget(task: LoadedTask, shot: Doc): string | null {
  const cfg = task.config;
  const hasChoices = cfg.doc_to_choice !== undefined;
  const target = docToTarget(cfg.doc_to_target, shot, hasChoices);
  if (target === "") return null;
  if (Array.isArray(target)) return pyStr(target[0]);
  if (!hasChoices || typeof target === "string") {
    if (typeof target !== "string") {
      throw new Error(`${task.name}: shot target is ${pyStr(target)} (an int without doc_to_choice); the harness fails here too (str + int)`);
    }
    return target;
  }
  return pyStr(docToChoice(cfg.doc_to_choice, shot)[target]);
}

/** ContextSampler.get_context: the labeled examples for one eval doc. */
export function fewshotExamples(task: LoadedTask, doc: Doc, n: number, rng: PyRandom): string {
  const prefix = genPrefix(task, doc);
  const pre = prefix ? `${prefix} ` : "";
  let out = "";
  for (const shot of selectShots(task, doc, n, rng)) {
    out += shotText(task, shot);
    const target = shotTarget(task, shot);
    if (target === null) continue;
    if (pyIsSpace(task.targetDelimiter) && target.length > 0 && pyIsSpace(target[0])) {
      task.notes.push("target_delimiter and target both start with whitespace");
    }
    out += task.targetDelimiter + pre + target + task.fewshotDelimiter;
  }
  return out;
}

/**
 * ConfigurableTask.fewshot_context without chat template. For multiple-input tasks the result is the shared
 * prefix only (each choice is appended when requests are built).
 */
export function fewshotContext(task: LoadedTask, doc: Doc, numFewshot: number, rng: PyRandom, opts: ContextOptions = {}): string {
  const cfg = task.config;
  const description = cfg.description ? renderTemplate(cfg.description, doc) : "";
  const sys = opts.systemInstruction;
  let labeled =
    sys !== undefined && description ? `${sys}${task.fewshotDelimiter}${description}` : sys !== undefined ? sys : description;
  if (numFewshot > 0) labeled += fewshotExamples(task, doc, numFewshot, rng);
  const prefix = genPrefix(task, doc);
  const suffix = prefix !== null ? task.targetDelimiter + prefix : "";
  if (task.multipleInput) return labeled;
  const example = docToText(cfg.doc_to_text, doc, cfg.doc_to_choice !== undefined);
  if (typeof example === "string") return labeled + example + suffix;
  const text = cfg.doc_to_choice !== undefined ? docToChoice(cfg.doc_to_choice, doc)[example] : String(example);
  return labeled + text + suffix;
}

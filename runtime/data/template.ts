// Prompt templates: render a row into prompt text and completion text, separately.
//
// Why this exists: supervised fine-tuning computes loss on the completion only (stanford_alpaca masks the
// prompt), so the tokenizer side needs the two texts apart. Templates are Handlebars with noEscape (no HTML
// entities), strict (a field the row lacks is an error, reported at the row, not an empty string) and no
// prototype access. The stdlib bodies reproduce the reference formats exactly (algorithms.md §4).
//
// Two kinds of template:
//   • "fields": the context is the row's values (+ `system`): alpaca.
//   • "chat": the context is { messages, response, system } — `messages` are the prompt turns (system first
//     when given), `response` is the final assistant turn. Rows with `messages` use them directly (the last turn
//     must be the assistant's; earlier assistant turns are prompt, i.e. not trained on). Instruction rows become
//     [system?, user = instruction + ("\n\n" + input if input)] with response = output (USER_FROM_FIELDS).

import Handlebars from "handlebars";
import { DataError, errorText } from "./errors.js";
import type { Row } from "./row.js";

export interface PromptTemplate {
  name: string;
  kind: "fields" | "chat";
  prompt: string;
  completion: string;
  /** System prompt used when the recipe gives none (undefined: no system turn). */
  defaultSystem?: string;
  /** True when the completion does not end in an end-of-turn marker, so an EOS token must be appended. */
  appendEos: boolean;
}

// ---- stdlib bodies

/** stanford_alpaca train.py PROMPT_DICT, verbatim (Python str.format placeholders). */
export const ALPACA_PROMPT_DICT = {
  prompt_input:
    "Below is an instruction that describes a task, paired with an input that provides further context. " +
    "Write a response that appropriately completes the request.\n\n" +
    "### Instruction:\n{instruction}\n\n### Input:\n{input}\n\n### Response:",
  prompt_no_input:
    "Below is an instruction that describes a task. " +
    "Write a response that appropriately completes the request.\n\n" +
    "### Instruction:\n{instruction}\n\n### Response:",
} as const;

const toHandlebars = (pythonFormat: string): string => pythonFormat.replace(/\{(\w+)\}/g, "{{$1}}");

/** Chat user turn built from instruction rows. */
export const USER_FROM_FIELDS = "{{instruction}}{{#if input}}\n\n{{input}}{{/if}}";

export const STDLIB_TEMPLATES = {
  /** stanford_alpaca: with-input body when `input` is non-empty, else the no-input body; target = output + EOS. */
  alpaca: {
    name: "alpaca",
    kind: "fields",
    prompt: `{{#if input}}${toHandlebars(ALPACA_PROMPT_DICT.prompt_input)}{{else}}${toHandlebars(ALPACA_PROMPT_DICT.prompt_no_input)}{{/if}}`,
    completion: "{{output}}",
    appendEos: true,
  },
  /**
   * Meta-Llama-3-8B-Instruct chat template: <|begin_of_text|>, then per turn <|start_header_id|>role
   * <|end_header_id|>\n\n trim(content) <|eot_id|>, no newline between turns, then the generation prompt.
   * The completion ends with <|eot_id|> (Llama 3 Instruct's end of turn), so no EOS is appended. No default
   * system turn (3.0 behaviour; 3.1+'s "Cutting Knowledge Date" system turn is not emitted).
   */
  llama3_chat: {
    name: "llama3_chat",
    kind: "chat",
    prompt:
      "<|begin_of_text|>{{#each messages}}<|start_header_id|>{{role}}<|end_header_id|>\n\n{{trim content}}<|eot_id|>{{/each}}" +
      "<|start_header_id|>assistant<|end_header_id|>\n\n",
    completion: "{{trim response}}<|eot_id|>",
    appendEos: false,
  },
  /** ChatML as in the usual HF chat_template: <|im_start|>role\ncontent<|im_end|>\n per turn, no default system. */
  chatml: {
    name: "chatml",
    kind: "chat",
    prompt: "{{#each messages}}<|im_start|>{{role}}\n{{content}}<|im_end|>\n{{/each}}<|im_start|>assistant\n",
    completion: "{{response}}<|im_end|>\n",
    appendEos: false,
  },
} as const satisfies Record<string, PromptTemplate>;

export type StdlibTemplateName = keyof typeof STDLIB_TEMPLATES;

// ---- compiling

const hb = Handlebars.create();
// Jinja's `trim` (Python str.strip) as used by the Llama 3 template.
hb.registerHelper("trim", (s: unknown) => (typeof s === "string" ? s.trim() : s));

const COMPILE_OPTIONS = { noEscape: true, strict: true } as const;
const RUNTIME_OPTIONS = { allowProtoPropertiesByDefault: false, allowProtoMethodsByDefault: false } as const;

type Render = (context: unknown) => string;

export interface CompiledTemplate {
  template: PromptTemplate;
  prompt: Render;
  completion: Render;
  user: Render;
}

function compileBody(t: PromptTemplate, part: "prompt" | "completion", body: string): Render {
  try {
    hb.parse(body);
  } catch (e) {
    throw new DataError({
      code: "T5532",
      message: `template ${t.name}: ${part} body does not parse: ${errorText(e).split("\n").slice(0, 3).join(" ")}`,
      hint: "template bodies use Handlebars syntax: {{field}}, {{#if field}}…{{else}}…{{/if}}, {{#each messages}}…{{/each}}",
    });
  }
  const f = hb.compile(body, COMPILE_OPTIONS);
  return (ctx) => f(ctx, RUNTIME_OPTIONS);
}

export function compileTemplate(t: PromptTemplate): CompiledTemplate {
  return {
    template: t,
    prompt: compileBody(t, "prompt", t.prompt),
    completion: compileBody(t, "completion", t.completion),
    user: compileBody(t, "prompt", USER_FROM_FIELDS),
  };
}

/** A stdlib template by name; T5531 with did-you-mean style list when unknown. */
export function stdlibTemplate(name: string): PromptTemplate {
  const t = (STDLIB_TEMPLATES as Record<string, PromptTemplate>)[name];
  if (t) return t;
  throw new DataError({
    code: "T5531",
    message: `unknown template \`${name}\``,
    hint: `stdlib templates: ${Object.keys(STDLIB_TEMPLATES).join(", ")}`,
  });
}

// ---- rendering

export interface Rendered {
  prompt: string;
  completion: string;
  /** Copied from the template: append the tokenizer's EOS id after the completion. */
  appendEos: boolean;
}

export interface RenderOptions {
  /** System prompt; overrides a row's `system` field and the template's default. */
  system?: string;
}

interface ChatTurn {
  role: string;
  content: string;
}

function systemFor(t: PromptTemplate, row: Row, opts: RenderOptions): string | null {
  const fromRow = row.values.system;
  return opts.system ?? (typeof fromRow === "string" ? fromRow : undefined) ?? t.defaultSystem ?? null;
}

function chatContext(ct: CompiledTemplate, row: Row, system: string | null): { messages: ChatTurn[]; response: string; system: string | null } {
  const turns = row.values.messages;
  if (Array.isArray(turns)) {
    const all = turns as ChatTurn[];
    const last = all[all.length - 1];
    if (!last || last.role !== "assistant") {
      throw new DataError({
        code: "T5531",
        message: `template ${ct.template.name}: messages must end with an assistant turn (the completion)`,
        origin: row.origin,
        field: "messages",
        hint: "drop rows whose last turn is not the assistant's, or render them for generation instead of training",
      });
    }
    const prompt = all.slice(0, -1);
    const hasSystem = prompt.some((m) => m.role === "system");
    const messages = system !== null && !hasSystem ? [{ role: "system", content: system }, ...prompt] : prompt;
    return { messages, response: last.content, system };
  }
  const user = ct.user(row.values);
  const messages = system !== null ? [{ role: "system", content: system }] : [];
  messages.push({ role: "user", content: user });
  const output = row.values.output;
  if (typeof output !== "string") missingField(ct.template, row, "output");
  return { messages, response: output, system };
}

/** Render one row into prompt and completion text; a field the template needs but the row lacks is T5530. */
export function renderRow(ct: CompiledTemplate, row: Row, opts: RenderOptions = {}): Rendered {
  const t = ct.template;
  const system = systemFor(t, row, opts);
  try {
    if (t.kind === "fields") {
      const ctx = { ...row.values, system };
      return { prompt: ct.prompt(ctx), completion: ct.completion(ctx), appendEos: t.appendEos };
    }
    const ctx = chatContext(ct, row, system);
    return { prompt: ct.prompt(ctx), completion: ct.completion(ctx), appendEos: t.appendEos };
  } catch (e) {
    if (e instanceof DataError) throw e;
    const m = /^"([^"]+)" not defined/.exec(errorText(e));
    if (m) missingField(t, row, m[1]);
    throw new DataError({
      code: "T5531",
      message: `template ${t.name} cannot render this row: ${errorText(e)}`,
      origin: row.origin,
      hint: "check the row's fields against the fields the template uses",
    });
  }
}

function missingField(t: PromptTemplate, row: Row, field: string): never {
  throw new DataError({
    code: "T5530",
    message: `template ${t.name} uses field "${field}", which this row does not have`,
    origin: row.origin,
    field,
    hint: `declare "${field}" in the source schema (or rename with from = …); the row has: ${Object.keys(row.values).join(", ") || "no fields"}`,
  });
}

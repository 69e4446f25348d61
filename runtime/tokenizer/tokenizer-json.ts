// Serialize a trained byte-level BPE as the Hugging Face files `tokenizer.json` + `tokenizer_config.json`.
//
// Why this exists: what tune trains must load unchanged in transformers (`AutoTokenizer`, Rust `tokenizers`) and
// in `@huggingface/tokenizers`. The layout follows Llama 3's tokenizer.json: `ByteLevel` pre-tokenizer (GPT-2
// split regex, no prefix space), BPE model with string merges ("a b", readable by every `tokenizers` version),
// `ByteLevel` decoder, and a `TemplateProcessing` post-processor that prepends BOS, so `add_special_tokens=True`
// gives `<bos> text` in every engine. Special tokens are `added_tokens` with `special: true` and also sit in the
// model vocabulary under the same ids.

import type { BpeModel } from "./bpe-trainer.js";

export interface TokenizerFilesOptions {
  bosToken: string;
  eosToken: string;
  padToken?: string;
  /** Prepend BOS in the post-processor (Llama 3 behaviour). Default true. */
  addBos?: boolean;
  modelMaxLength?: number;
  chatTemplate?: string;
}

function addedToken(id: number, content: string): Record<string, unknown> {
  return { id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true };
}

function postProcessor(bos: string, bosId: number): Record<string, unknown> {
  const special = { SpecialToken: { id: bos, type_id: 0 } };
  return {
    type: "TemplateProcessing",
    single: [special, { Sequence: { id: "A", type_id: 0 } }],
    pair: [special, { Sequence: { id: "A", type_id: 0 } }, { SpecialToken: { id: bos, type_id: 1 } }, { Sequence: { id: "B", type_id: 1 } }],
    special_tokens: { [bos]: { id: bos, ids: [bosId], tokens: [bos] } },
  };
}

function idOf(m: BpeModel, token: string): number {
  const id = m.vocab.indexOf(token);
  if (id < 0) throw new Error(`special token ${token} is not in the trained vocabulary`);
  return id;
}

/** The `tokenizer.json` object. */
export function tokenizerJson(m: BpeModel, o: TokenizerFilesOptions): Record<string, unknown> {
  const vocab: Record<string, number> = {};
  m.vocab.forEach((t, i) => (vocab[t] = i));
  const bosId = idOf(m, o.bosToken);
  return {
    version: "1.0",
    truncation: null,
    padding: null,
    added_tokens: m.specialTokens.map((t) => addedToken(idOf(m, t), t)),
    normalizer: null,
    pre_tokenizer: { type: "ByteLevel", add_prefix_space: false, trim_offsets: true, use_regex: true },
    post_processor: (o.addBos ?? true) ? postProcessor(o.bosToken, bosId) : { type: "ByteLevel", add_prefix_space: true, trim_offsets: false, use_regex: true },
    decoder: { type: "ByteLevel", add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: {
      type: "BPE",
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: false,
      byte_fallback: false,
      vocab,
      merges: m.merges.map(([a, b]) => `${a} ${b}`),
    },
  };
}

/** The `tokenizer_config.json` object (transformers `PreTrainedTokenizerFast`). */
export function tokenizerConfigJson(m: BpeModel, o: TokenizerFilesOptions): Record<string, unknown> {
  const decoder: Record<string, unknown> = {};
  for (const t of m.specialTokens) {
    decoder[String(idOf(m, t))] = { content: t, lstrip: false, normalized: false, rstrip: false, single_word: false, special: true };
  }
  const out: Record<string, unknown> = {
    added_tokens_decoder: decoder,
    bos_token: o.bosToken,
    clean_up_tokenization_spaces: false,
    eos_token: o.eosToken,
    model_input_names: ["input_ids", "attention_mask"],
    model_max_length: o.modelMaxLength ?? 512,
    tokenizer_class: "PreTrainedTokenizerFast",
  };
  if (o.padToken !== undefined) out["pad_token"] = o.padToken;
  if (o.chatTemplate !== undefined) out["chat_template"] = o.chatTemplate;
  return out;
}

/** Llama 3 style chat template over the header/eot special tokens (for `apply_chat_template`). */
export const LLAMA3_CHAT_TEMPLATE =
  "{{ bos_token }}{% for message in messages %}{{ '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n' + message['content'] + '<|eot_id|>' }}{% endfor %}" +
  "{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}{% endif %}";

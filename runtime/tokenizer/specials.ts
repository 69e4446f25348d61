// The special tokens of tune's tiny model tokenizer, in id order.
//
// Why this exists: the stdlib templates (stdlib/templates.tune: alpaca, llama3_chat, chatml) write these markers
// literally; each must be a single special token of the tiny model so the templates tokenize as they would with
// Llama 3 or ChatML models. Ids: <pad> 0, BOS 1, EOS 2 (the LlamaConfig defaults for bos/eos).

export const TINY_SPECIAL_TOKENS = [
  "<pad>",
  "<|begin_of_text|>",
  "<|end_of_text|>",
  "<|start_header_id|>",
  "<|end_header_id|>",
  "<|eot_id|>",
  "<|im_start|>",
  "<|im_end|>",
] as const;

export const TINY_PAD = "<pad>";
export const TINY_BOS = "<|begin_of_text|>";
export const TINY_EOS = "<|end_of_text|>";

"""Rendered examples (JSONL written by tune) → token ids, labels, packing and batches.

Why this exists: tune renders the recipe's template in process and hands over text; the loss mask must come
from *our* template boundary, exactly as the in-process executor does it (runtime/data/tokenize.ts and
runtime/pref/data.ts), or the two executors would train different objectives:
  SFT  ids = [BOS] + tok(prompt + completion) (+ [EOS] when the template asks and it is not already last);
       labels = ids with the first 1 + len(tok(prompt)) positions −100 (stanford_alpaca "joint" rule); then
       truncation to `cutoff` (keep_start: first tokens; keep_end: last tokens). Rows {"text"} train on all.
  DPO  prompt = [BOS] + tok(prompt); response = tok(resp) + [EOS] (unless already last); if prompt + longest
       response > max_length: prompt ← first/last max_prompt_length tokens (keep_start/keep_end), then each
       response ← its first max_length − max_prompt_length tokens (classic TRL `tokenize_row`).
BOS is not added when the text already tokenizes to a leading BOS (Llama 3 templates write it).
Packing is best-fit decreasing (TRL "bfd"): sequences are never split, position ids restart per sequence and
the first label of each packed sequence is −100. Tokenizer-agnostic (`encode(text) -> ids`), torch-free.
"""
import json

IGNORE_INDEX = -100


def read_jsonl(path):
    rows = []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            line = line.strip()
            if not line:
                continue
            try:
                row = json.loads(line)
            except ValueError as e:
                raise ValueError("%s:%d: not JSON (%s)" % (path, n, e))
            if not isinstance(row, dict):
                raise ValueError("%s:%d: expected a JSON object" % (path, n))
            rows.append(row)
    return rows


class HfTokenizer:
    """The tokenizer interface the functions below need, over a transformers tokenizer."""

    def __init__(self, tok):
        self.tok = tok
        self.bos_text = tok.bos_token
        self.eos_id = tok.eos_token_id
        probe = tok("a")["input_ids"]
        adds_bos = tok.bos_token_id is not None and len(probe) > 0 and probe[0] == tok.bos_token_id
        self.bos_id = tok.bos_token_id if adds_bos else None

    def encode(self, text):
        return self.tok(text, add_special_tokens=False)["input_ids"]


def _with_bos(tok, ids):
    """Prepend BOS unless the tokenizer adds none or the text already starts with it (Llama 3 templates)."""
    if tok.bos_id is None or (ids and ids[0] == tok.bos_id):
        return list(ids)
    return [tok.bos_id] + list(ids)


def _cut(ids, n, keep):
    if len(ids) <= n:
        return ids
    return ids[:n] if keep == "keep_start" else ids[len(ids) - n:]


def tokenize_sft(row, tok, cutoff, truncation="keep_start", eos=False, mask_prompt=True):
    """One SFT row → {"input_ids", "labels"} (see module header)."""
    if "text" in row and "prompt" not in row:
        ids = _with_bos(tok, tok.encode(row["text"]))
        if eos and tok.eos_id is not None and (not ids or ids[-1] != tok.eos_id):
            ids.append(tok.eos_id)
        ids = _cut(ids, cutoff, truncation)
        return {"input_ids": ids, "labels": list(ids), "truncated": False}
    prompt, completion = row["prompt"], row["completion"]
    eos = bool(row.get("append_eos", eos))  # tune renders it per row (the template's `eos`)
    prompt_ids = _with_bos(tok, tok.encode(prompt))
    full = _with_bos(tok, tok.encode(prompt + completion))
    if eos and tok.eos_id is not None and (not full or full[-1] != tok.eos_id):
        full.append(tok.eos_id)
    n_prompt = min(len(prompt_ids), len(full))
    labels = [IGNORE_INDEX if (mask_prompt and i < n_prompt) else t for i, t in enumerate(full)]
    truncated = len(full) > cutoff
    return {"input_ids": _cut(full, cutoff, truncation), "labels": _cut(labels, cutoff, truncation), "truncated": truncated}


def tokenize_pair(row, tok, max_length, max_prompt_length, truncation="keep_start", eos=True):
    """One preference row → prompt/chosen/rejected ids with classic TRL truncation (see module header)."""
    prompt = _with_bos(tok, tok.encode(row["prompt"]))

    def response(text):
        ids = tok.encode(text)
        if eos and tok.eos_id is not None and (not ids or ids[-1] != tok.eos_id):
            ids.append(tok.eos_id)
        return ids

    chosen, rejected = response(row["chosen"]), response(row["rejected"])
    longest = max(len(chosen), len(rejected))
    truncated = False
    if len(prompt) + longest > max_length and len(prompt) > max_prompt_length:
        prompt = _cut(prompt, max_prompt_length, truncation)
        truncated = True
    if len(prompt) + longest > max_length:
        keep = max_length - max_prompt_length
        truncated = truncated or len(chosen) > keep or len(rejected) > keep
        chosen, rejected = chosen[:keep], rejected[:keep]
    return {"prompt_ids": prompt, "chosen_ids": chosen, "rejected_ids": rejected, "truncated": truncated}


def pair_features(ex):
    """Concatenated prompt + response ids and labels (prompt masked) for both sides of a pair."""
    p = ex["prompt_ids"]
    out = {}
    for side in ("chosen", "rejected"):
        r = ex[side + "_ids"]
        out[side + "_input_ids"] = p + r
        out[side + "_labels"] = [IGNORE_INDEX] * len(p) + list(r)
    return out


def pack_bfd(examples, seq_length):
    """Best-fit-decreasing bins of whole sequences; returns packed rows with restarting position ids."""
    order = sorted(range(len(examples)), key=lambda i: -len(examples[i]["input_ids"]))
    bins = []  # [free, [indices]]
    for i in order:
        n = min(len(examples[i]["input_ids"]), seq_length)
        best = None
        for b in bins:
            if b[0] >= n and (best is None or b[0] < best[0]):
                best = b
        if best is None:
            best = [seq_length, []]
            bins.append(best)
        best[0] -= n
        best[1].append(i)
    packed = []
    for _, members in bins:
        ids, labels, pos = [], [], []
        for i in members:
            e_ids = examples[i]["input_ids"][:seq_length]
            e_lab = list(examples[i]["labels"][:seq_length])
            if e_lab:
                e_lab[0] = IGNORE_INDEX
            ids += e_ids
            labels += e_lab
            pos += list(range(len(e_ids)))
        packed.append({"input_ids": ids, "labels": labels, "position_ids": pos})
    return packed


def pad_batch(features, keys, pad_values, multiple=1):
    """Right-pad each key of `features` (lists of ints) to the longest; returns python lists and the mask."""
    longest = max(len(f[keys[0]]) for f in features)
    if multiple > 1:
        longest = ((longest + multiple - 1) // multiple) * multiple
    out = {k: [] for k in keys}
    mask = []
    for f in features:
        n = len(f[keys[0]])
        for k, pad in zip(keys, pad_values):
            out[k].append(list(f[k]) + [pad] * (longest - n))
        mask.append([1] * n + [0] * (longest - n))
    out["attention_mask"] = mask
    return out

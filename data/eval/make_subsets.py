#!/usr/bin/env python3
"""Builds the small local eval subsets under data/eval/ from /work/shared/data.

Why a script: the shipped rows must be *exactly* the rows lm-evaluation-harness would use for the first N
eval documents, so that prompts (few-shot shots included) match the harness. Eval splits are shipped as a
prefix (docs 0..N-1). Shot splits that are too big to ship whole are shipped *sparse*: only the rows that
`random.Random(1234).sample(shot_docs, n)` actually draws for the first K eval docs at the listed shot
counts, each tagged with its original index `_idx`. The engine samples indices over the full split size and
looks the rows up, so it reproduces the harness draw for draw; it refuses (clear error) when a draw falls
outside what is shipped.

Rows are converted to the Hugging Face schema the harness task YAMLs read (ai2_arc, cais/mmlu, gsm8k
"main", piqa, truthful_qa "multiple_choice", google/IFEval, pbevan11/EQ-Bench).

Run from the repository root with plain CPython 3.11 (uses the real `random` module):
    python3 data/eval/make_subsets.py [/work/shared/data]
"""
import csv
import hashlib
import json
import os
import random
import sys

SRC = sys.argv[1] if len(sys.argv) > 1 else "/work/shared/data"
OUT = os.path.dirname(os.path.abspath(__file__))
SEED = 1234  # lm-eval fewshot_random_seed

MMLU_TEST_SUBJECTS = ["philosophy", "abstract_algebra", "global_facts", "us_foreign_policy", "college_biology"]


# ---- helpers

def read_jsonl(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def dump_rows(path, rows):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False, separators=(",", ":")) + "\n")


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def drawn_indices(size, plans, n_plus_one):
    """Indices the harness sampler draws: one Random(1234) per (task, shot count), advancing per doc."""
    used = set()
    for shots, first_docs in plans:
        rnd = random.Random(SEED)
        draw = shots + 1 if n_plus_one else shots
        for _ in range(first_docs):
            used.update(rnd.sample(range(size), draw))
    return sorted(used)


def split_entry(file, rows, size, layout, **extra):
    return {"file": file, "rows": rows, "size": size, "layout": layout, **extra}


def write_split(folder, name, docs, layout, size, **extra):
    path = os.path.join(OUT, folder, name)
    dump_rows(path, docs)
    return split_entry(name, len(docs), size, layout, **extra)


def sparse_split(folder, name, all_docs, indices):
    rows = [{"_idx": i, **all_docs[i]} for i in indices]
    return write_split(folder, name, rows, "sparse", len(all_docs))


def write_manifest(folder, manifest):
    path = os.path.join(OUT, folder, "manifest.json")
    with open(path, "w", encoding="utf-8") as f:
        json.dump(manifest, f, indent=2, ensure_ascii=False)
        f.write("\n")


def write_source(folder, title, source_lines, subset_lines):
    files = sorted(
        os.path.relpath(os.path.join(d, fn), os.path.join(OUT, folder))
        for d, _, fns in os.walk(os.path.join(OUT, folder))
        for fn in fns
        if fn.endswith(".jsonl")
    )
    lines = [f"# {title}", "", "Built by `data/eval/make_subsets.py` from `/work/shared/data` (see that folder's SOURCE.md).", ""]
    lines += ["## Source and license", ""] + [f"- {s}" for s in source_lines] + [""]
    lines += ["## Subset and conversion", ""] + [f"- {s}" for s in subset_lines] + [""]
    lines += ["## Files", "", "| file | sha256 |", "|---|---|"]
    lines += [f"| `{fn}` | `{sha256(os.path.join(OUT, folder, fn))}` |" for fn in files]
    with open(os.path.join(OUT, folder, "SOURCE.md"), "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")


# ---- ARC

def arc_docs(path):
    out = []
    for r in read_jsonl(path):
        q = r["question"]
        out.append({
            "id": r["id"],
            "question": q["stem"],
            "choices": {"text": [c["text"] for c in q["choices"]], "label": [c["label"] for c in q["choices"]]},
            "answerKey": r["answerKey"],
        })
    return out


def build_arc(kind, folder, test_prefix, shot_plans):
    base = os.path.join(SRC, "arc", kind)
    test = arc_docs(os.path.join(base, f"{kind}-Test.jsonl"))
    train = arc_docs(os.path.join(base, f"{kind}-Train.jsonl"))
    val = arc_docs(os.path.join(base, f"{kind}-Dev.jsonl"))
    splits = {"test": write_split(folder, "test.jsonl", test[:test_prefix], "prefix", len(test))}
    if shot_plans is None:
        splits["train"] = write_split(folder, "train.jsonl", train, "full", len(train))
        shot_note = f"train: whole split ({len(train)} rows), so any shot count works for the shipped test docs"
    else:
        # arc: fewshot_split unset, test_split "test" -> the harness draws exactly n (no n+1)
        idx = drawn_indices(len(train), shot_plans, n_plus_one=False)
        splits["train"] = sparse_split(folder, "train.jsonl", train, idx)
        plans = ", ".join(f"{s}-shot for the first {d} test docs" for s, d in shot_plans)
        shot_note = f"train: sparse, {len(idx)} of {len(train)} rows = every row Random(1234) draws for {plans}"
    splits["validation"] = split_entry(None, 0, len(val), "absent")
    write_manifest(folder, {"hub": {"path": "allenai/ai2_arc", "name": kind}, "hub_compatible": True,
                            "configs": {kind: {"splits": splits}}})
    write_source(folder, f"{folder} — AI2 ARC ({kind}) subset", [
        "ARC V1-Feb2018 JSONL via RazvanDu/TemporalRNNs @ 799e65e48c0cc2bdf2780a13bbb4830f46139581 (history only)",
        "License: ARC is CC BY-SA 4.0 (AI2); the copying repository states none",
    ], [
        f"test: first {test_prefix} of {len(test)} rows, original order",
        shot_note,
        "converted to the HF `allenai/ai2_arc` schema: {id, question: stem, choices: {text, label}, answerKey}",
    ])


# ---- GSM8K

def build_gsm8k(test_prefix, shot_plans):
    folder = "gsm8k"
    test = read_jsonl(os.path.join(SRC, "gsm8k", "test.jsonl"))
    train = read_jsonl(os.path.join(SRC, "gsm8k", "train.jsonl"))
    idx = drawn_indices(len(train), shot_plans, n_plus_one=False)  # fewshot_split train != test_split test
    splits = {
        "test": write_split(folder, "test.jsonl", test[:test_prefix], "prefix", len(test)),
        "train": sparse_split(folder, "train.jsonl", train, idx),
    }
    write_manifest(folder, {"hub": {"path": "openai/gsm8k", "name": "main"}, "hub_compatible": True,
                            "configs": {"main": {"splits": splits}}})
    plans = ", ".join(f"{s}-shot for the first {d} test docs" for s, d in shot_plans)
    write_source(folder, "gsm8k — Grade School Math 8K subset", [
        "openai/grade-school-math @ 3101c7d5072418e28b9008a6636bde82a006892c, grade_school_math/data/{test,train}.jsonl",
        "License: MIT (Copyright (c) 2021 OpenAI)",
    ], [
        f"test: first {test_prefix} of {len(test)} rows",
        f"train: sparse, {len(idx)} of {len(train)} rows = every row Random(1234) draws for {plans}",
        "schema unchanged ({question, answer}), identical to HF `openai/gsm8k` main",
    ])


# ---- PIQA

def build_piqa(prefix):
    folder = "piqa"
    docs = read_jsonl(os.path.join(SRC, "piqa", "dev.jsonl"))
    with open(os.path.join(SRC, "piqa", "dev-labels.csv"), encoding="utf-8") as f:
        labels = [int(x) for x in f.read().split()]
    assert len(labels) == len(docs)
    rows = [{"goal": d["goal"], "sol1": d["sol1"], "sol2": d["sol2"], "label": lab} for d, lab in zip(docs, labels)]
    splits = {
        "validation": write_split(folder, "validation.jsonl", rows[:prefix], "prefix", len(rows)),
        "train": split_entry(None, 0, 16113, "absent"),
    }
    write_manifest(folder, {"hub": {"path": "ybisk/piqa", "name": None}, "hub_compatible": True,
                            "configs": {"default": {"splits": splits}}})
    write_source(folder, "piqa — PIQA validation subset", [
        "PIQA dev split + labels via RazvanDu/TemporalRNNs @ 799e65e48c0cc2bdf2780a13bbb4830f46139581",
        "License: none stated by the source; check the PIQA authors' release before redistributing",
    ], [
        f"validation: first {prefix} of {len(rows)} rows (dev.jsonl joined with dev-labels.csv line by line)",
        "train: not available here (its blob is absent from the source snapshot), so PIQA runs 0-shot only",
        "converted to the HF `piqa` schema {goal, sol1, sol2, label}; the `id` field is dropped as HF does",
    ])


# ---- TruthfulQA

def build_truthfulqa(prefix):
    folder = "truthfulqa"
    with open(os.path.join(SRC, "truthfulqa", "mc_task.json"), encoding="utf-8") as f:
        raw = json.load(f)
    rows = []
    for r in raw[:prefix]:
        rows.append({
            "question": r["question"],
            "mc1_targets": {"choices": list(r["mc1_targets"].keys()), "labels": list(r["mc1_targets"].values())},
            "mc2_targets": {"choices": list(r["mc2_targets"].keys()), "labels": list(r["mc2_targets"].values())},
        })
    splits = {"validation": write_split(folder, "validation.jsonl", rows, "full", len(rows), hub_size=817)}
    write_manifest(folder, {"hub": {"path": "truthfulqa/truthful_qa", "name": "multiple_choice"},
                            "hub_compatible": False,
                            "note": "mc_task.json at upstream d71c1108 has 790 questions; the HF split has 817. "
                                    "Few-shot draws use the shipped rows as the population.",
                            "configs": {"multiple_choice": {"splits": splits}}})
    write_source(folder, "truthfulqa — TruthfulQA multiple-choice subset", [
        "sylinrl/TruthfulQA data/mc_task.json (via koppula/TruthfulQA @ upstream d71c110897f5d31c5d7f309e7bc316c152f6f031)",
        "License: Apache-2.0",
    ], [
        f"validation: first {prefix} of {len(raw)} questions, original order",
        "NOT the same population as HF `truthful_qa` (817 questions): numbers are comparable per question, "
        "not as a whole-set score; shots (if any) are drawn from these rows",
        "dicts converted to {choices, labels} lists in JSON key order (CPython keeps insertion order)",
    ])


# ---- MMLU

def mmlu_rows(path, subject):
    with open(path, encoding="utf-8", newline="") as f:
        return [{"question": r[0], "subject": subject, "choices": r[1:5], "answer": "ABCD".index(r[5])}
                for r in csv.reader(f)]


def build_mmlu():
    folder = "mmlu"
    dev_dir = os.path.join(SRC, "mmlu", "dev")
    subjects = sorted(fn[: -len("_dev.csv")] for fn in os.listdir(dev_dir) if fn.endswith("_dev.csv"))
    dev_rows, configs = [], {}
    for s in subjects:
        rows = mmlu_rows(os.path.join(dev_dir, f"{s}_dev.csv"), s)
        dev_rows += rows
        with open(os.path.join(SRC, "mmlu", "test", f"{s}_test.csv"), encoding="utf-8", newline="") as f:
            test_size = sum(1 for _ in csv.reader(f))
        configs[s] = {"splits": {"dev": split_entry("dev.jsonl", len(rows), len(rows), "full", where={"subject": s})}}
        if s in MMLU_TEST_SUBJECTS:
            test = mmlu_rows(os.path.join(SRC, "mmlu", "test", f"{s}_test.csv"), s)
            configs[s]["splits"]["test"] = write_split(folder, f"test/{s}.jsonl", test, "full", test_size)
        else:
            configs[s]["splits"]["test"] = split_entry(None, 0, test_size, "absent")
    dump_rows(os.path.join(OUT, folder, "dev.jsonl"), dev_rows)
    write_manifest(folder, {"hub": {"path": "cais/mmlu", "name": None}, "hub_compatible": True, "configs": configs})
    write_source(folder, "mmlu — MMLU dev (all subjects) + test for a few subjects", [
        "MMLU original CSVs via RazvanDu/TemporalRNNs @ 799e65e48c0cc2bdf2780a13bbb4830f46139581 (history only)",
        "License: hendrycks/test is MIT (Copyright (c) 2020 Dan Hendrycks)",
    ], [
        f"dev: all {len(subjects)} subjects, 5 rows each (the first_n few-shot exemplars), in dev.jsonl",
        f"test: whole test split for {', '.join(MMLU_TEST_SUBJECTS)} (test/<subject>.jsonl); other subjects have no test here",
        "converted to the HF `cais/mmlu` schema {question, subject, choices: [A, B, C, D], answer: 0-3}",
    ])


# ---- IFEval and EQ-Bench

def build_ifeval():
    folder = "ifeval"
    rows = read_jsonl(os.path.join(SRC, "ifeval", "input_data.jsonl"))
    splits = {"train": write_split(folder, "train.jsonl", rows, "full", len(rows))}
    write_manifest(folder, {"hub": {"path": "google/IFEval", "name": None}, "hub_compatible": True,
                            "configs": {"default": {"splits": splits}}})
    write_source(folder, "ifeval — IFEval prompts (whole set)", [
        "google-research instruction_following_eval/data/input_data.jsonl (via Podtech-AI/IFEval @ 5bdf377e)",
        "License: Apache-2.0 (google-research IFEval code headers)",
    ], [
        f"all {len(rows)} prompts, unchanged schema {{key, prompt, instruction_id_list, kwargs}}",
        "HF google/IFEval pads every kwargs dict with null keys; the checkers drop falsy kwargs, so both read the same",
    ])


def build_eq_bench():
    folder = "eq_bench"
    with open(os.path.join(SRC, "eq_bench", "eq_bench_v2_questions_171.json"), encoding="utf-8") as f:
        raw = json.load(f)
    rows = []
    for key in sorted(raw, key=int):
        q = raw[key]
        rows.append({"id": key, "prompt": q["prompt"], "reference_answer": q["reference_answer"],
                     "reference_answer_fullscale": q["reference_answer_fullscale"]})
    splits = {"validation": write_split(folder, "validation.jsonl", rows, "full", len(rows))}
    write_manifest(folder, {"hub": {"path": "pbevan11/EQ-Bench", "name": None}, "hub_compatible": True,
                            "configs": {"default": {"splits": splits}}})
    write_source(folder, "eq_bench — EQ-Bench v2 questions (whole set)", [
        "EQ-bench/EQ-Bench @ d28c60c514fe6667dc5818114ed10088f91f09f3, data/eq_bench_v2_questions_171.json",
        "License: MIT (Copyright (c) 2023 Samuel Paech)",
    ], [
        f"all {len(rows)} questions in numeric key order, with the key kept as `id`",
        "reference answers kept as JSON objects (HF stores them as Python-literal strings; the scorer accepts both); "
        "fullscale scores are a mix of ints and strings, as in the source",
    ])


def main():
    build_arc("ARC-Challenge", "arc_challenge", 250, None)
    build_arc("ARC-Easy", "arc_easy", 250, [(5, 100), (25, 20)])
    build_gsm8k(200, [(5, 200), (8, 100)])
    build_piqa(500)
    build_truthfulqa(200)
    build_mmlu()
    build_ifeval()
    build_eq_bench()


if __name__ == "__main__":
    main()

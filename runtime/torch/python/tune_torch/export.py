"""Export (merge-and-save or copy the adapter) and lm-eval runs of tune's PyTorch programs.

Why this exists: the recipe's `export` block says what a run leaves behind — PEFT's own adapter files (so the
in-process runtime can load them back) or the adapter merged into full-precision base weights saved as
safetensors in the requested dtype — and `eval` tasks run through EleutherAI's `lm_eval` CLI with
`--model hf --model_args pretrained=…,peft=…` when it is installed (skipped with a note when not).
"""
import glob
import json
import os
import shutil
import subprocess
import sys

from tune_torch import common

HF_DTYPES = {"bf16": "bfloat16", "fp16": "float16", "fp32": "float32"}


def _resolve_base(lineage):
    base = lineage["base"]
    if "dir" in base:
        return common.out_path(base["dir"]), None
    return common.model_location(base["model"])


def merged_model(lineage, dtype, dest):
    """Load the base unquantized in `dtype`, merge every adapter of the lineage, save safetensors to `dest`."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from tune_torch import models as M
    location, revision = _resolve_base(lineage)
    # Merge in fp32 (on a GPU in bf16/fp16 when the target is, to fit), then cast to the export dtype.
    on_gpu = torch.cuda.is_available()
    kwargs = {M.dtype_kwarg(): M.DTYPES[dtype] if on_gpu else torch.float32}
    if revision:
        kwargs["revision"] = revision
    model = AutoModelForCausalLM.from_pretrained(location, **kwargs)
    adapters = list(lineage.get("merge", [])) + ([lineage["adapter"]] if lineage.get("adapter") else [])
    model = M.merge_adapters(model, adapters)
    model = model.to(M.DTYPES[dtype])
    os.makedirs(dest, exist_ok=True)
    model.save_pretrained(dest, safe_serialization=True)
    tok_src = common.out_path(adapters[-1]) if adapters and os.path.exists(os.path.join(common.out_path(adapters[-1]), "tokenizer_config.json")) else location
    AutoTokenizer.from_pretrained(tok_src).save_pretrained(dest)
    del model
    if torch.cuda.is_available():
        torch.cuda.empty_cache()
    return dest


def run_export(job):
    lineage = job["lineage"]
    dest_root = common.out_path(job["output_dir"])
    if job["merge"] or not lineage.get("adapter"):
        dest = merged_model(lineage, job.get("dtype", "bf16"), os.path.join(dest_root, "model"))
    else:
        if lineage.get("merge"):
            common.fail("T7644", "%s: the adapter was trained on a base with earlier adapters merged in; it cannot be exported alone" % job["node"],
                        "set `merge = true` in the export block")
        src = common.out_path(lineage["adapter"])
        dest = os.path.join(dest_root, "adapter")
        if os.path.exists(dest):
            shutil.rmtree(dest)
        shutil.copytree(src, dest)
    common.mark_done(job, final=dest)
    common.emit_event("node_done", node=job["node"], final=dest)


def model_args(lineage, dtype, scratch):
    """lm_eval `--model_args` for a lineage: pretrained=base[,peft=adapter] (merging first when it must)."""
    if lineage.get("merge"):
        merged = os.path.join(scratch, "merged")
        if not os.path.exists(os.path.join(merged, "config.json")):
            merged_model(lineage, dtype, merged)
        return "pretrained=%s,dtype=%s" % (merged, HF_DTYPES[dtype])
    location, revision = _resolve_base(lineage)
    args = "pretrained=%s,dtype=%s" % (location, HF_DTYPES[dtype])
    if revision:
        args += ",revision=%s" % revision
    if lineage.get("adapter"):
        args += ",peft=%s" % common.out_path(lineage["adapter"])
    return args


def lm_eval_command():
    import importlib.util
    if importlib.util.find_spec("lm_eval") is None:
        return None
    return [sys.executable, "-m", "lm_eval"]


def run_eval(job):
    cmd = lm_eval_command()
    if cmd is None:
        common.emit_event("node_skipped", node=job["node"], reason="lm_eval is not installed (pip install lm_eval); tune's own engine can run this task")
        return
    scratch = common.out_path(job["output_dir"])
    os.makedirs(scratch, exist_ok=True)
    args = cmd + ["--model", "hf", "--model_args", model_args(job["lineage"], job.get("dtype", "bf16"), scratch),
                  "--tasks", job["task"], "--num_fewshot", str(job["shots"]), "--batch_size", "auto",
                  "--output_path", os.path.join(scratch, "lm_eval"), "--seed", str(job.get("seed", 1234))]
    if job.get("limit"):
        args += ["--limit", str(job["limit"])]
    common.emit_event("eval_start", node=job["node"], command=" ".join(args))
    rc = subprocess.call(args)
    if rc != 0:
        common.fail("T7645", "%s: lm_eval exited with %d" % (job["node"], rc), "see its output above")
    files = sorted(glob.glob(os.path.join(scratch, "lm_eval", "**", "results*.json"), recursive=True), key=os.path.getmtime)
    if not files:
        common.fail("T7645", "%s: lm_eval wrote no results file" % job["node"], "check --output_path")
    with open(files[-1], encoding="utf-8") as f:
        results = json.load(f)
    for section in ("results", "groups"):
        for task, metrics in (results.get(section) or {}).items():
            for key, value in metrics.items():
                if "," not in key or "stderr" in key or not isinstance(value, (int, float)):
                    continue
                metric, filt = key.split(",", 1)
                common.emit_metric({"node": job["node"], "task": task, "metric": metric, "filter": filt, "value": value})
    common.mark_done(job, results=files[-1])
    common.emit_event("node_done", node=job["node"], final=files[-1])

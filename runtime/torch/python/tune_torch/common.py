"""Shared helpers of the PyTorch programs tune exports (runtime/torch in the tune repository).

Why this exists: every generated program needs the same plumbing, and it must behave identically in all of
them: reading the job file tune wrote, resolving where the model and the data are (offline, with overrides),
the progress-line protocol tune parses (one JSON object per line after ``TUNE_METRIC `` or ``TUNE_EVENT ``,
with the in-process executor's metric names), graceful interruption (SIGINT/SIGTERM finish the current step,
save a checkpoint and exit 130), and the ``done.json`` marker by which a re-run skips finished nodes.
This module imports neither torch nor transformers at import time, so ``--dry-run`` works without them.
"""
import json
import math
import os
import re
import signal
import sys
import time

METRIC_PREFIX = "TUNE_METRIC "
EVENT_PREFIX = "TUNE_EVENT "
EXIT_INTERRUPTED = 130


# ---- process identity

def rank():
    return int(os.environ.get("RANK") or os.environ.get("LOCAL_RANK") or 0)


def local_rank():
    return int(os.environ.get("LOCAL_RANK") or 0)


def world_size():
    return max(1, int(os.environ.get("WORLD_SIZE") or 1))


def is_main():
    return rank() == 0


# ---- the progress-line protocol

def _clean(value):
    """JSON-safe copy: non-finite floats become null (JSON has no NaN), tensors and numpy scalars become floats."""
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int):
        return value
    try:
        f = float(value)
    except (TypeError, ValueError):
        return str(value)
    return f if math.isfinite(f) else None


_metrics_file = None


def set_metrics_file(path):
    """Also append every metric line (without prefix) to `path` (the node's own metrics.jsonl)."""
    global _metrics_file
    if is_main():
        os.makedirs(os.path.dirname(path), exist_ok=True)
    _metrics_file = path


def emit_metric(record):
    if not is_main():
        return
    line = json.dumps(_clean(record), sort_keys=True, allow_nan=False)
    print(METRIC_PREFIX + line, flush=True)
    if _metrics_file:
        with open(_metrics_file, "a", encoding="utf-8") as f:
            f.write(line + "\n")


def emit_event(event, **fields):
    if not is_main():
        return
    fields["event"] = event
    fields["time"] = round(time.time(), 3)
    print(EVENT_PREFIX + json.dumps(_clean(fields), sort_keys=True, allow_nan=False), flush=True)


def fail(code, message, hint):
    """Stop with a tune-style error: a code, a message and a hint, as a TUNE_EVENT and on stderr."""
    emit_event("error", code=code, message=message, hint=hint)
    sys.stderr.write("error[%s]: %s\n  = help: %s\n" % (code, message, hint))
    sys.exit(2)


# ---- configuration and paths

def export_root():
    env = os.environ.get("TUNE_EXPORT_DIR")
    if env:
        return os.path.abspath(env)
    return os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def output_root():
    return os.path.abspath(os.environ.get("TUNE_OUTPUT_DIR") or os.path.join(export_root(), "runs"))


def out_path(rel):
    """A node's output folder: relative paths are under TUNE_OUTPUT_DIR (default ./runs)."""
    return rel if os.path.isabs(rel) else os.path.join(output_root(), rel)


def in_path(rel):
    """A file shipped in the exported directory (data, configs)."""
    return rel if os.path.isabs(rel) else os.path.join(export_root(), rel)


def load_job(path):
    with open(path, encoding="utf-8") as f:
        job = json.load(f)
    if job.get("format") != "tune-torch-job" or job.get("version") != 1:
        fail("T7640", "%s is not a tune torch job file (format/version)" % path, "re-export with `tune export --executor torch`")
    return job


def env_name(model_name):
    return "TUNE_MODEL_" + re.sub(r"[^A-Za-z0-9]", "_", model_name).upper()


def model_location(spec):
    """(location, revision) of a base model: $TUNE_MODEL_<NAME>, else its local path, else the hub id."""
    override = os.environ.get(env_name(spec["name"])) or os.environ.get("TUNE_MODEL")
    if override:
        return override, None
    path = spec.get("path")
    if path:
        candidates = [path] if os.path.isabs(path) else [
            os.path.join(os.environ.get("TUNE_RECIPE_DIR", ""), path) if os.environ.get("TUNE_RECIPE_DIR") else None,
            os.path.join(export_root(), path),
            os.path.abspath(path),
        ]
        for c in candidates:
            if c and os.path.isdir(c):
                return c, None
        fail("T7641", "model `%s` is a local path (%s) that does not exist here" % (spec["name"], path),
             "set %s=/path/to/the/model (a folder with config.json) or TUNE_RECIPE_DIR to the recipe's folder" % env_name(spec["name"]))
    hub = spec.get("hub")
    if not hub:
        fail("T7641", "model `%s` has neither a path nor a hub id" % spec["name"], "set %s" % env_name(spec["name"]))
    if os.environ.get("HF_HUB_OFFLINE") == "1" and not os.environ.get("HF_HOME") and not os.path.isdir(hub):
        emit_event("warning", message="HF_HUB_OFFLINE=1 and model %s is a hub id: it must already be in the HF cache" % hub)
    return hub, spec.get("revision") or None


# ---- quick-run limits (tune run --executor torch --smoke, or by hand on a cluster before the real run)

def limits():
    """{"rows": n, "steps": n} from TUNE_MAX_ROWS / TUNE_MAX_STEPS (positive integers; unset or 0 = no limit)."""
    out = {}
    for key, name in (("rows", "TUNE_MAX_ROWS"), ("steps", "TUNE_MAX_STEPS")):
        raw = os.environ.get(name, "").strip()
        if not raw:
            continue
        try:
            value = int(raw)
        except ValueError:
            fail("T7646", "%s=%r is not a whole number" % (name, raw), "set %s to a positive integer, or unset it" % name)
        if value < 0:
            fail("T7646", "%s=%d is negative" % (name, value), "set %s to a positive integer, or unset it" % name)
        if value > 0:
            out[key] = value
    return out


def apply_limits(job, rows, valid_rows):
    """Cap the rows (first n, validation too) and optimizer updates by `limits()`; says so in an event."""
    lim = limits()
    if not lim:
        return rows, valid_rows
    if "rows" in lim:
        rows, valid_rows = rows[: lim["rows"]], valid_rows[: lim["rows"]]
    if "steps" in lim:
        t = job["train"]
        t["max_steps"] = min(int(t["max_steps"]), lim["steps"]) if t.get("max_steps") else lim["steps"]
    emit_event("limits", node=job["node"], rows=len(rows), validation_rows=len(valid_rows), max_steps=job["train"].get("max_steps"),
               message="TUNE_MAX_ROWS/TUNE_MAX_STEPS cap this run; it is a smoke run, not the recipe's training")
    return rows, valid_rows


def done_marker(node_dir):
    return os.path.join(out_path(node_dir), "done.json")


def is_done(node_dir, node_hash):
    p = done_marker(node_dir)
    if not os.path.exists(p):
        return False
    try:
        with open(p, encoding="utf-8") as f:
            done = json.load(f)
    except (OSError, ValueError):
        return False
    # A run capped by TUNE_MAX_ROWS/TUNE_MAX_STEPS is not the full node (and vice versa).
    return done.get("hash") == node_hash and (done.get("limits") or {}) == limits()


def write_json_atomic(path, value):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = "%s.tmp-%d" % (path, os.getpid())
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(_clean(value), f, indent=2, sort_keys=True)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def mark_done(job, **extra):
    if not is_main():
        return
    record = {"node": job["node"], "hash": job["hash"], "finished_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "limits": limits()}
    record.update(extra)
    write_json_atomic(done_marker(job["output_dir"]), record)


# ---- interruption

class Stop:
    requested = False


def install_signal_handlers():
    """First SIGINT/SIGTERM: stop after the current optimizer step with a checkpoint. Second: die at once."""
    def handler(signum, _frame):
        if Stop.requested:
            signal.signal(signum, signal.SIG_DFL)
            os.kill(os.getpid(), signum)
            return
        Stop.requested = True
        emit_event("interrupt", signal=signum, message="stopping after this step with a checkpoint; send again to abort")
    for s in (signal.SIGINT, signal.SIGTERM):
        signal.signal(s, handler)


def stop_requested_anywhere():
    """True when any rank was interrupted (all ranks must agree, or collectives would hang)."""
    flag = Stop.requested
    try:
        import torch
        import torch.distributed as dist
        if dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1:
            on_gpu = torch.cuda.is_available() and dist.get_backend() == "nccl"
            device = torch.device("cuda", torch.cuda.current_device()) if on_gpu else torch.device("cpu")
            t = torch.tensor([1.0 if flag else 0.0], device=device)
            dist.all_reduce(t, op=dist.ReduceOp.MAX)
            flag = bool(t.item() > 0)
    except Exception:  # noqa: BLE001 - a failed vote must not kill training
        pass
    return flag


# ---- command line shared by the programs

def parse_args(description):
    import argparse
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--config", required=True, help="job file written by tune export (jobs/*.json)")
    p.add_argument("--dry-run", action="store_true", help="read config and data, print the plan; train nothing (no torch needed)")
    p.add_argument("--check-env", action="store_true", help="print the environment probe and exit")
    return p.parse_args()


def check_env_and_exit():
    from tune_torch import check_env
    print(json.dumps(check_env.probe(), sort_keys=True))
    sys.exit(0)

"""Environment probe for tune's PyTorch executor: one JSON object on stdout, nothing else.

Why this exists: a job that dies after loading 70B of weights because bitsandbytes is missing wastes an hour;
tune runs this first (`checkTorchEnvironment` in runtime/torch/env-check.ts, or `launch.sh --check-env`) and
turns each missing piece into a precise message with a hint. It must run on any Python ≥ 3.8 with nothing
installed, so every import is guarded and versions come from package metadata where possible.
"""
import importlib
import importlib.util
import json
import platform
import shutil
import sys

PACKAGES = ("torch", "transformers", "peft", "accelerate", "bitsandbytes", "deepspeed", "lm_eval", "flash_attn", "safetensors")
DISTRIBUTIONS = {"lm_eval": "lm_eval", "flash_attn": "flash_attn"}


def _version(name):
    try:
        from importlib import metadata
        try:
            return metadata.version(DISTRIBUTIONS.get(name, name))
        except metadata.PackageNotFoundError:
            pass
    except ImportError:
        pass
    mod = importlib.import_module(name)
    return str(getattr(mod, "__version__", "unknown"))


def _package(name):
    spec = importlib.util.find_spec(name)
    if spec is None:
        return {"installed": False}
    info = {"installed": True}
    try:
        info["version"] = _version(name)
    except Exception as e:  # noqa: BLE001 - report, never crash the probe
        info["error"] = "%s: %s" % (type(e).__name__, e)
    return info


def _cuda():
    try:
        import torch
    except Exception as e:  # noqa: BLE001
        return {"available": False, "error": "%s: %s" % (type(e).__name__, e), "devices": []}
    out = {"available": bool(torch.cuda.is_available()), "torch_cuda": getattr(torch.version, "cuda", None), "devices": []}
    if out["available"]:
        for i in range(torch.cuda.device_count()):
            p = torch.cuda.get_device_properties(i)
            out["devices"].append({"index": i, "name": p.name, "memory_bytes": int(p.total_memory),
                                   "capability": "%d.%d" % (p.major, p.minor)})
        out["bf16"] = bool(torch.cuda.is_bf16_supported())
    return out


def _import_check(name):
    """bitsandbytes and deepspeed can be installed yet fail to import (no CUDA libs, no compiler)."""
    try:
        importlib.import_module(name)
        return None
    except Exception as e:  # noqa: BLE001
        return "%s: %s" % (type(e).__name__, str(e).splitlines()[0] if str(e) else "")


def probe():
    result = {
        "python": {"version": platform.python_version(), "executable": sys.executable},
        "platform": platform.platform(),
        "packages": {name: _package(name) for name in PACKAGES},
        "cuda": _cuda(),
        "commands": {"accelerate": shutil.which("accelerate"), "lm_eval": shutil.which("lm_eval"), "sbatch": shutil.which("sbatch")},
    }
    for name in ("bitsandbytes", "deepspeed"):
        if result["packages"][name]["installed"]:
            err = _import_check(name)
            if err:
                result["packages"][name]["import_error"] = err
    return result


if __name__ == "__main__":
    print(json.dumps(probe(), sort_keys=True))

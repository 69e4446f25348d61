"""Loading the policy and the reference of a tune training node with transformers + PEFT.

Why this exists: a node's starting point is a lineage tune computed from the graph: a base (a recipe model or
an earlier full fine-tune's folder), adapters of earlier stages to merge into it, and optionally an adapter to
keep training (a stage that inherits its predecessor's adapter). QLoRA loads the base in 4-bit through
bitsandbytes (NF4/FP4, double quant, bf16 compute). The reference of a preference stage is realised as cheaply
as it can be: the policy with its adapter disabled, a second frozen adapter named "ref" on the same base (as
TRL does when one is present), or a separate frozen model when the policy is fully fine-tuned.
"""
import os

import torch

from tune_torch import common

DTYPES = {"bf16": torch.bfloat16, "fp16": torch.float16, "fp32": torch.float32}


def _transformers_version():
    import transformers
    parts = []
    for p in transformers.__version__.split(".")[:2]:
        digits = "".join(ch for ch in p if ch.isdigit())
        parts.append(int(digits or 0))
    return tuple(parts)


def dtype_kwarg():
    """transformers ≥ 4.56 calls it `dtype`; older releases `torch_dtype`."""
    return "dtype" if _transformers_version() >= (4, 56) else "torch_dtype"


def attn_implementation(wanted_flash):
    if wanted_flash and torch.cuda.is_available():
        try:
            import flash_attn  # noqa: F401
            return "flash_attention_2"
        except ImportError:
            common.emit_event("warning", message="flash_attention = true but flash-attn is not installed; using sdpa")
    return "sdpa"


def quant_config(adapter):
    if not adapter or adapter.get("method") != "qlora" or not torch.cuda.is_available():
        return None  # without CUDA, train.device_fallbacks already turned QLoRA into LoRA (with a warning)
    from transformers import BitsAndBytesConfig
    return BitsAndBytesConfig(
        load_in_4bit=True,
        bnb_4bit_quant_type=adapter.get("quant_type", "nf4"),
        bnb_4bit_use_double_quant=bool(adapter.get("double_quant", False)),
        bnb_4bit_compute_dtype=DTYPES.get(adapter.get("compute_dtype", "bf16"), torch.bfloat16),
    )


def base_location(base):
    if "dir" in base:
        return common.out_path(base["dir"]), None, base.get("dtype", "bf16")
    loc, rev = common.model_location(base["model"])
    return loc, rev, base["model"].get("dtype", "bf16")


_cpu_note = []


def compute_dtype(name):
    """The dtype weights are loaded in: the recipe's, except fp32 without CUDA (bf16/fp16 training on a CPU is
    slow, and fp16 kernels are missing there); said once per process as a `warning` event."""
    wanted = DTYPES.get(name, torch.float32)
    if wanted is torch.float32 or torch.cuda.is_available():
        return wanted
    if not _cpu_note:
        _cpu_note.append(name)
        common.emit_event("warning", message="no CUDA device: loading %s weights in fp32 on the CPU" % name)
    return torch.float32


def load_base(base, quant=None, attn="sdpa", dtype=None):
    from transformers import AutoModelForCausalLM
    location, revision, model_dtype = base_location(base)
    kwargs = {dtype_kwarg(): compute_dtype(dtype or model_dtype), "attn_implementation": attn}
    if revision:
        kwargs["revision"] = revision
    if quant is not None:
        kwargs["quantization_config"] = quant
        kwargs["device_map"] = {"": common.local_rank() if torch.cuda.is_available() else "cpu"}
    try:
        return AutoModelForCausalLM.from_pretrained(location, **kwargs)
    except (ValueError, ImportError) as e:
        if "attn_implementation" in kwargs and "attn" in str(e).lower():
            kwargs["attn_implementation"] = "eager"
            return AutoModelForCausalLM.from_pretrained(location, **kwargs)
        raise


def merge_adapters(model, dirs):
    from peft import PeftModel
    for d in dirs:
        model = PeftModel.from_pretrained(model, common.out_path(d)).merge_and_unload()
    return model


def lora_config(adapter):
    from peft import LoraConfig
    targets = adapter.get("targets")
    return LoraConfig(
        r=int(adapter["r"]),
        lora_alpha=adapter["alpha"],
        lora_dropout=float(adapter.get("dropout", 0.0)),
        target_modules="all-linear" if targets in ("all_linear", None) else list(targets),
        use_rslora=bool(adapter.get("rslora", False)),
        bias="none",
        task_type="CAUSAL_LM",
    )


def load_policy(job, attn):
    """The model to train: base (+ merged adapters) (+ a new or continued LoRA adapter)."""
    lineage = job["policy"]
    adapter = job.get("adapter")
    quant = quant_config(adapter)
    model = load_base(lineage["base"], quant=quant, attn=attn)
    model = merge_adapters(model, lineage.get("merge", []))
    if not adapter:
        return model
    gc = bool(job["train"].get("gradient_checkpointing"))
    if quant is not None:
        from peft import prepare_model_for_kbit_training
        model = prepare_model_for_kbit_training(model, use_gradient_checkpointing=gc, gradient_checkpointing_kwargs={"use_reentrant": False})
    if lineage.get("adapter"):
        from peft import PeftModel
        model = PeftModel.from_pretrained(model, common.out_path(lineage["adapter"]), is_trainable=True)
    else:
        from peft import get_peft_model
        model = get_peft_model(model, lora_config(adapter))
    if gc and hasattr(model, "enable_input_require_grads"):
        model.enable_input_require_grads()
    return model


def attach_reference(policy, job, attn):
    """Returns (mode, frozen model or None); mode ∈ none | disable_adapter | adapter | model."""
    ref = job.get("reference") or {"kind": "none"}
    kind = ref["kind"]
    if kind in ("none", "disable_adapter"):
        return kind, None
    if kind == "adapter":
        policy.load_adapter(common.out_path(ref["dir"]), adapter_name="ref", is_trainable=False)
        policy.set_adapter("default")
        return "adapter", None
    quant = quant_config(job.get("adapter"))
    model = load_base(ref["base"], quant=quant, attn=attn)
    model = merge_adapters(model, ref.get("merge", []))
    model.eval()
    for p in model.parameters():
        p.requires_grad_(False)
    return "model", model


def disable_dropout(model):
    for m in model.modules():
        if isinstance(m, torch.nn.Dropout):
            m.p = 0.0


def load_tokenizer(job):
    from transformers import AutoTokenizer
    base = job["policy"]["base"]
    location = common.out_path(base["dir"]) if "dir" in base else common.model_location(base["model"])[0]
    revision = None if "dir" in base else common.model_location(base["model"])[1]
    kwargs = {"revision": revision} if revision else {}
    tok = AutoTokenizer.from_pretrained(location, **kwargs)
    if tok.pad_token_id is None:
        tok.pad_token = tok.eos_token if tok.eos_token is not None else tok.unk_token
    return tok


def save_final(trainer, tokenizer, final_dir):
    """The trained model (PEFT: only the trained "default" adapter; a frozen "ref" reference adapter is dropped)."""
    os.makedirs(final_dir, exist_ok=True)
    unwrapped = trainer.accelerator.unwrap_model(trainer.model)
    if "ref" in (getattr(unwrapped, "peft_config", None) or {}):
        unwrapped.delete_adapter("ref")
    trainer.save_model(final_dir)
    if common.is_main():
        tokenizer.save_pretrained(final_dir)

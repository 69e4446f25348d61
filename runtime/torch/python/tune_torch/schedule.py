"""Learning-rate schedules and step arithmetic of tune's generated programs, without torch.

Why this exists: the lr of every update must be the one tune's in-process executor and HF Trainer use
(algorithms.md §5: LambdaLR factor λ(s), s = updates already done, so warmup starts at 0), and SamPO's
DeepSpeed ``WarmupDecayLR`` (§7: log warmup then linear decay; update 1 at warmup_min_lr = 0, update k ≥ 2 at
lr(k − 2), as runtime/pref/warmup-decay.ts) must be available when DeepSpeed is not. Pure Python so
``--dry-run`` can print the schedule on a machine without torch.
"""
import math

KINDS = ("linear", "cosine", "constant", "constant_with_warmup", "warmup_decay_log")


def hf_lambda(kind, s, warmup, total, num_cycles=0.5):
    """HF transformers' LambdaLR factor for `kind` after `s` completed updates."""
    if kind == "constant":
        return 1.0
    if s < warmup:
        return s / max(1, warmup)
    if kind == "constant_with_warmup":
        return 1.0
    if kind == "linear":
        return max(0.0, (total - s) / max(1, total - warmup))
    progress = (s - warmup) / max(1, total - warmup)
    return max(0.0, 0.5 * (1.0 + math.cos(math.pi * num_cycles * 2.0 * progress)))


def warmup_decay_gamma(it, warmup, total):
    """DeepSpeed WarmupDecayLR `_get_gamma` (warmup_type "log") at last_batch_iteration = it."""
    w = max(2, warmup)
    if it < w:
        return math.log(it + 1) / math.log(w)
    return max(0.0, (total - it) / max(1, total - w))


def lr_factor(kind, done, warmup, total):
    """Factor of the base lr used by the update that follows `done` completed updates."""
    if kind == "warmup_decay_log":
        return 0.0 if done == 0 else warmup_decay_gamma(done - 1, warmup, total)
    if kind not in KINDS:
        raise ValueError("unknown schedule %r; expected one of %s" % (kind, ", ".join(KINDS)))
    return hf_lambda(kind, done, warmup, total)


def warmup_steps(total, steps=0, ratio=0.0):
    """HF `get_warmup_steps`: warmup_steps if > 0, else ceil(T · warmup_ratio)."""
    return int(steps) if steps and steps > 0 else int(math.ceil(total * ratio))


def total_steps(rows, micro_batch, world, grad_accum, epochs, max_steps=None):
    """Optimizer updates: max_steps, else ceil(epochs · max(1, ceil(batches / GA))), batches per process.

    A last partial accumulation window is an update, as transformers ≥ 4.5x and tune's in-process executor
    (runtime/exec/ops/train.ts, `rounding: "ceil"`) count it.
    """
    if max_steps:
        return int(max_steps)
    batches = int(math.ceil(rows / float(micro_batch * world))) if rows > 0 else 0
    per_epoch = max(1, int(math.ceil(batches / float(grad_accum))))
    return int(math.ceil(epochs * per_epoch))


def grad_accum_for(batch, micro_batch, world):
    """The recipe's global batch kept on whatever number of processes actually runs."""
    ga = max(1, batch // (micro_batch * world))
    return ga, ga * micro_batch * world


def torch_scheduler(optimizer, kind, warmup, total):
    """A torch LambdaLR with `lr_factor` (imported lazily: this module must load without torch)."""
    from torch.optim.lr_scheduler import LambdaLR
    return LambdaLR(optimizer, lambda done: lr_factor(kind, done, warmup, total))

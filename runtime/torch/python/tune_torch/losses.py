"""DPO-family losses, SamPO down-sampling and TRL's reward metrics, in torch.

Why this exists: preference stages run as a HF Trainer with a `compute_loss` of our own (TRL is not required),
so the objective must be written out exactly (algorithms.md §6–7; runtime/pref/loss.ts and sampo.ts are the
in-process twins):
  logπ(y|x) = Σ over completion tokens of log softmax(logits_{t−1})[y_t]  (a sum; ipo: the per-token mean)
  ρ_c = logπθ(y_c) − logπref(y_c), ρ_r likewise, δ = ρ_c − ρ_r, z = βδ, batch loss = mean over pairs
  sigmoid / sampo  −(1−ε)·logσ(z) − ε·logσ(−z)      robust  (−(1−ε)·logσ(z) + ε·logσ(−z)) / (1−2ε)
  hinge  relu(1 − z)                                  ipo     (δ − 1/(2β))²
SamPO: per pair b (rows b and b + B), T_m = min(T_c, T_r); the longer side (rejected if T_c < T_r, else
chosen) keeps T_m of its valid positions drawn uniformly without replacement (`torch.multinomial` on the 0/1
mask, global torch RNG seeded once, as LuJunru/SamPO); a fresh draw for every log-prob computation, so the
policy and the reference passes cover independent subsets.
"""
import torch
import torch.nn.functional as F

IGNORE_INDEX = -100


def sampo_mask(mask, generator=None):
    """Down-sample a [2B, L] bool mask of valid positions (chosen rows first) as SamPO does."""
    rows = mask.shape[0]
    if rows % 2:
        raise ValueError("a concatenated batch has an even number of rows, got %d" % rows)
    half = rows // 2
    out = mask.clone()
    counts = mask.sum(dim=-1).tolist()
    for b in range(half):
        tc, tr = int(counts[b]), int(counts[b + half])
        tm = min(tc, tr)
        longer = b + half if tc < tr else b
        if tm == int(counts[longer]):
            continue  # equal lengths: every position kept, nothing drawn
        keep = torch.zeros_like(mask[longer])
        if tm > 0:
            idx = torch.multinomial(mask[longer].float(), tm, replacement=False, generator=generator)
            keep[idx] = True
        out[longer] = keep
    return out


def token_logps(logits, labels):
    """Per-position log p(label) for logits [N, T, V] aligned with labels [N, T] (already shifted).

    Row by row in fp32, so the [N, T, V] log-softmax is never materialised at once.
    """
    safe = labels.clamp(min=0)
    rows = []
    for i in range(logits.shape[0]):
        lp = torch.log_softmax(logits[i].float(), dim=-1)
        rows.append(lp.gather(-1, safe[i].unsqueeze(-1)).squeeze(-1))
    return torch.stack(rows)


def sequence_logps(logits, labels, sampo=False, average=False, generator=None):
    """Σ (or mean) of completion-token log-probs per row; returns (scores, mask used, mean logit per row)."""
    labels = labels[:, 1:]
    logits = logits[:, :-1, :]
    mask = labels != IGNORE_INDEX
    if sampo:
        mask = sampo_mask(mask, generator=generator)
    per_token = token_logps(logits, labels) * mask
    scores = per_token.sum(-1)
    if average:
        scores = scores / mask.sum(-1).clamp(min=1)
    with torch.no_grad():
        valid = labels != IGNORE_INDEX
        mean_logits = torch.stack([logits[i][valid[i]].float().mean() if valid[i].any() else logits.new_zeros(()).float()
                                   for i in range(logits.shape[0])])
    return scores, mask, mean_logits


def dpo_loss(kind, beta, pc, pr, rc, rr, label_smoothing=0.0):
    """Per-pair losses and TRL's rewards from policy (pc, pr) and reference (rc, rr; None = reference-free)."""
    if rc is None:
        rc = torch.zeros_like(pc)
        rr = torch.zeros_like(pr)
    rho_c = pc - rc
    rho_r = pr - rr
    delta = rho_c - rho_r
    z = beta * delta
    eps = label_smoothing
    if kind in ("sigmoid", "sampo"):
        losses = -(1 - eps) * F.logsigmoid(z) - eps * F.logsigmoid(-z)
    elif kind == "robust":
        losses = (-(1 - eps) * F.logsigmoid(z) + eps * F.logsigmoid(-z)) / (1 - 2 * eps)
    elif kind == "hinge":
        losses = torch.relu(1 - z)
    elif kind == "ipo":
        losses = (delta - 1 / (2 * beta)) ** 2
    else:
        raise ValueError("unknown DPO loss %r" % kind)
    return losses, (beta * rho_c).detach(), (beta * rho_r).detach()


def reward_metrics(prefix, chosen_rewards, rejected_rewards, pc, pr, lc, lr_):
    """TRL's metric names (means over the batch): rewards/*, logps/*, logits/*."""
    m = {
        "rewards/chosen": chosen_rewards.mean(),
        "rewards/rejected": rejected_rewards.mean(),
        "rewards/accuracies": (chosen_rewards > rejected_rewards).float().mean(),
        "rewards/margins": (chosen_rewards - rejected_rewards).mean(),
        "logps/chosen": pc.detach().mean(),
        "logps/rejected": pr.detach().mean(),
        "logits/chosen": lc.mean(),
        "logits/rejected": lr_.mean(),
    }
    return {prefix + k: float(v.float().cpu()) for k, v in m.items()}

#!/usr/bin/python3
"""Training throughput of the same Llama configs in PyTorch CPU: the yardstick for bench/train-throughput.ts.

Run: /usr/bin/python3 bench/train_throughput_torch.py [full|lora] [tiny|20m|legacy] [steps] [threads=2]

Why this exists: runtime-notes.md names PyTorch CPU as the natural peer for in-process CPU training; the tfjs
engine targets >= 0.7x its tokens/s. Same model (HF Llama re-implemented in
test/fixtures/llama/make_llama_fixture.py: eager attention, repeat_kv, full [B, T, V] logits), same configs as
bench/train-throughput.ts (tiny = models/tiny-llama's shape; 20m = 8 layers, d 512, 22.0M parameters; legacy =
the first bench config), same batch (4 x 128 tokens, loss on every token), torch.optim.AdamW (lr 1e-3, wd 0.01),
grad clip 1.0. LoRA mode: r 8, alpha 16 on q_proj and v_proj, base frozen. Reports the median of the timed steps
after 2 warm-up steps, wall time and process CPU time (all threads) like the tfjs bench.
Threads: [threads] is torch.set_num_threads; Debian's torch calls OpenBLAS, which starts its own threads (one per
core) unless OPENBLAS_NUM_THREADS is set — threads=1 with OpenBLAS's 2 threads is the fastest setting on the 2-vCPU
VM, OPENBLAS_NUM_THREADS=1 with threads=1 is torch on one core (bench/throughput-series.sh runs all three).
"""
import importlib.util
import json
import math
import os
import statistics
import sys
import time

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
spec = importlib.util.spec_from_file_location(
    "fixture", os.path.join(HERE, "..", "test", "fixtures", "llama", "make_llama_fixture.py"))
fx = importlib.util.module_from_spec(spec)
spec.loader.exec_module(fx)

COMMON = dict(rms_norm_eps=1e-5, rope_theta=10000.0, rope_scaling=None, tie_word_embeddings=True)
CONFIGS = {
    "tiny": dict(vocab_size=2048, hidden_size=128, intermediate_size=384, num_layers=4, num_heads=4, num_kv_heads=2,
                 head_dim=32, **COMMON),
    "20m": dict(vocab_size=2048, hidden_size=512, intermediate_size=1024, num_layers=8, num_heads=8, num_kv_heads=8,
                head_dim=64, **COMMON),
    "legacy": dict(vocab_size=512, hidden_size=128, intermediate_size=344, num_layers=4, num_heads=4, num_kv_heads=4,
                   head_dim=32, **COMMON),
}
BATCH, SEQ = 4, 128
LORA_TARGETS = ("q_proj", "v_proj")


def init_weights(cfg):
    g = torch.Generator().manual_seed(0)
    D, I, V = cfg["hidden_size"], cfg["intermediate_size"], cfg["vocab_size"]
    Q, KV = cfg["num_heads"] * cfg["head_dim"], cfg["num_kv_heads"] * cfg["head_dim"]
    W = {"model.embed_tokens.weight": torch.randn(V, D, generator=g) * 0.02, "model.norm.weight": torch.ones(D)}
    for i in range(cfg["num_layers"]):
        p = f"model.layers.{i}"
        for m, s in {"self_attn.q_proj": (Q, D), "self_attn.k_proj": (KV, D), "self_attn.v_proj": (KV, D),
                     "self_attn.o_proj": (D, Q), "mlp.gate_proj": (I, D), "mlp.up_proj": (I, D),
                     "mlp.down_proj": (D, I)}.items():
            W[f"{p}.{m}.weight"] = torch.randn(*s, generator=g) * 0.02
        W[f"{p}.input_layernorm.weight"] = torch.ones(D)
        W[f"{p}.post_attention_layernorm.weight"] = torch.ones(D)
    return W


def lora_for(W, r=8, alpha=16):
    g = torch.Generator().manual_seed(1)
    lora = {"A": {}, "B": {}, "scale": alpha / r}
    for name, w in W.items():
        if name.endswith("_proj.weight") and name.split(".")[-2] in LORA_TARGETS:
            mod = name[: -len(".weight")]
            out_f, in_f = w.shape
            lora["A"][mod] = ((torch.rand(r, in_f, generator=g) * 2 - 1) / math.sqrt(in_f)).requires_grad_(True)
            lora["B"][mod] = torch.zeros(out_f, r).requires_grad_(True)
    return lora


def main():
    args = sys.argv[1:]
    mode = args[0] if args else "full"
    name = args[1] if len(args) > 1 else "tiny"
    if mode not in ("full", "lora") or name not in CONFIGS:
        sys.exit(f"usage: train_throughput_torch.py [full|lora] [{'|'.join(CONFIGS)}] [steps] [threads]")
    steps = int(args[2]) if len(args) > 2 else 10
    torch.set_num_threads(int(args[3]) if len(args) > 3 else 2)
    torch.manual_seed(0)
    cfg = CONFIGS[name]
    W = init_weights(cfg)
    lora = None
    if mode == "lora":
        lora = lora_for(W)
        params = list(lora["A"].values()) + list(lora["B"].values())
    else:
        for t in W.values():
            t.requires_grad_(True)
        params = list(W.values())
    opt = torch.optim.AdamW(params, lr=1e-3, weight_decay=0.01)
    ids = torch.randint(0, cfg["vocab_size"], (BATCH, SEQ), generator=torch.Generator().manual_seed(1))
    times, cpu_times, loss = [], [], None
    for i in range(steps + 2):
        t0 = time.perf_counter()
        c0 = time.process_time()
        loss = fx.causal_lm_loss(fx.forward(cfg, W, ids, lora), ids)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        opt.zero_grad()
        if i >= 2:
            times.append(time.perf_counter() - t0)
            cpu_times.append(time.process_time() - c0)
    ms = statistics.median(times) * 1000
    print(json.dumps({"engine": f"torch {torch.__version__} cpu, {torch.get_num_threads()} threads", "mode": mode,
                      "config": name, "params": sum(t.numel() for t in W.values()), "tokensPerStep": BATCH * SEQ,
                      "stepMsMedian": round(ms, 1), "cpuMsMedian": round(statistics.median(cpu_times) * 1000, 1),
                      "tokensPerSec": round(BATCH * SEQ * 1000 / ms),
                      "finalLoss": loss.item()}))


if __name__ == "__main__":
    main()

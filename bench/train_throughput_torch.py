#!/usr/bin/python3
"""Training throughput of the same tiny Llama in PyTorch CPU (2 threads): the yardstick for
bench/train-throughput.ts.

Run: /usr/bin/python3 bench/train_throughput_torch.py [full|lora] [steps] [threads=2]

Why this exists: runtime-notes.md names PyTorch CPU as the natural peer for in-process CPU training; the tfjs
engine targets >= 0.7x its tokens/s. Same model (HF Llama re-implemented in
test/fixtures/llama/make_llama_fixture.py), same config (4 layers, d 128, 4 heads, intermediate 344, vocab 512,
tied; 857,216 parameters), same batch (4 x 128 tokens, loss on every token), torch.optim.AdamW, grad clip 1.0.
LoRA mode: r 8, alpha 16, all linear layers, base frozen. Reports the median of the timed steps after 2 warm-up.
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

CFG = dict(vocab_size=512, hidden_size=128, intermediate_size=344, num_layers=4, num_heads=4, num_kv_heads=4,
           head_dim=32, rms_norm_eps=1e-5, rope_theta=10000.0, rope_scaling=None, tie_word_embeddings=True)
BATCH, SEQ = 4, 128


def init_weights():
    g = torch.Generator().manual_seed(0)
    D, I, V = CFG["hidden_size"], CFG["intermediate_size"], CFG["vocab_size"]
    W = {"model.embed_tokens.weight": torch.randn(V, D, generator=g) * 0.02, "model.norm.weight": torch.ones(D)}
    for i in range(CFG["num_layers"]):
        p = f"model.layers.{i}"
        for m, s in {"self_attn.q_proj": (D, D), "self_attn.k_proj": (D, D), "self_attn.v_proj": (D, D),
                     "self_attn.o_proj": (D, D), "mlp.gate_proj": (I, D), "mlp.up_proj": (I, D),
                     "mlp.down_proj": (D, I)}.items():
            W[f"{p}.{m}.weight"] = torch.randn(*s, generator=g) * 0.02
        W[f"{p}.input_layernorm.weight"] = torch.ones(D)
        W[f"{p}.post_attention_layernorm.weight"] = torch.ones(D)
    return W


def lora_for(W, r=8, alpha=16):
    g = torch.Generator().manual_seed(1)
    lora = {"A": {}, "B": {}, "scale": alpha / r}
    for name, w in W.items():
        if name.endswith("_proj.weight"):
            mod = name[: -len(".weight")]
            out_f, in_f = w.shape
            lora["A"][mod] = ((torch.rand(r, in_f, generator=g) * 2 - 1) / math.sqrt(in_f)).requires_grad_(True)
            lora["B"][mod] = torch.zeros(out_f, r).requires_grad_(True)
    return lora


def main():
    mode = sys.argv[1] if len(sys.argv) > 1 and sys.argv[1] in ("full", "lora") else "full"
    steps = int(sys.argv[2]) if len(sys.argv) > 2 else 10
    torch.set_num_threads(int(sys.argv[3]) if len(sys.argv) > 3 else 2)
    torch.manual_seed(0)
    W = init_weights()
    lora = None
    if mode == "lora":
        lora = lora_for(W)
        params = list(lora["A"].values()) + list(lora["B"].values())
    else:
        for t in W.values():
            t.requires_grad_(True)
        params = list(W.values())
    opt = torch.optim.AdamW(params, lr=1e-3, weight_decay=0.01)
    ids = torch.randint(0, CFG["vocab_size"], (BATCH, SEQ), generator=torch.Generator().manual_seed(1))
    times, loss = [], None
    for i in range(steps + 2):
        t0 = time.perf_counter()
        loss = fx.causal_lm_loss(fx.forward(CFG, W, ids, lora), ids)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        opt.zero_grad()
        if i >= 2:
            times.append(time.perf_counter() - t0)
    ms = statistics.median(times) * 1000
    print(json.dumps({"engine": f"torch {torch.__version__} cpu, {torch.get_num_threads()} threads", "mode": mode,
                      "params": sum(t.numel() for t in W.values()), "tokensPerStep": BATCH * SEQ,
                      "stepMsMedian": round(ms, 1), "tokensPerSec": round(BATCH * SEQ * 1000 / ms),
                      "finalLoss": loss.item()}))


if __name__ == "__main__":
    main()

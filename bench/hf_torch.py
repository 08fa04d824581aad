#!/usr/bin/env python3
"""PyTorch side of `lref bench --hf`: the SAME Llama-shaped checkpoint (read from the same
safetensors by hand) scoring relevance pairs (one forward per batch, last position, logits of the
grade tokens only) and one LoRA training step (rank r on q/k/v/o/gate/up/down, base frozen,
next-token cross-entropy on every position, AdamW). float32, batched, written here after the
maths of core/model/hf/llama.ts. Prints one JSON object."""
import argparse
import json
import math
import os
import statistics
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "core", "model", "hf", "testdata"))
from hf_ref import read_weights  # noqa: E402

TARGETS = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")


class Llama:
    def __init__(self, cfg, w, rank=0, alpha=16):
        self.cfg = cfg
        self.w = {k: v.float().contiguous() for k, v in w.items()}
        self.D, self.H = cfg["hidden_size"], cfg["num_attention_heads"]
        self.KV = cfg.get("num_key_value_heads") or self.H
        self.hd = self.D // self.H
        self.lora = {}
        self.scale = alpha / rank if rank else 0
        if rank:
            g = torch.Generator().manual_seed(1)
            for k, v in self.w.items():
                if k.endswith(".weight") and any(t in k for t in TARGETS):
                    out_dim, in_dim = v.shape
                    a = ((torch.rand(in_dim, rank, generator=g) * 2 - 1) / math.sqrt(in_dim)).requires_grad_()
                    b = torch.zeros(rank, out_dim, requires_grad=True)
                    self.lora[k[: -len(".weight")]] = (a, b)

    def lin(self, x, n):
        y = x @ self.w[n + ".weight"].T
        if n + ".bias" in self.w:
            y = y + self.w[n + ".bias"]
        if n in self.lora:
            a, b = self.lora[n]
            y = y + (x @ a @ b) * self.scale
        return y

    def hidden(self, ids):
        B, T = ids.shape
        D, H, KV, hd = self.D, self.H, self.KV, self.hd
        eps = self.cfg["rms_norm_eps"]
        rms = lambda x, n: x * torch.rsqrt((x * x).mean(-1, keepdim=True) + eps) * self.w[n + ".weight"]
        inv = 1.0 / (self.cfg.get("rope_theta", 10000.0) ** (torch.arange(0, hd, 2, dtype=torch.float32) / hd))
        ang = torch.arange(T, dtype=torch.float32)[:, None] * inv[None, :]
        cos, sin = torch.cat([ang.cos()] * 2, -1), torch.cat([ang.sin()] * 2, -1)
        rot = lambda x: torch.cat([-x[..., hd // 2:], x[..., : hd // 2]], -1)
        mask = torch.triu(torch.full((T, T), float("-inf")), 1)
        x = self.w["model.embed_tokens.weight"][ids]
        for l in range(self.cfg["num_hidden_layers"]):
            a, m = f"model.layers.{l}.self_attn.", f"model.layers.{l}.mlp."
            h = rms(x, f"model.layers.{l}.input_layernorm")
            q = self.lin(h, a + "q_proj").view(B, T, H, hd).transpose(1, 2)
            k = self.lin(h, a + "k_proj").view(B, T, KV, hd).transpose(1, 2)
            v = self.lin(h, a + "v_proj").view(B, T, KV, hd).transpose(1, 2)
            q, k = q * cos + rot(q) * sin, k * cos + rot(k) * sin
            k, v = k.repeat_interleave(H // KV, 1), v.repeat_interleave(H // KV, 1)
            att = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(hd) + mask, -1) @ v
            x = x + self.lin(att.transpose(1, 2).reshape(B, T, H * hd), a + "o_proj")
            h2 = rms(x, f"model.layers.{l}.post_attention_layernorm")
            x = x + self.lin(F.silu(self.lin(h2, m + "gate_proj")) * self.lin(h2, m + "up_proj"), m + "down_proj")
        return rms(x, "model.norm")

    def head_w(self):
        return self.w["model.embed_tokens.weight"] if self.cfg.get("tie_word_embeddings") else self.w["lm_head.weight"]


def timed(fn, repeat):
    fn()  # warm-up
    ts = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t)
    return statistics.median(ts)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dir")
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--seq", type=int, default=64)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--rank", type=int, default=8)
    ap.add_argument("--grades", default="")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    cfg = json.load(open(os.path.join(args.dir, "config.json")))
    w = read_weights(args.dir)
    g = torch.Generator().manual_seed(7)
    ids = torch.randint(0, cfg["vocab_size"], (args.batch, args.seq), generator=g)
    grades = torch.tensor([int(x) for x in args.grades.split(",")]) if args.grades else torch.arange(5)

    model = Llama(cfg, w)
    del w

    def score():
        with torch.no_grad():
            h = model.hidden(ids)[:, -1]
            return torch.softmax(h @ model.head_w()[grades].T, -1)

    s = timed(score, args.repeat)
    lora = Llama(cfg, model.w, rank=args.rank)
    params = [p for ab in lora.lora.values() for p in ab]
    opt = torch.optim.AdamW(params, lr=1e-4, weight_decay=0.0)

    def step():
        opt.zero_grad()
        h = lora.hidden(ids)
        logits = h[:, :-1].reshape(-1, model.D) @ lora.head_w().T
        loss = F.cross_entropy(logits, ids[:, 1:].reshape(-1))
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()

    t = timed(step, max(1, args.repeat - 1))
    n = sum(v.numel() for v in model.w.values())
    print(json.dumps({"torch": torch.__version__, "threads": args.threads, "params": n, "lora_params": sum(p.numel() for p in params),
                      "score_pairs_per_s": args.batch / s, "lora_step_s": t}))


if __name__ == "__main__":
    main()

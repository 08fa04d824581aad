#!/usr/bin/env python3
"""PyTorch reference for `lref bench`: the SAME model and training step as core/model/gpt.ts +
core/train/step.ts (learned positions, pre-LN, separate Q/K/V, tanh-GELU MLP, tied head, dropout,
AdamW(0.9, 0.95) with decay on matrices but not embeddings, global-norm clip 1.0), timed the same
way: training tokens/s, label-scoring pairs/s (one forward per batch, last position, label logits)
and KV-cached greedy generation tokens/s; plus fp32 sgemm peak for torch and numpy.
Prints one JSON object on stdout. Run with OPENBLAS_NUM_THREADS=1 and --threads 2."""
import argparse
import json
import math
import statistics
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


class Block(nn.Module):
    def __init__(self, d, h, ff, p):
        super().__init__()
        self.h = h
        self.ln1 = nn.LayerNorm(d)
        self.q, self.k, self.v, self.o = (nn.Linear(d, d) for _ in range(4))
        self.ln2 = nn.LayerNorm(d)
        self.fc1 = nn.Linear(d, ff * d)
        self.fc2 = nn.Linear(ff * d, d)
        self.drop = nn.Dropout(p)

    def attn(self, x, cache=None):
        B, T, D = x.shape
        hd = D // self.h
        split = lambda t: t.view(B, T, self.h, hd).transpose(1, 2)
        q, k, v = split(self.q(x)), split(self.k(x)), split(self.v(x))
        if cache is not None:
            if "k" in cache:
                k = torch.cat([cache["k"], k], 2)
                v = torch.cat([cache["v"], v], 2)
            cache["k"], cache["v"] = k, v
        s = (q @ k.transpose(-1, -2)) / math.sqrt(hd)
        Tk = k.shape[2]
        if T > 1:
            mask = torch.ones(T, Tk, dtype=torch.bool).tril(Tk - T)
            s = s.masked_fill(~mask, -1e9)
        a = self.drop(torch.softmax(s, -1))
        return self.o((a @ v).transpose(1, 2).reshape(B, T, D))

    def forward(self, x, cache=None):
        x = x + self.drop(self.attn(self.ln1(x), cache))
        return x + self.drop(self.fc2(F.gelu(self.fc1(self.ln2(x)), approximate="tanh")))


class GPT(nn.Module):
    def __init__(self, V, C, d, h, L, ff=4, p=0.1):
        super().__init__()
        self.tok = nn.Embedding(V, d)
        self.pos = nn.Embedding(C, d)
        self.blocks = nn.ModuleList(Block(d, h, ff, p) for _ in range(L))
        self.lnf = nn.LayerNorm(d)
        self.drop = nn.Dropout(p)
        for m in self.modules():
            if isinstance(m, (nn.Linear, nn.Embedding)):
                nn.init.normal_(m.weight, std=0.02)

    def hidden(self, ids, caches=None, start=0):
        T = ids.shape[1]
        x = self.drop(self.tok(ids) + self.pos(torch.arange(start, start + T)))
        for i, b in enumerate(self.blocks):
            x = b(x, None if caches is None else caches[i])
        return self.lnf(x)

    def forward(self, ids):
        return self.hidden(ids) @ self.tok.weight.t()  # tied head


def make_optimizer(model, lr):
    decay = [p for n, p in model.named_parameters() if p.dim() >= 2 and not n.startswith(("tok.", "pos."))]
    rest = [p for n, p in model.named_parameters() if not (p.dim() >= 2 and not n.startswith(("tok.", "pos.")))]
    return torch.optim.AdamW([{"params": decay, "weight_decay": 0.1}, {"params": rest, "weight_decay": 0.0}],
                             lr=lr, betas=(0.9, 0.95), eps=1e-8)


def median_rate(fn, units, repeat, inner):
    fn()  # warm-up
    rates = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        for _ in range(inner):
            fn()
        rates.append(units * inner / (time.perf_counter() - t0))
    return statistics.median(rates)


def bench_preset(name, cfg, repeat, steps):
    torch.manual_seed(0)
    V, C, d, h, L, B = cfg["vocab"], cfg["ctx"], cfg["d"], cfg["heads"], cfg["layers"], cfg["batch"]
    model = GPT(V, C, d, h, L)
    opt = make_optimizer(model, cfg["lr"])
    ids = torch.randint(0, V, (B, C))
    tgt = torch.randint(0, V, (B, C))

    def train_step():
        model.train()
        loss = F.cross_entropy(model(ids).view(B * C, V), tgt.view(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        loss.item()

    label_ids = torch.arange(5)

    def score():
        model.eval()
        with torch.no_grad():
            last = model.hidden(ids)[:, -1, :]
            torch.softmax(last @ model.tok.weight[label_ids].t(), -1).tolist()

    prompt = ids[:1, : cfg["genPrompt"]]

    def generate():
        model.eval()
        with torch.no_grad():
            caches = [dict() for _ in range(L)]
            h_ = model.hidden(prompt, caches)
            nxt = (h_[:, -1] @ model.tok.weight.t()).argmax(-1, keepdim=True)
            for i in range(cfg["genTokens"] - 1):
                h_ = model.hidden(nxt, caches, start=prompt.shape[1] + i)
                nxt = (h_[:, -1] @ model.tok.weight.t()).argmax(-1, keepdim=True)
                nxt.item()

    took = {}

    def timed(phase, fn):
        t0 = time.perf_counter()
        try:
            return fn()
        finally:
            took[phase] = time.perf_counter() - t0

    out = {
        "trainTokensPerSec": timed("train", lambda: median_rate(train_step, B * C, repeat, steps)),
        "scorePairsPerSec": timed("score", lambda: median_rate(score, B, repeat, steps)),
        "genTokensPerSec": timed("gen", lambda: median_rate(generate, cfg["genTokens"], repeat, 1)),
        "params": sum(p.numel() for p in model.parameters()),
    }
    if "genWeights" in cfg:
        load_weights(model, cfg["genWeights"], L)
        out["genBatchTokensPerSec"], out["genBatchTokens"] = timed("gen batch", lambda: gen_batch(model, cfg, repeat))
    # where the reference's own time goes (stderr: stdout is the JSON report)
    print(f"{name}: " + ", ".join(f"{k} {v:.1f} s" for k, v in took.items()), file=sys.stderr)
    return out


def load_weights(model, path, L):
    """Our DecoderLM's weights (bench/model-bench.ts exportWeights) into this model: x·W there is
    Linear with weight Wᵀ here."""
    index = json.load(open(path + ".json"))
    flat = np.fromfile(path, dtype="<f4")
    w = {e["name"]: torch.from_numpy(flat[e["offset"]: e["offset"] + int(np.prod(e["shape"]))].reshape(e["shape"]).copy()) for e in index}
    with torch.no_grad():
        model.tok.weight.copy_(w["tok_emb"])
        model.pos.weight.copy_(w["pos_emb"])
        for l, b in enumerate(model.blocks):
            p = f"h{l}."
            for ln, name in ((b.ln1, "ln1"), (b.ln2, "ln2")):
                ln.weight.copy_(w[p + name + ".g"])
                ln.bias.copy_(w[p + name + ".b"])
            for lin, name in ((b.q, "attn.wq"), (b.k, "attn.wk"), (b.v, "attn.wv"), (b.o, "attn.wo"), (b.fc1, "mlp.w1"), (b.fc2, "mlp.w2")):
                lin.weight.copy_(w[p + name].t())
                lin.bias.copy_(w[p + name.replace(".w", ".b")])
        model.lnf.weight.copy_(w["ln_f.g"])
        model.lnf.bias.copy_(w["ln_f.b"])


def gen_batch(model, cfg, repeat):
    """Batched KV-cached greedy generation of the same prompts with our weights: tokens/s per batch
    size (prefill included, every step's tokens read back as ours are), and the tokens of the largest."""
    model.eval()
    W = model.tok.weight
    rates, tokens = {}, []
    for B in cfg["genBatches"]:
        prompts = torch.tensor(cfg["genPrompts"][:B], dtype=torch.long)
        P = prompts.shape[1]

        def run():
            nonlocal tokens
            with torch.no_grad():
                caches = [dict() for _ in model.blocks]
                h_ = model.hidden(prompts, caches)
                nxt = (h_[:, -1] @ W.t()).argmax(-1, keepdim=True)
                out = [nxt]
                for i in range(cfg["genTokens"] - 1):
                    h_ = model.hidden(nxt, caches, start=P + i)
                    nxt = (h_[:, -1] @ W.t()).argmax(-1, keepdim=True)
                    nxt.tolist()
                    out.append(nxt)
                tokens = torch.cat(out, 1).tolist()

        rates[str(B)] = median_rate(run, B * cfg["genTokens"], repeat, 1)
    return rates, tokens


def sgemm_peak(n=2048, repeat=3):
    a = torch.randn(n, n)
    b = torch.randn(n, n)
    t = median_rate(lambda: a @ b, 2 * n ** 3 / 1e9, repeat, 2)
    an, bn = a.numpy(), b.numpy()
    tn = median_rate(lambda: an @ bn, 2 * n ** 3 / 1e9, repeat, 2)
    return {"torchGflops": t, "numpyGflops": tn}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--presets", required=True, help="JSON object: name -> config")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--steps", type=int, default=3)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    out = {"torch": torch.__version__, "numpy": np.__version__, "threads": torch.get_num_threads(),
           "peak": sgemm_peak(), "presets": {}}
    for name, cfg in json.loads(args.presets).items():
        out["presets"][name] = bench_preset(name, cfg, args.repeat, args.steps)
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()

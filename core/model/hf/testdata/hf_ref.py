#!/usr/bin/env python3
"""Independent reference for the Hugging Face import tests (no `transformers`, no `safetensors`,
no `tokenizers` package: Debian has none of them). It
  make DIR --arch gpt2|llama|qwen2 ...   writes a tiny random checkpoint in HF layout: config.json,
                                         model.safetensors (or 2 shards + index; the format written
                                         by hand: 8-byte header length, JSON header, raw bytes),
                                         tokenizer.json (a byte-level BPE trained here)
  forward DIR --ids 1,2,3                prints {"logits": [[...V] per position]} from a forward
                                         pass written here in plain PyTorch from the papers / HF
                                         modelling code's maths
  tokenize DIR                           reads texts (JSON list) on stdin, prints their ids from
                                         a byte-level BPE written here after GPT-2's encoder.py
"""
import argparse
import json
import math
import os
import struct
import sys
import unicodedata

import torch

# ---------------------------------------------------------------------------------------------
# safetensors by hand

DT = {"F32": (torch.float32, 4), "F16": (torch.float16, 2), "BF16": (torch.bfloat16, 2)}


def write_safetensors(path, tensors, dtype):
    header, blobs, off = {}, [], 0
    for name, t in tensors.items():
        t = t.detach().to(DT[dtype][0]).contiguous()
        raw = t.view(torch.int16).numpy().tobytes() if dtype != "F32" else t.numpy().tobytes()
        header[name] = {"dtype": dtype, "shape": list(t.shape), "data_offsets": [off, off + len(raw)]}
        blobs.append(raw)
        off += len(raw)
    header["__metadata__"] = {"format": "pt"}
    h = json.dumps(header).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def read_safetensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, e in header.items():
        if name == "__metadata__":
            continue
        b, end = e["data_offsets"]
        dt, _ = DT[e["dtype"]]
        buf = bytearray(data[b:end])
        if e["dtype"] == "F32":
            t = torch.frombuffer(buf, dtype=torch.float32)
        else:
            t = torch.frombuffer(buf, dtype=torch.int16).view(dt)
        out[name] = t.reshape(e["shape"]).to(torch.float64)
    return out


def read_weights(d):
    if os.path.exists(os.path.join(d, "model.safetensors")):
        return read_safetensors(os.path.join(d, "model.safetensors"))
    idx = json.load(open(os.path.join(d, "model.safetensors.index.json")))
    out = {}
    for shard in sorted(set(idx["weight_map"].values())):
        out.update(read_safetensors(os.path.join(d, shard)))
    return out


# ---------------------------------------------------------------------------------------------
# byte-level BPE (GPT-2's encoder.py algorithm), trained on a few titles so the tests have one

def bytes_to_unicode():
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, [chr(c) for c in cs]))


GPT2_PAT = r"""'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"""
QWEN2_PAT = r"""(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"""

CORPUS = [
    "Stainless steel 12 oz. insulated tumbler with lid", "1/2 in. x 10 ft. PVC pipe schedule 40",
    "LED light bulb 60W equivalent soft white 4-pack", "Café Ñandú espresso beans 500 g", "Ägyptische Baumwolle Bettwäsche 200x220 cm",
    "cordless drill 20V lithium-ion 2.0Ah battery", "東芝 LED電球 60W形 E26", "wireless noise cancelling headphones (black)",
    "3/4 in. copper pipe fitting elbow 90°", *["Answer: Exact Significant Marginal Trivial Irrelevant"] * 8, "garden hose 50 ft. x 5/8 in. heavy duty", "🔥 Deal: 50% off kitchen knife set",
]


def pieces(text, pat):
    import regex
    return regex.findall(pat, text)


def learn_merges(words, n_merges):
    """BPE training: merge the most frequent adjacent pair (ties: the larger pair) n_merges times."""
    merges = []
    for _ in range(n_merges):
        counts = {}
        for w, c in words.items():
            for a, b in zip(w, w[1:]):
                counts[(a, b)] = counts.get((a, b), 0) + c
        if not counts:
            break
        best = max(counts.items(), key=lambda kv: (kv[1], kv[0]))[0]
        merges.append(best)
        nw = {}
        for w, c in words.items():
            out, i = [], 0
            while i < len(w):
                if i + 1 < len(w) and (w[i], w[i + 1]) == best:
                    out.append(w[i] + w[i + 1])
                    i += 2
                else:
                    out.append(w[i])
                    i += 1
            nw[tuple(out)] = nw.get(tuple(out), 0) + c
        words = nw
    return merges


def train_bpe(n_merges, pat):
    b2u = bytes_to_unicode()
    words = {}
    for t in CORPUS:
        for w in pieces(t, pat):
            k = tuple(b2u[b] for b in w.encode("utf-8"))
            words[k] = words.get(k, 0) + 1
    merges = learn_merges(words, n_merges)
    vocab = {}
    for ch in bytes_to_unicode().values():
        vocab[ch] = len(vocab)
    for a, b in merges:
        if a + b not in vocab:
            vocab[a + b] = len(vocab)
    return vocab, merges


def tokenizer_json(style, n_merges, extra_specials=()):
    pat = QWEN2_PAT if style == "qwen2" else GPT2_PAT
    vocab, merges = train_bpe(n_merges, pat)
    eos = "<|endoftext|>"
    added = [{"id": len(vocab) + i, "content": c, "single_word": False, "lstrip": False, "rstrip": False, "normalized": False, "special": True}
             for i, c in enumerate([eos, *extra_specials])]
    bl = lambda use_regex: {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": use_regex}
    if style == "qwen2":
        normalizer = {"type": "NFC"}
        pre = {"type": "Sequence", "pretokenizers": [
            {"type": "Split", "pattern": {"Regex": QWEN2_PAT}, "behavior": "Isolated", "invert": False}, bl(False)]}
    else:
        normalizer, pre = None, bl(True)
    return {
        "version": "1.0", "truncation": None, "padding": None, "added_tokens": added, "normalizer": normalizer,
        "pre_tokenizer": pre, "post_processor": {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": False, "use_regex": False},
        "decoder": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True},
        "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": "", "end_of_word_suffix": "",
                  "fuse_unk": False, "byte_fallback": False, "ignore_merges": False, "vocab": vocab, "merges": [f"{a} {b}" for a, b in merges]},
    }


def bpe_encode(tj, text):
    """GPT-2 encoder.py: split on added tokens, regex pieces, bytes → unicode, merge lowest rank first."""
    m = tj["model"]
    vocab = m["vocab"]
    ranks = {tuple(s.split(" ")): i for i, s in enumerate(m["merges"])}
    b2u = bytes_to_unicode()
    if tj.get("normalizer") and tj["normalizer"]["type"] == "NFC":
        text = unicodedata.normalize("NFC", text)
    pat = GPT2_PAT if tj["pre_tokenizer"]["type"] == "ByteLevel" else tj["pre_tokenizer"]["pretokenizers"][0]["pattern"]["Regex"]
    specials = {a["content"]: a["id"] for a in tj["added_tokens"]}
    ids = []
    import regex
    parts = regex.split("(" + "|".join(regex.escape(s) for s in specials) + ")", text) if specials else [text]
    for part in parts:
        if part in specials:
            ids.append(specials[part])
            continue
        for piece in pieces(part, pat):
            word = [b2u[b] for b in piece.encode("utf-8")]
            while len(word) > 1:
                pairs = [(ranks.get((a, b), math.inf), i) for i, (a, b) in enumerate(zip(word, word[1:]))]
                r, i = min(pairs)
                if r == math.inf:
                    break
                word = word[:i] + [word[i] + word[i + 1]] + word[i + 2:]
            ids.extend(vocab[w] for w in word)
    return ids


# ---------------------------------------------------------------------------------------------
# SentencePiece-style BPE (Llama-2, Mistral): "▁" for spaces, a "▁" in front, characters as symbols,
# a character outside the vocabulary as its UTF-8 bytes <0xXX> (byte_fallback), then merges lowest
# rank first (the Rust tokenizers BPE model's merge_word / merge_all). Two layouts of the same model:
# "llama2": normalizer Prepend("▁") + Replace(" ", "▁"), no pre-tokenizer (Llama-2's tokenizer.json);
# "metaspace": no normalizer, pre-tokenizer Metaspace(prepend_scheme "first", split false) (newer conversions).

SP = "\u2581"


def train_sp(n_merges):
    # trained on "▁"-led words, as sentencepiece does (split_by_whitespace): no merge spans a word boundary
    words = {}
    for t in CORPUS:
        for w in (SP + t.replace(" ", SP)).split(SP)[1:]:
            k = tuple(SP + w)
            words[k] = words.get(k, 0) + 1
    vocab = {"<unk>": 0, "<s>": 1, "</s>": 2}
    for b in range(256):
        vocab["<0x%02X>" % b] = len(vocab)
    for ch in sorted({c for w in words for c in w}):
        vocab[ch] = len(vocab)
    merges = learn_merges(words, n_merges)
    for a, b in merges:
        vocab.setdefault(a + b, len(vocab))
    return vocab, merges


def sp_tokenizer_json(style, n_merges):
    vocab, merges = train_sp(n_merges)
    added = [{"id": i, "content": c, "single_word": False, "lstrip": False, "rstrip": False, "normalized": False, "special": True}
             for i, c in enumerate(["<unk>", "<s>", "</s>"])]
    if style == "llama2":
        normalizer = {"type": "Sequence", "normalizers": [{"type": "Prepend", "prepend": SP}, {"type": "Replace", "pattern": {"String": " "}, "content": SP}]}
        pre = None
    else:
        normalizer = None
        pre = {"type": "Metaspace", "replacement": SP, "prepend_scheme": "first", "split": False}
    return {
        "version": "1.0", "truncation": None, "padding": None, "added_tokens": added, "normalizer": normalizer, "pre_tokenizer": pre,
        "post_processor": {"type": "TemplateProcessing", "single": [{"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}],
                           "pair": [{"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}, {"SpecialToken": {"id": "<s>", "type_id": 1}}, {"Sequence": {"id": "B", "type_id": 1}}],
                           "special_tokens": {"<s>": {"id": "<s>", "ids": [1], "tokens": ["<s>"]}}},
        "decoder": {"type": "Sequence", "decoders": [{"type": "Replace", "pattern": {"String": SP}, "content": " "}, {"type": "ByteFallback"}, {"type": "Fuse"},
                                                     {"type": "Strip", "content": " ", "start": 1, "stop": 0}]},
        "model": {"type": "BPE", "dropout": None, "unk_token": "<unk>", "continuing_subword_prefix": None, "end_of_word_suffix": None,
                  "fuse_unk": True, "byte_fallback": True, "ignore_merges": False, "vocab": vocab, "merges": [f"{a} {b}" for a, b in merges]},
    }


def sp_encode(tj, text):
    """Added tokens split out first; each other section normalised / pre-tokenised on its own, as Rust's AddedVocabulary does."""
    import regex
    m = tj["model"]
    vocab = m["vocab"]
    ranks = {tuple(s.split(" ")): i for i, s in enumerate(m["merges"])}
    specials = {a["content"]: a["id"] for a in tj["added_tokens"]}
    ids = []
    at = 0
    for part in regex.split("(" + "|".join(regex.escape(s) for s in specials) + ")", text):
        if part in specials:
            ids.append(specials[part])
        elif part:
            if tj["normalizer"] is not None:
                word = SP + part.replace(" ", SP)  # Prepend, then Replace: every section
            else:
                word = part.replace(" ", SP)  # Metaspace "first": only the section at the start of the input
                if at == 0 and not word.startswith(SP):
                    word = SP + word
            symbols = []
            for ch in word:
                if ch in vocab:
                    symbols.append(ch)
                else:
                    symbols.extend("<0x%02X>" % b for b in ch.encode("utf-8"))
            while len(symbols) > 1:
                r, i = min((ranks.get((a, b), math.inf), i) for i, (a, b) in enumerate(zip(symbols, symbols[1:])))
                if r == math.inf:
                    break
                symbols = symbols[:i] + [symbols[i] + symbols[i + 1]] + symbols[i + 2:]
            ids.extend(vocab[s] for s in symbols)
        at += len(part)
    return ids


def sp_make(args):
    os.makedirs(args.dir, exist_ok=True)
    json.dump(sp_tokenizer_json(args.style, args.merges), open(os.path.join(args.dir, "tokenizer.json"), "w"), ensure_ascii=False)
    json.dump({"add_bos_token": True, "add_eos_token": False, "bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>"},
              open(os.path.join(args.dir, "tokenizer_config.json"), "w"))


# ---------------------------------------------------------------------------------------------
# random checkpoints and reference forwards

def make(args):
    torch.manual_seed(args.seed)
    os.makedirs(args.dir, exist_ok=True)
    tj = tokenizer_json("qwen2" if args.arch == "qwen2" else "gpt2", args.merges, ("<|im_start|>", "<|im_end|>") if args.chat_template else ())
    V = len(tj["model"]["vocab"]) + len(tj["added_tokens"]) + args.extra_vocab
    V = max(V, args.vocab_size)
    eos = tj["added_tokens"][0]["id"]
    D, L, H = args.hidden, args.layers, args.heads
    r = lambda *s: torch.randn(*s) * args.std
    w = {}
    if args.arch == "gpt2":
        cfg = {"model_type": "gpt2", "architectures": ["GPT2LMHeadModel"], "vocab_size": V, "n_positions": args.positions, "n_embd": D,
               "n_layer": L, "n_head": H, "n_inner": None, "activation_function": "gelu_new", "layer_norm_epsilon": 1e-5,
               "bos_token_id": eos, "eos_token_id": eos, "tie_word_embeddings": True}
        pre = "" if args.no_prefix else "transformer."
        w[pre + "wte.weight"] = r(V, D)
        w[pre + "wpe.weight"] = r(args.positions, D)
        for l in range(L):
            p = f"{pre}h.{l}."
            w[p + "ln_1.weight"] = 1 + r(D)
            w[p + "ln_1.bias"] = r(D)
            w[p + "attn.c_attn.weight"] = r(D, 3 * D)
            w[p + "attn.c_attn.bias"] = r(3 * D)
            w[p + "attn.c_proj.weight"] = r(D, D)
            w[p + "attn.c_proj.bias"] = r(D)
            w[p + "ln_2.weight"] = 1 + r(D)
            w[p + "ln_2.bias"] = r(D)
            w[p + "mlp.c_fc.weight"] = r(D, 4 * D)
            w[p + "mlp.c_fc.bias"] = r(4 * D)
            w[p + "mlp.c_proj.weight"] = r(4 * D, D)
            w[p + "mlp.c_proj.bias"] = r(D)
        w[pre + "ln_f.weight"] = 1 + r(D)
        w[pre + "ln_f.bias"] = r(D)
    else:
        KV, hd, F = args.kv_heads, D // H, args.intermediate
        qwen = args.arch == "qwen2"
        cfg = {"model_type": args.arch, "architectures": ["Qwen2ForCausalLM" if qwen else "LlamaForCausalLM"], "vocab_size": V,
               "hidden_size": D, "intermediate_size": F, "num_hidden_layers": L, "num_attention_heads": H, "num_key_value_heads": KV,
               "max_position_embeddings": args.positions, "rms_norm_eps": 1e-6, "rope_theta": args.rope_theta, "hidden_act": "silu",
               "tie_word_embeddings": args.tie, "bos_token_id": eos, "eos_token_id": eos, "rope_scaling": None}
        if not qwen:
            cfg["attention_bias"] = args.attention_bias
            cfg["mlp_bias"] = False
        qkv_bias = qwen or args.attention_bias
        o_bias = (not qwen) and args.attention_bias
        w["model.embed_tokens.weight"] = r(V, D)
        for l in range(L):
            a, m = f"model.layers.{l}.self_attn.", f"model.layers.{l}.mlp."
            w[f"model.layers.{l}.input_layernorm.weight"] = 1 + r(D)
            for n, o in (("q", H * hd), ("k", KV * hd), ("v", KV * hd)):
                w[a + n + "_proj.weight"] = r(o, D)
                if qkv_bias:
                    w[a + n + "_proj.bias"] = r(o)
            w[a + "o_proj.weight"] = r(D, H * hd)
            if o_bias:
                w[a + "o_proj.bias"] = r(D)
            w[f"model.layers.{l}.post_attention_layernorm.weight"] = 1 + r(D)
            w[m + "gate_proj.weight"] = r(F, D)
            w[m + "up_proj.weight"] = r(F, D)
            w[m + "down_proj.weight"] = r(D, F)
        w["model.norm.weight"] = 1 + r(D)
        if not args.tie:
            w["lm_head.weight"] = r(V, D)
    json.dump(cfg, open(os.path.join(args.dir, "config.json"), "w"), indent=1)
    json.dump(tj, open(os.path.join(args.dir, "tokenizer.json"), "w"), ensure_ascii=False)
    json.dump({"add_bos_token": False, "eos_token": "<|endoftext|>", "model_max_length": args.positions,
               "chat_template": args.chat_template} if args.chat_template else {"add_bos_token": False, "eos_token": "<|endoftext|>"},
              open(os.path.join(args.dir, "tokenizer_config.json"), "w"))
    if args.shards > 1:
        names = list(w)
        wm = {}
        per = math.ceil(len(names) / args.shards)
        for s in range(args.shards):
            fn = f"model-{s + 1:05d}-of-{args.shards:05d}.safetensors"
            part = {n: w[n] for n in names[s * per:(s + 1) * per]}
            write_safetensors(os.path.join(args.dir, fn), part, args.dtype)
            wm.update({n: fn for n in part})
        json.dump({"metadata": {}, "weight_map": wm}, open(os.path.join(args.dir, "model.safetensors.index.json"), "w"))
    else:
        write_safetensors(os.path.join(args.dir, "model.safetensors"), w, args.dtype)


def gelu_new(x):
    return 0.5 * x * (1 + torch.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3)))


def attention(q, k, v):
    # q [H,T,hd], k/v [H,T,hd]; causal
    T, hd = q.shape[1], q.shape[2]
    s = q @ k.transpose(1, 2) / math.sqrt(hd)
    s = s.masked_fill(torch.triu(torch.ones(T, T, dtype=torch.bool), 1), float("-inf"))
    return torch.softmax(s, -1) @ v


def gpt2_forward(cfg, w, ids):
    g = lambda n: w.get("transformer." + n, w.get(n))
    D, H = cfg["n_embd"], cfg["n_head"]
    T = len(ids)
    ln = lambda x, n: torch.nn.functional.layer_norm(x, (D,), g(n + ".weight"), g(n + ".bias"), cfg["layer_norm_epsilon"])
    x = g("wte.weight")[ids] + g("wpe.weight")[:T]
    for l in range(cfg["n_layer"]):
        p = f"h.{l}."
        qkv = ln(x, p + "ln_1") @ g(p + "attn.c_attn.weight") + g(p + "attn.c_attn.bias")
        q, k, v = (t.reshape(T, H, D // H).transpose(0, 1) for t in qkv.split(D, -1))
        o = attention(q, k, v).transpose(0, 1).reshape(T, D)
        x = x + o @ g(p + "attn.c_proj.weight") + g(p + "attn.c_proj.bias")
        f = gelu_new(ln(x, p + "ln_2") @ g(p + "mlp.c_fc.weight") + g(p + "mlp.c_fc.bias"))
        x = x + f @ g(p + "mlp.c_proj.weight") + g(p + "mlp.c_proj.bias")
    x = ln(x, "ln_f")
    head = w.get("lm_head.weight", g("wte.weight")) if not cfg.get("tie_word_embeddings", True) else g("wte.weight")
    return x @ head.T


def llama_forward(cfg, w, ids):
    D, H = cfg["hidden_size"], cfg["num_attention_heads"]
    KV = cfg.get("num_key_value_heads") or H
    hd = cfg.get("head_dim") or D // H
    T = len(ids)
    eps = cfg["rms_norm_eps"]
    rms = lambda x, n: x / torch.sqrt((x * x).mean(-1, keepdim=True) + eps) * w[n + ".weight"]

    def lin(x, n):
        y = x @ w[n + ".weight"].T
        return y + w[n + ".bias"] if n + ".bias" in w else y

    inv = 1.0 / (cfg.get("rope_theta", 10000.0) ** (torch.arange(0, hd, 2, dtype=torch.float64) / hd))
    ang = torch.arange(T, dtype=torch.float64)[:, None] * inv[None, :]
    cos, sin = torch.cat([ang.cos()] * 2, -1), torch.cat([ang.sin()] * 2, -1)
    rot = lambda x: torch.cat([-x[..., hd // 2:], x[..., :hd // 2]], -1)
    x = w["model.embed_tokens.weight"][ids]
    for l in range(cfg["num_hidden_layers"]):
        a, m = f"model.layers.{l}.self_attn.", f"model.layers.{l}.mlp."
        h = rms(x, f"model.layers.{l}.input_layernorm")
        q = lin(h, a + "q_proj").reshape(T, H, hd).transpose(0, 1)
        k = lin(h, a + "k_proj").reshape(T, KV, hd).transpose(0, 1)
        v = lin(h, a + "v_proj").reshape(T, KV, hd).transpose(0, 1)
        q, k = q * cos + rot(q) * sin, k * cos + rot(k) * sin
        k, v = k.repeat_interleave(H // KV, 0), v.repeat_interleave(H // KV, 0)
        o = attention(q, k, v).transpose(0, 1).reshape(T, H * hd)
        x = x + lin(o, a + "o_proj")
        h2 = rms(x, f"model.layers.{l}.post_attention_layernorm")
        gt = lin(h2, m + "gate_proj")
        x = x + lin(torch.nn.functional.silu(gt) * lin(h2, m + "up_proj"), m + "down_proj")
    x = rms(x, "model.norm")
    head = w["model.embed_tokens.weight"] if cfg.get("tie_word_embeddings", False) else w["lm_head.weight"]
    return x @ head.T


def forward(args):
    cfg = json.load(open(os.path.join(args.dir, "config.json")))
    w = read_weights(args.dir)
    ids = torch.tensor([int(i) for i in args.ids.split(",")])
    f = gpt2_forward if cfg["model_type"] == "gpt2" else llama_forward
    with torch.no_grad():
        logits = f(cfg, w, ids)
    print(json.dumps({"logits": logits.tolist()}))


def tokenize(args):
    tj = json.load(open(os.path.join(args.dir, "tokenizer.json")))
    texts = json.load(sys.stdin)
    enc = sp_encode if tj["model"].get("byte_fallback") else bpe_encode
    print(json.dumps([enc(tj, t) for t in texts]))


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    m = sub.add_parser("make")
    m.add_argument("dir")
    m.add_argument("--arch", choices=["gpt2", "llama", "qwen2"], required=True)
    m.add_argument("--dtype", choices=list(DT), default="F32")
    m.add_argument("--hidden", type=int, default=32)
    m.add_argument("--layers", type=int, default=2)
    m.add_argument("--heads", type=int, default=4)
    m.add_argument("--kv-heads", type=int, default=2)
    m.add_argument("--intermediate", type=int, default=48)
    m.add_argument("--positions", type=int, default=128)
    m.add_argument("--rope-theta", type=float, default=10000.0)
    m.add_argument("--tie", action="store_true")
    m.add_argument("--attention-bias", action="store_true")
    m.add_argument("--no-prefix", action="store_true")
    m.add_argument("--shards", type=int, default=1)
    m.add_argument("--merges", type=int, default=200)
    m.add_argument("--extra-vocab", type=int, default=0)
    m.add_argument("--vocab-size", type=int, default=0, help="pad the vocabulary to this size (benchmark shapes)")
    m.add_argument("--std", type=float, default=0.2)
    m.add_argument("--seed", type=int, default=0)
    m.add_argument("--chat-template", default=None)
    f = sub.add_parser("forward")
    f.add_argument("dir")
    f.add_argument("--ids", required=True)
    t = sub.add_parser("tokenize")
    t.add_argument("dir")
    s = sub.add_parser("sp-tokenizer", help="a SentencePiece-style tokenizer.json (+ tokenizer_config.json) only")
    s.add_argument("dir")
    s.add_argument("--style", choices=["llama2", "metaspace"], required=True)
    s.add_argument("--merges", type=int, default=200)
    args = ap.parse_args()
    {"make": make, "forward": forward, "tokenize": tokenize, "sp-tokenizer": sp_make}[args.cmd](args)


if __name__ == "__main__":
    main()

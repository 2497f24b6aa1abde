#!/usr/bin/env python3
"""Self-contained PyTorch reference for the GPU engine benchmark (needs only torch: no
transformers, no safetensors package, no downloads).

  torch_llama.py make DIR            write a seeded random Llama (fp32 safetensors + config.json)
  torch_llama.py bench DIR P D B     prefill P tokens, then D decode steps for B sequences, on
                                     cuda, fp32 (TF32 off); prints one JSON object
The model code is a plain Llama (RMSNorm, llama3 RoPE, GQA, SwiGLU) with a preallocated KV cache.
"""
import json
import math
import os
import struct
import sys
import time

import torch

CFG = dict(model_type="llama", architectures=["LlamaForCausalLM"], vocab_size=32000, hidden_size=2048,
           intermediate_size=5632, num_hidden_layers=16, num_attention_heads=32, num_key_value_heads=8,
           max_position_embeddings=4096, rms_norm_eps=1e-5, rope_theta=500000.0,
           rope_scaling=dict(rope_type="llama3", factor=8.0, low_freq_factor=1.0, high_freq_factor=4.0,
                             original_max_position_embeddings=2048),
           tie_word_embeddings=False, bos_token_id=1, eos_token_id=2, dtype="float32")


def shapes(c):
    D, F, V = c["hidden_size"], c["intermediate_size"], c["vocab_size"]
    hd = D // c["num_attention_heads"]
    q, kv = c["num_attention_heads"] * hd, c["num_key_value_heads"] * hd
    out = {"model.embed_tokens.weight": [V, D], "model.norm.weight": [D], "lm_head.weight": [V, D]}
    for i in range(c["num_hidden_layers"]):
        p = f"model.layers.{i}."
        out.update({p + "input_layernorm.weight": [D], p + "post_attention_layernorm.weight": [D],
                    p + "self_attn.q_proj.weight": [q, D], p + "self_attn.k_proj.weight": [kv, D],
                    p + "self_attn.v_proj.weight": [kv, D], p + "self_attn.o_proj.weight": [D, q],
                    p + "mlp.gate_proj.weight": [F, D], p + "mlp.up_proj.weight": [F, D],
                    p + "mlp.down_proj.weight": [D, F]})
    return out


def make(d):
    if os.path.exists(os.path.join(d, "config.json")):
        return
    os.makedirs(d, exist_ok=True)
    g = torch.Generator().manual_seed(0)
    tensors = {}
    for name, shape in shapes(CFG).items():
        tensors[name] = torch.ones(shape) if name.endswith("norm.weight") else 0.02 * torch.randn(shape, generator=g)
    header, off = {}, 0
    for name, t in tensors.items():
        n = t.numel() * 4
        header[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [off, off + n]}
        off += n
    h = json.dumps(header).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(os.path.join(d, "model.safetensors"), "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h)
        for t in tensors.values():
            f.write(t.contiguous().numpy().tobytes())
    with open(os.path.join(d, "config.json"), "w") as f:
        json.dump(CFG, f, indent=2)


def load(d, dev):
    with open(os.path.join(d, "model.safetensors"), "rb") as f:
        raw = f.read()
    n = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8:8 + n])
    buf = memoryview(raw)[8 + n:]
    return {k: torch.frombuffer(buf[v["data_offsets"][0]:v["data_offsets"][1]], dtype=torch.float32)
            .reshape(v["shape"]).to(dev) for k, v in header.items() if k != "__metadata__"}


def inv_freq(c, hd):
    f = 1.0 / (c["rope_theta"] ** (torch.arange(0, hd, 2, dtype=torch.int64).float() / hd))
    s = c["rope_scaling"]
    old, lo, hi, fac = s["original_max_position_embeddings"], s["low_freq_factor"], s["high_freq_factor"], s["factor"]
    wl = 2 * math.pi / f
    out = torch.where(wl > old / lo, f / fac, f)
    smooth = (old / wl - lo) / (hi - lo)
    med = (wl >= old / hi) & (wl <= old / lo)
    return torch.where(med, (1 - smooth) * out / fac + smooth * out, out)


class Llama:
    def __init__(self, w, c, dev, max_tokens, batch):
        self.w, self.c = w, c
        self.L, self.D = c["num_hidden_layers"], c["hidden_size"]
        self.H, self.Hkv = c["num_attention_heads"], c["num_key_value_heads"]
        self.hd = self.D // self.H
        self.inv = inv_freq(c, self.hd).to(dev)
        self.k = torch.zeros(self.L, batch, self.Hkv, max_tokens, self.hd, device=dev)
        self.v = torch.zeros_like(self.k)

    def norm(self, x, w):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.c["rms_norm_eps"]) * w

    def rope(self, x, pos):
        ang = pos[:, None].float() * self.inv[None, :]
        cos, sin = torch.cat([ang.cos()] * 2, -1), torch.cat([ang.sin()] * 2, -1)
        h = x.shape[-1] // 2
        rot = torch.cat([-x[..., h:], x[..., :h]], -1)
        return x * cos[None, None] + rot * sin[None, None]

    def layer(self, i, x, start):
        w, p = self.w, f"model.layers.{i}."
        B, T, _ = x.shape
        h = self.norm(x, w[p + "input_layernorm.weight"])
        q = (h @ w[p + "self_attn.q_proj.weight"].T).view(B, T, self.H, self.hd).transpose(1, 2)
        k = (h @ w[p + "self_attn.k_proj.weight"].T).view(B, T, self.Hkv, self.hd).transpose(1, 2)
        v = (h @ w[p + "self_attn.v_proj.weight"].T).view(B, T, self.Hkv, self.hd).transpose(1, 2)
        pos = torch.arange(start, start + T, device=x.device)
        q, k = self.rope(q, pos), self.rope(k, pos)
        self.k[i, :, :, start:start + T] = k
        self.v[i, :, :, start:start + T] = v
        K, V = self.k[i, :, :, :start + T], self.v[i, :, :, :start + T]
        a = torch.nn.functional.scaled_dot_product_attention(q, K, V, is_causal=T > 1, enable_gqa=True)
        x = x + a.transpose(1, 2).reshape(B, T, self.D) @ w[p + "self_attn.o_proj.weight"].T
        h = self.norm(x, w[p + "post_attention_layernorm.weight"])
        g = torch.nn.functional.silu(h @ w[p + "mlp.gate_proj.weight"].T) * (h @ w[p + "mlp.up_proj.weight"].T)
        return x + g @ w[p + "mlp.down_proj.weight"].T

    def forward(self, tokens, start, layer_events=None):
        x = self.w["model.embed_tokens.weight"][tokens]
        for i in range(self.L):
            if layer_events:
                layer_events[i][0].record()
            x = self.layer(i, x, start)
            if layer_events:
                layer_events[i][1].record()
        return self.norm(x[:, -1], self.w["model.norm.weight"]) @ self.w["lm_head.weight"].T


def bench(d, P, D, B):
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    dev = "cuda"
    m = Llama(load(d, dev), CFG, dev, P + D + 8, B)
    V = CFG["vocab_size"]
    prompt = torch.tensor([[(i * 7919 + 13) % V for i in range(P)]] * B, device=dev)
    with torch.inference_mode():
        m.forward(prompt[:, :8], 0)
        torch.cuda.synchronize()
        t0 = time.perf_counter()
        m.forward(prompt, 0)
        torch.cuda.synchronize()
        prefill = time.perf_counter() - t0
        t1 = time.perf_counter()
        for s in range(D):
            m.forward(torch.full((B, 1), (s * 31) % V, device=dev), P + s)
        torch.cuda.synchronize()
        decode = time.perf_counter() - t1
        ev = [(torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)) for _ in range(m.L)]
        m.forward(torch.full((B, 1), 7, device=dev), P + D, ev)
        torch.cuda.synchronize()
        layer_ms = [a.elapsed_time(b) for a, b in ev]
    print(json.dumps({"torch": torch.__version__, "gpu": torch.cuda.get_device_name(), "promptTokens": P,
                      "decodeSteps": D, "batch": B, "prefillTokensPerSecond": B * P / prefill,
                      "decodeTokensPerSecond": B * D / decode, "decodeStepMs": 1e3 * decode / D,
                      "layerMs": layer_ms}))


if __name__ == "__main__":
    if sys.argv[1] == "make":
        make(sys.argv[2])
    else:
        bench(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]))

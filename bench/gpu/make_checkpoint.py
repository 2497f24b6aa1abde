#!/usr/bin/env python3
"""Writes a seeded random-weight Llama checkpoint in fp16 (or bf16), LLaMA-13B-shaped by default,
for bench/gpu/run-serve.sh: config.json, model.safetensors, tokenizer.json, tokenizer_config.json.

The weights are generated with PyTorch (on the GPU when there is one) one tensor at a time and
streamed into the safetensors file, so a 26 GB checkpoint never sits in memory whole. The tokenizer
is the tiny-llama fixture's BPE with its vocabulary padded to the model's (ids past the fixture's
512 decode to "<x123>"), so every id the model can sample decodes.

  python3 bench/gpu/make_checkpoint.py --out /tmp/llama-13b-fp16             # 40 x 5120, 26 GB
  python3 bench/gpu/make_checkpoint.py --out /tmp/tiny --layers 2 --hidden 64 --heads 4 \\
      --kv-heads 2 --intermediate 160 --vocab 1024                           # a check in seconds
"""
import argparse
import json
import os
import struct
import sys

import torch

FIXTURE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "test", "fixtures",
                       "tiny-llama")
DTYPES = {"float16": (torch.float16, "F16"), "bfloat16": (torch.bfloat16, "BF16")}


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out", required=True)
    p.add_argument("--layers", type=int, default=40)
    p.add_argument("--hidden", type=int, default=5120)
    p.add_argument("--intermediate", type=int, default=13824)
    p.add_argument("--heads", type=int, default=40)
    p.add_argument("--kv-heads", type=int, default=40)
    p.add_argument("--vocab", type=int, default=32000)
    p.add_argument("--max-positions", type=int, default=4096)
    p.add_argument("--dtype", choices=sorted(DTYPES), default="float16")
    p.add_argument("--seed", type=int, default=7)
    a = p.parse_args()
    if a.hidden % a.heads or a.heads % a.kv_heads:
        p.error("--hidden must be a multiple of --heads, and --heads of --kv-heads")
    if a.vocab < 512:
        p.error("--vocab: at least the tokenizer's 512")
    return a


def tensor_shapes(a):
    head_dim = a.hidden // a.heads
    kv = head_dim * a.kv_heads
    shapes = [("model.embed_tokens.weight", [a.vocab, a.hidden])]
    for i in range(a.layers):
        p = f"model.layers.{i}"
        shapes += [
            (f"{p}.input_layernorm.weight", [a.hidden]),
            (f"{p}.self_attn.q_proj.weight", [a.hidden, a.hidden]),
            (f"{p}.self_attn.k_proj.weight", [kv, a.hidden]),
            (f"{p}.self_attn.v_proj.weight", [kv, a.hidden]),
            (f"{p}.self_attn.o_proj.weight", [a.hidden, a.hidden]),
            (f"{p}.post_attention_layernorm.weight", [a.hidden]),
            (f"{p}.mlp.gate_proj.weight", [a.intermediate, a.hidden]),
            (f"{p}.mlp.up_proj.weight", [a.intermediate, a.hidden]),
            (f"{p}.mlp.down_proj.weight", [a.hidden, a.intermediate]),
        ]
    shapes += [("model.norm.weight", [a.hidden]), ("lm_head.weight", [a.vocab, a.hidden])]
    return shapes


def write_safetensors(path, a):
    dtype, tag = DTYPES[a.dtype]
    width = torch.tensor([], dtype=dtype).element_size()
    shapes = tensor_shapes(a)
    header, offset = {}, 0
    for name, shape in shapes:
        n = 1
        for d in shape:
            n *= d
        header[name] = {"dtype": tag, "shape": shape, "data_offsets": [offset, offset + n * width]}
        offset += n * width
    header["__metadata__"] = {"format": "pt"}
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)  # the data starts 8-byte aligned
    device = "cuda" if torch.cuda.is_available() else "cpu"
    gen = torch.Generator(device=device).manual_seed(a.seed)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for name, shape in shapes:
            if name.endswith("norm.weight"):
                t = torch.ones(shape, dtype=dtype, device=device)
            else:
                # std 0.02, as Llama's initializer_range.
                t = torch.randn(shape, generator=gen, device=device, dtype=torch.float32)
                t = t.mul_(0.02).to(dtype)
            # Raw little-endian bytes; 16-bit types are reinterpreted, numpy has no bf16.
            f.write(t.contiguous().view(torch.int16).cpu().numpy().tobytes())
    return offset


def write_config(out, a):
    config = {
        "architectures": ["LlamaForCausalLM"],
        "model_type": "llama",
        "hidden_act": "silu",
        "hidden_size": a.hidden,
        "intermediate_size": a.intermediate,
        "num_hidden_layers": a.layers,
        "num_attention_heads": a.heads,
        "num_key_value_heads": a.kv_heads,
        "head_dim": a.hidden // a.heads,
        "vocab_size": a.vocab,
        "max_position_embeddings": a.max_positions,
        "rms_norm_eps": 1e-6,
        "rope_theta": 10000.0,
        "attention_bias": False,
        "mlp_bias": False,
        "tie_word_embeddings": False,
        "bos_token_id": 1,
        "eos_token_id": 2,
        "pad_token_id": 0,
        "dtype": a.dtype,
        "torch_dtype": a.dtype,
    }
    with open(os.path.join(out, "config.json"), "w") as f:
        json.dump(config, f, indent=2)


def write_tokenizer(out, a):
    with open(os.path.join(FIXTURE, "tokenizer.json")) as f:
        tok = json.load(f)
    vocab = tok["model"]["vocab"]
    taken = set(vocab.values()) | {t["id"] for t in tok.get("added_tokens", [])}
    for i in range(a.vocab):
        if i not in taken:
            vocab[f"<x{i}>"] = i
    with open(os.path.join(out, "tokenizer.json"), "w") as f:
        json.dump(tok, f)
    with open(os.path.join(FIXTURE, "tokenizer_config.json")) as f:
        cfg = f.read()
    with open(os.path.join(out, "tokenizer_config.json"), "w") as f:
        f.write(cfg)


def main():
    a = parse_args()
    os.makedirs(a.out, exist_ok=True)
    data = write_safetensors(os.path.join(a.out, "model.safetensors"), a)
    write_config(a.out, a)
    write_tokenizer(a.out, a)
    print(json.dumps({"out": a.out, "dtype": a.dtype, "bytes": data, "layers": a.layers,
                      "hidden": a.hidden, "vocab": a.vocab, "seed": a.seed}))


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Writes the CPU benchmark model: a random Llama of ~336M parameters (fp32 safetensors), seeded,
shaped like the fixtures but larger. Not committed; cached under ~/.cache/selectn/bench-model.

  make_model.py OUT_DIR
"""
import os
import sys

import torch
from transformers import LlamaConfig, LlamaForCausalLM

out = sys.argv[1]
if os.path.exists(os.path.join(out, "config.json")):
    sys.exit(0)
torch.manual_seed(0)
cfg = LlamaConfig(
    vocab_size=32000,
    hidden_size=1024,
    intermediate_size=2816,
    num_hidden_layers=24,
    num_attention_heads=16,
    num_key_value_heads=4,
    max_position_embeddings=2048,
    rms_norm_eps=1e-5,
    rope_theta=500000.0,
    rope_scaling={
        "rope_type": "llama3",
        "factor": 8.0,
        "low_freq_factor": 1.0,
        "high_freq_factor": 4.0,
        "original_max_position_embeddings": 1024,
    },
    tie_word_embeddings=False,
    bos_token_id=1,
    eos_token_id=2,
)
with torch.device("cpu"):
    model = LlamaForCausalLM(cfg)
model.save_pretrained(out, safe_serialization=True)
n = sum(p.numel() for p in model.parameters())
print(f"wrote {out}: {n / 1e6:.0f}M parameters")

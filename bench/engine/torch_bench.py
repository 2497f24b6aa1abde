#!/usr/bin/env python3
"""PyTorch (transformers) reference throughput on the same model, threads and shapes as
selectn-engine-bench: prefill of a PROMPT-token prompt, then DECODE greedy-free decode steps with
the KV cache, batch 1, fp32, eager attention. Prints one JSON object.

  torch_bench.py MODEL_DIR THREADS PROMPT DECODE
"""
import json
import sys
import time

import torch
from transformers import AutoModelForCausalLM

model_dir, threads, prompt_len, decode = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
torch.set_num_threads(threads)
model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32, attn_implementation="sdpa").eval()
V = model.config.vocab_size
prompt = torch.tensor([[(i * 7919 + 13) % V for i in range(prompt_len)]])
with torch.inference_mode():
    model(prompt[:, :8])  # warm-up (allocator, kernels)
    t0 = time.perf_counter()
    out = model(prompt, use_cache=True)
    prefill_s = time.perf_counter() - t0
    past = out.past_key_values
    t1 = time.perf_counter()
    for d in range(decode):
        tok = torch.tensor([[(d * 31) % V]])
        out = model(tok, past_key_values=past, use_cache=True)
        past = out.past_key_values
    decode_s = time.perf_counter() - t1
print(json.dumps({
    "torch": torch.__version__,
    "threads": threads,
    "promptTokens": prompt_len,
    "decodeSteps": decode,
    "prefillTokensPerSecond": prompt_len / prefill_s,
    "decodeTokensPerSecond": decode / decode_s,
    "decodeStepMs": 1e3 * decode_s / decode,
}))

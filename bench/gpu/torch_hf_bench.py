#!/usr/bin/env python3
"""PyTorch reference for bench/gpu/run-serve.sh: transformers' LlamaForCausalLM in fp16 with sdpa
attention and its KV cache (DynamicCache), on the same checkpoint and GPU as the engine.
Prints one JSON object: prefill tokens/s at each --prefill length (batch 1) and decode tokens/s at
each --batch (prompt --decode-prompt tokens, --decode greedy steps, timed after the prefill).
Needs transformers; without it, prints {"error": ...} and exits 3 (the run says so, nothing is
substituted).

  python3 torch_hf_bench.py /tmp/llama-13b-fp16 --prefill 512,2048 --batch 1,8,32
"""
import argparse
import json
import sys
import time

import torch


def sync():
    if torch.cuda.is_available():
        torch.cuda.synchronize()


def timed(fn, repeats):
    fn()  # warm-up (kernels, allocator)
    sync()
    t = time.perf_counter()
    for _ in range(repeats):
        fn()
    sync()
    return (time.perf_counter() - t) / repeats


def main():
    p = argparse.ArgumentParser()
    p.add_argument("model")
    p.add_argument("--prefill", default="512,2048")
    p.add_argument("--batch", default="1,8,32")
    p.add_argument("--decode-prompt", type=int, default=128)
    p.add_argument("--decode", type=int, default=64)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--device", default="cuda", help="cpu only to check this script at a tiny shape")
    a = p.parse_args()
    try:
        import transformers
        from transformers import DynamicCache, LlamaForCausalLM
    except ImportError as e:
        print(json.dumps({"error": f"transformers not importable: {e}"}))
        return 3
    torch.backends.cuda.matmul.allow_tf32 = False
    model = LlamaForCausalLM.from_pretrained(a.model, dtype=torch.float16,
                                             attn_implementation="sdpa").to(a.device).eval()
    vocab = model.config.vocab_size
    gen = torch.Generator(device=a.device).manual_seed(1)
    out = {"reference": f"transformers {transformers.__version__} LlamaForCausalLM, fp16, sdpa, "
                        f"DynamicCache; torch {torch.__version__}",
           "gpu": torch.cuda.get_device_name(0) if a.device == "cuda" else a.device, "prefill": [], "decode": []}
    with torch.inference_mode():
        for n in (int(x) for x in a.prefill.split(",")):
            ids = torch.randint(3, vocab, (1, n), device=a.device, generator=gen)
            s = timed(lambda: model(ids, use_cache=False, logits_to_keep=1), a.repeats)
            out["prefill"].append({"tokens": n, "prefillTokensPerSecond": n / s})
        for b in (int(x) for x in a.batch.split(",")):
            ids = torch.randint(3, vocab, (b, a.decode_prompt), device=a.device, generator=gen)

            def decode():
                cache = DynamicCache()
                logits = model(ids, past_key_values=cache, use_cache=True, logits_to_keep=1).logits
                nxt = logits[:, -1].argmax(-1, keepdim=True)
                sync()
                t = time.perf_counter()
                for _ in range(a.decode):
                    logits = model(nxt, past_key_values=cache, use_cache=True).logits
                    nxt = logits[:, -1].argmax(-1, keepdim=True)
                sync()
                return time.perf_counter() - t

            decode()
            s = min(decode() for _ in range(a.repeats))
            out["decode"].append({"batch": b, "decodeTokensPerSecond": b * a.decode / s,
                                  "decodeStepMs": s * 1000 / a.decode})
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())

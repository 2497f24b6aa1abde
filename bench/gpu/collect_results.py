#!/usr/bin/env python3
"""Collects bench/gpu/run-serve.sh's raw outputs in $OUT into the committed result shapes:
  engine OUT MODEL            -> OUT/engine-cuda-h200.json (engine vs PyTorch, same GPU and shapes)
  serve OUT MODEL TRACE POLICY... -> OUT/serve-cuda-h200.json (policies[...] as serve-cpu.json, plus
                                 the device memory cap, the model shape, the measured bandwidth)
A missing or failed piece is recorded as {"error": ...} in its place, never filled in."""
import json
import os
import sys
from datetime import datetime, timezone

def read_json(path):
    try:
        with open(path) as f:
            return json.loads(f.read().strip().splitlines()[-1])
    except (OSError, ValueError, IndexError) as e:
        err = ""
        stderr = os.path.splitext(path)[0] + ".err"
        if os.path.exists(stderr):
            with open(stderr) as f:
                err = f.read().strip()[-300:]
        return {"error": f"{os.path.basename(path)}: {e}", "stderr": err}


def model_shape(model):
    with open(os.path.join(model, "config.json")) as f:
        c = json.load(f)
    keys = ("num_hidden_layers", "hidden_size", "intermediate_size", "num_attention_heads",
            "num_key_value_heads", "vocab_size", "dtype")
    shape = {k: c.get(k) for k in keys}
    shape["checkpointBytes"] = os.path.getsize(os.path.join(model, "model.safetensors"))
    return shape


def gpu(out):
    try:
        with open(os.path.join(out, "gpu.txt")) as f:
            return f.read().strip()
    except OSError as e:
        return f"unknown ({e})"


def ratio(a, b, key):
    if key in a and key in b and b[key] > 0:
        return a[key] / b[key]
    return None


def engine(out, model):
    torch = read_json(os.path.join(out, "torch.json"))
    decode, prefill = [], []
    for b in (1, 8, 32):
        e = read_json(os.path.join(out, f"engine-decode-b{b}.json"))
        t = next((d for d in torch.get("decode", []) if d["batch"] == b), {})
        decode.append({"batch": b, "engine": e, "torch": t,
                       "ratioVsTorch": ratio(e, t, "decodeTokensPerSecond")})
    for n in (512, 2048):
        e = read_json(os.path.join(out, f"engine-prefill-p{n}.json"))
        t = next((d for d in torch.get("prefill", []) if d["tokens"] == n), {})
        prefill.append({"tokens": n, "engine": e, "torch": t,
                        "ratioVsTorch": ratio(e, t, "prefillTokensPerSecond")})
    res = {
        "benchmark": "engine-cuda-h200",
        "command": "bash bench/gpu/prepare-serve.sh; then on the GPU: PARTS='checkpoint engine' "
                   "bash bench/gpu/run-serve.sh",
        "createdAt": datetime.now(timezone.utc).isoformat(),
        "gpu": gpu(out),
        "model": model_shape(model),
        "reference": torch.get("reference", torch.get("error")),
        "decode": decode,
        "prefill": prefill,
        "decodeRatioVsTorch": {str(d["batch"]): d["ratioVsTorch"] for d in decode},
        "prefillRatioVsTorch": {str(p["tokens"]): p["ratioVsTorch"] for p in prefill},
    }
    path = os.path.join(out, "engine-cuda-h200.json")
    with open(path, "w") as f:
        json.dump(res, f, indent=2)
    print(json.dumps({k: res[k] for k in ("gpu", "decodeRatioVsTorch", "prefillRatioVsTorch")}))


def serve_log_facts(log):
    """The measured copy bandwidth (the 'profiled' line) and the engine's stored dtype, if logged."""
    facts = {}
    try:
        with open(log) as f:
            for line in f:
                try:
                    rec = json.loads(line)
                except ValueError:
                    continue
                if rec.get("msg") == "profiled" and "bandwidthBytesPerS" in rec:
                    facts["copyBandwidthBytesPerS"] = rec["bandwidthBytesPerS"]
                for k in ("dtype", "backend", "device", "deviceBudgetBytes"):
                    if k in rec and isinstance(rec[k], (str, int, float)):
                        facts.setdefault(k, rec[k])
    except OSError as e:
        facts["error"] = str(e)
    return facts


def serve(out, model, trace_path, policies):
    with open(trace_path) as f:
        trace = json.load(f)
    results = []
    facts = {}
    for p in policies:
        r = read_json(os.path.join(out, f"replay-{p}.json"))
        r["policy"] = p
        f = serve_log_facts(os.path.join(out, f"serve-{p}.log"))
        r["serverLog"] = f
        facts = facts or ({k: v for k, v in f.items() if k != "error"})
        results.append(r)
    res = {
        "benchmark": "serve-cuda-h200",
        "command": "bash bench/gpu/prepare-serve.sh; then on the GPU: PARTS=serve "
                   "bash bench/gpu/run-serve.sh",
        "createdAt": datetime.now(timezone.utc).isoformat(),
        "gpu": gpu(out),
        "setup": {
            "model": model_shape(model),
            "deviceMemoryBytes": facts.get("deviceBudgetBytes"),
            "engineDtype": facts.get("dtype"),
            "backend": facts.get("backend"),
            "device": facts.get("device"),
            "measuredCopyBandwidthBytesPerS": facts.get("copyBandwidthBytesPerS"),
            "slo": {"ttftMs": float(os.environ.get("SLO_TTFT_MS", 2000)),
                    "tpotMs": float(os.environ.get("SLO_TPOT_MS", 100))},
            "trace": {k: trace[k] for k in ("seed", "durationS", "baseRate", "burstRate")}
                     | {"requests": len(trace["requests"])},
        },
        "policies": results,
    }
    path = os.path.join(out, "serve-cuda-h200.json")
    with open(path, "w") as f:
        json.dump(res, f, indent=2)
    print(json.dumps([{k: r.get(k) for k in ("policy", "goodputTokensPerS", "sloAttainment", "error")}
                      for r in results]))


def main():
    mode, out, model = sys.argv[1], sys.argv[2], sys.argv[3]
    if mode == "engine":
        engine(out, model)
    elif mode == "serve":
        serve(out, model, sys.argv[4], sys.argv[5:])
    else:
        sys.exit(f"collect_results.py: unknown mode {mode!r} (engine or serve)")


if __name__ == "__main__":
    main()

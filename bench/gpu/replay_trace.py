#!/usr/bin/env python3
"""Replays the serving bench's trace (JSON from bench/gpu/dump-trace.ts) against a running
`selectn serve` over its OpenAI API, one streaming /v1/completions request per trace item at its
arrival time, and prints one policy result in the shape of bench/results/serve-cpu.json's
`policies[...]` (the fields a client can see: no interval histogram, which the in-process CPU bench
reads from the engine loop). Python standard library only (the GPU machine has no Node).

  python3 replay_trace.py --url http://127.0.0.1:8000 --model m --trace trace.json \\
      --policy select-n --slo-ttft-ms 2000 --slo-tpot-ms 100
TTFT is measured to the first streamed chunk that carries a choice; the token count is the
server's usage.completion_tokens; TPOT = (end - first) / (tokens - 1). A request still running at
twice the trace's duration is abandoned and counts as failed (and as an SLO miss).
"""
import argparse
import http.client
import json
import math
import sys
import threading
import time
import urllib.parse


def percentile(values, p):
    if not values:
        return 0.0
    s = sorted(values)
    k = max(0, min(len(s) - 1, math.ceil(p / 100 * len(s)) - 1))
    return s[k]


def one_request(url, model, item, deadline, out):
    u = urllib.parse.urlparse(url)
    body = json.dumps({
        "model": model, "prompt": item["prompt"], "max_tokens": item["maxTokens"],
        "temperature": 0, "stream": True, "stream_options": {"include_usage": True},
    })
    start = time.perf_counter()
    first = None
    tokens = 0
    finished = False
    try:
        conn = http.client.HTTPConnection(u.hostname, u.port, timeout=max(1.0, deadline - start))
        conn.request("POST", "/v1/completions", body, {"content-type": "application/json"})
        resp = conn.getresponse()
        if resp.status != 200:
            out.append({"ok": False, "error": f"HTTP {resp.status}: {resp.read()[:200]!r}"})
            return
        for raw in resp:
            line = raw.decode("utf-8", "replace").strip()
            if not line.startswith("data: "):
                continue
            data = line[6:]
            if data == "[DONE]":
                finished = True
                break
            chunk = json.loads(data)
            if chunk.get("choices") and first is None:
                first = time.perf_counter()
            usage = chunk.get("usage")
            if usage:
                tokens = usage.get("completion_tokens", tokens)
            if time.perf_counter() > deadline:
                break
        conn.close()
    except (OSError, http.client.HTTPException, json.JSONDecodeError) as e:
        out.append({"ok": False, "error": str(e)})
        return
    end = time.perf_counter()
    first = first if first is not None else end
    out.append({"ok": finished, "ttftMs": (first - start) * 1000, "tokens": tokens,
                "tpotMs": (end - first) * 1000 / (tokens - 1) if tokens > 1 else 0.0})


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--url", required=True)
    p.add_argument("--model", required=True)
    p.add_argument("--trace", required=True)
    p.add_argument("--policy", required=True)
    p.add_argument("--slo-ttft-ms", type=float, required=True)
    p.add_argument("--slo-tpot-ms", type=float, required=True)
    a = p.parse_args()
    with open(a.trace) as f:
        trace = json.load(f)
    items = trace["requests"]
    outcomes = []
    t0 = time.perf_counter()
    deadline = t0 + 2 * trace["durationS"]
    threads = []
    for item in items:
        delay = t0 + item["atMs"] / 1000 - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        th = threading.Thread(target=one_request, args=(a.url, a.model, item, deadline, outcomes))
        th.start()
        threads.append(th)
    for th in threads:
        th.join()
    makespan = time.perf_counter() - t0
    ok = [o for o in outcomes if o["ok"]]
    met = [o for o in ok if o["ttftMs"] <= a.slo_ttft_ms and o["tpotMs"] <= a.slo_tpot_ms]
    errors = sorted({o["error"] for o in outcomes if "error" in o})[:5]
    print(json.dumps({
        "policy": a.policy,
        "throughputTokensPerS": sum(o["tokens"] for o in ok) / makespan,
        "goodputTokensPerS": sum(o["tokens"] for o in met) / makespan,
        "sloAttainment": len(met) / max(1, len(outcomes)),
        "sloAttainmentOfCompleted": len(met) / max(1, len(ok)),
        "ttftP99Ms": percentile([o["ttftMs"] for o in ok], 99),
        "tpotP99Ms": percentile([o["tpotMs"] for o in ok], 99),
        "requests": len(outcomes),
        "failed": len(outcomes) - len(ok),
        "makespanS": makespan,
        "errors": errors,
    }))


if __name__ == "__main__":
    sys.exit(main())

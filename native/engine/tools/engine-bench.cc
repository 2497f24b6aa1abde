// selectn-engine-bench: prefill and decode throughput of the engine on the CPU (or CUDA) runtime,
// optionally offloading every N-th layer with copy pacing. Prints one JSON object.
//   selectn-engine-bench --model DIR [--threads 2] [--prompt 128] [--decode 32] [--batch 1]
//                        [--interval 0] [--bandwidth-gbps 0] [--backend cpu|cuda] [--budget-mib 0]
//                        [--dtype auto|float32|float16|bfloat16]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "engine.h"
#include "errors.h"

using namespace sn::engine;

namespace {

struct Args {
  std::string model;
  int threads = 2, prompt = 128, decode = 32, batch = 1;
  uint32_t interval = 0;
  double bandwidth_gbps = 0;
  std::string backend = "cpu";
  uint64_t budget_mib = 0;
  std::string dtype = "auto";
};

[[noreturn]] void usage(const std::string& m) {
  std::fprintf(stderr, "selectn-engine-bench: %s\n", m.c_str());
  std::exit(2);
}

Args parse(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    const std::string k = argv[i];
    if (i + 1 >= argc) usage("missing value for " + k);
    const char* v = argv[++i];
    if (k == "--model") a.model = v;
    else if (k == "--threads") a.threads = std::atoi(v);
    else if (k == "--prompt") a.prompt = std::atoi(v);
    else if (k == "--decode") a.decode = std::atoi(v);
    else if (k == "--batch") a.batch = std::atoi(v);
    else if (k == "--interval") a.interval = uint32_t(std::atoi(v));
    else if (k == "--bandwidth-gbps") a.bandwidth_gbps = std::atof(v);
    else if (k == "--backend") a.backend = v;
    else if (k == "--budget-mib") a.budget_mib = uint64_t(std::atoll(v));
    else if (k == "--dtype") a.dtype = v;
    else usage("unknown flag " + k);
  }
  if (a.model.empty()) usage("--model is required");
  if (a.prompt < 1 || a.decode < 1 || a.batch < 1 || a.threads < 1) usage("--prompt, --decode, --batch, --threads must be >= 1");
  if (a.backend != "cpu" && a.backend != "cuda") usage("--backend must be cpu or cuda");
  return a;
}

double now_s() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

void check(sn_status s, const char* what) {
  if (s != SN_OK) {
    std::fprintf(stderr, "selectn-engine-bench: %s: %s\n", what, sn_last_error());
    std::exit(1);
  }
}

}  // namespace

int main(int argc, char** argv) {
  const Args a = parse(argc, argv);
  sn_runtime_config cfg;
  sn_runtime_config_default(&cfg);
  cfg.backend = a.backend == "cuda" ? SN_BACKEND_CUDA : SN_BACKEND_CPU;
  cfg.device_budget_bytes = (a.budget_mib ? a.budget_mib : 16384) << 20;
  cfg.staging_slots = 2;
  cfg.bandwidth_bytes_per_s = a.bandwidth_gbps * 1e9;
  sn_runtime* rt = nullptr;
  check(sn_runtime_create(&cfg, &rt), "runtime");
  // Layer count from a first parse of the config is done by the engine; offload every N-th.
  EngineOptions o;
  o.threads = a.threads;
  o.block_size = 16;
  o.scratch_tokens = std::max(a.prompt, a.batch);
  o.dtype = a.dtype;
  std::unique_ptr<Engine> e;
  const double t_load = now_s();
  try {
    e = Engine::load(a.model, rt, o);
    if (a.interval > 0) {
      std::vector<uint32_t> off;
      for (uint32_t i = 0; i < uint32_t(e->config().n_layers); ++i)
        if ((i + 1) % a.interval == 0) off.push_back(i);
      check(sn_offload_set(rt, off.data(), uint32_t(off.size()), a.interval), "offload set");
      check(sn_switch_wait(rt, 600000), "switch");
    }
  } catch (const EngineError& err) {
    std::fprintf(stderr, "selectn-engine-bench: %s\n", err.what());
    return 1;
  }
  const double load_s = now_s() - t_load;
  const int V = int(e->config().vocab_size), L = int(e->config().n_layers);
  const int ctx = a.prompt + a.decode;
  const int nb = (ctx + 15) / 16;
  std::vector<std::vector<uint32_t>> blocks(size_t(a.batch), std::vector<uint32_t>(size_t(nb)));
  for (auto& b : blocks) check(sn_kv_alloc(rt, uint32_t(nb), b.data()), "kv alloc");
  std::vector<int32_t> prompt(static_cast<size_t>(a.prompt));
  for (int i = 0; i < a.prompt; ++i) prompt[size_t(i)] = int32_t((i * 7919 + 13) % V);
  std::vector<float> logits(size_t(a.batch) * V);

  // Warm-up (first touch of scratch and KV memory), not timed; overwritten by the prefill below.
  {
    sn_seq_step st{prompt.data(), std::min(a.prompt, 8), 0, blocks[0].data(), nb, 0};
    e->step(&st, 1, logits.data(), nullptr);
  }
  // Prefill: one sequence per iteration, whole prompt (the batch's prompts one after another).
  const double t0 = now_s();
  for (int s = 0; s < a.batch; ++s) {
    sn_seq_step st{prompt.data(), a.prompt, 0, blocks[size_t(s)].data(), nb, 0};
    e->step(&st, 1, logits.data(), nullptr);
  }
  const double prefill_s = now_s() - t0;

  // Decode: batch sequences, one token each per iteration.
  std::vector<int32_t> tok(size_t(a.batch), 1);
  std::vector<sn_seq_step> steps(static_cast<size_t>(a.batch));
  double wall_us = 0, stall_us = 0, compute_us = 0, bw = 0;
  std::vector<double> layer_us(size_t(L), 0.0);
  const double t1 = now_s();
  for (int d = 0; d < a.decode; ++d) {
    for (int s = 0; s < a.batch; ++s) {
      tok[size_t(s)] = int32_t((d * 31 + s) % V);
      steps[size_t(s)] = sn_seq_step{&tok[size_t(s)], 1, a.prompt + d, blocks[size_t(s)].data(), nb, 0};
    }
    sn_iteration_telemetry tel{};
    e->step(steps.data(), a.batch, logits.data(), &tel);
    wall_us += tel.wall_us;
    stall_us += tel.stall_us;
    compute_us += tel.compute_us;
    bw = tel.bandwidth_ewma;
    for (int l = 0; l < L; ++l) layer_us[size_t(l)] += tel.layer_compute_us[l];
  }
  const double decode_s = now_s() - t1;
  std::printf("{\"model\":\"%s\",\"backend\":\"%s\",\"threads\":%d,\"layers\":%d,\"interval\":%u,"
              "\"bandwidthGbps\":%g,\"promptTokens\":%d,\"decodeSteps\":%d,\"batch\":%d,\"loadSeconds\":%.3f,"
              "\"prefillTokensPerSecond\":%.3f,\"decodeTokensPerSecond\":%.3f,\"decodeStepMs\":%.4f,"
              "\"meanStallMs\":%.4f,\"meanComputeMs\":%.4f,\"measuredBandwidthGBps\":%.4f,\"layerBytes\":%llu,\"dtype\":\"%s\","
              "\"layerComputeMs\":[",
              a.model.c_str(), a.backend.c_str(), a.threads, L, a.interval, a.bandwidth_gbps, a.prompt, a.decode,
              a.batch, load_s, a.batch * a.prompt / prefill_s, a.batch * a.decode / decode_s,
              1e3 * decode_s / a.decode, stall_us / 1e3 / a.decode, compute_us / 1e3 / a.decode, bw / 1e9,
              static_cast<unsigned long long>(e->layer_layout().bytes()), torch_dtype_name(e->layer_layout().dtype));
  for (int l = 0; l < L; ++l) std::printf("%s%.4f", l ? "," : "", layer_us[size_t(l)] / 1e3 / a.decode);
  std::printf("],\"meanWallMs\":%.4f}\n", wall_us / 1e3 / a.decode);
  for (auto& b : blocks) sn_kv_free(rt, b.data(), uint32_t(nb));
  e.reset();
  sn_runtime_destroy(rt);
  return 0;
}

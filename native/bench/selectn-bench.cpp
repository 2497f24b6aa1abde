// selectn-bench: measures the offload runtime without Node.
//   copy    copy-engine bandwidth vs the raw peak of the same copy pattern on the same machine
//           (memcpy on CPU; cudaMemcpyAsync from pinned memory on CUDA)
//   overlap iteration time with an offload set predicted hidden / time with nothing offloaded
//   sweep   per-layer compute times and iteration times over N, batch sizes and bandwidth budgets
// Writes one JSON document (stdout or --out FILE). Usage: selectn-bench --help
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "selectn/runtime.h"
#include "synthetic-compute.h"

#ifdef SELECTN_WITH_CUDA
#include <cuda_runtime.h>
#endif

namespace {

struct Args {
  std::string backend = "cpu";
  std::string out;
  uint32_t layers = 16;
  double layer_mib = 4.0;
  uint32_t slots = 2;
  std::vector<uint32_t> batches = {1, 4, 16};
  std::vector<uint32_t> intervals = {0, 8, 4, 3, 2, 1};
  std::vector<double> budget_fractions = {1.0, 0.5, 0.25};
  uint32_t iterations = 7;
  uint32_t warmup = 2;
  uint32_t overlap_batch = 0;  // 0 = largest batch
  uint32_t overlap_rounds = 5;
};

[[noreturn]] void die(const std::string& msg) {
  std::fprintf(stderr, "selectn-bench: %s\n", msg.c_str());
  std::exit(2);
}

void check(sn_status s, const char* what) {
  if (s != SN_OK) die(std::string(what) + ": " + sn_status_name(s) + ": " + sn_last_error());
}

template <typename T>
std::vector<T> parse_list(const std::string& flag, const std::string& v) {
  std::vector<T> out;
  std::stringstream ss(v);
  std::string item;
  while (std::getline(ss, item, ',')) {
    char* end = nullptr;
    const double d = std::strtod(item.c_str(), &end);
    if (item.empty() || *end != '\0' || d < 0) die(flag + ": bad list entry '" + item + "'");
    out.push_back(static_cast<T>(d));
  }
  if (out.empty()) die(flag + ": empty list");
  return out;
}

Args parse(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    const std::string k = argv[i];
    auto val = [&]() -> std::string {
      if (i + 1 >= argc) die(k + " needs a value");
      return argv[++i];
    };
    auto num = [&](double lo) {
      const std::string v = val();
      char* end = nullptr;
      const double d = std::strtod(v.c_str(), &end);
      if (v.empty() || *end != '\0' || d < lo) die(k + ": bad value '" + v + "'");
      return d;
    };
    if (k == "--help" || k == "-h") {
      std::printf(
          "selectn-bench [--backend cpu|cuda] [--out FILE] [--layers 16] [--layer-mib 4] [--slots 2]\n"
          "              [--batches 1,4,16] [--intervals 0,8,4,3,2,1] [--budget-fractions 1,0.5,0.25]\n"
          "              [--iterations 7] [--warmup 2] [--overlap-batch B] [--overlap-rounds 5] [--quick]\n"
          "interval 0 = nothing offloaded; budget fraction 1 = unlimited, f < 1 = f x measured copy bandwidth\n");
      std::exit(0);
    } else if (k == "--backend") {
      a.backend = val();
      if (a.backend != "cpu" && a.backend != "cuda") die("--backend must be cpu or cuda");
    } else if (k == "--out") {
      a.out = val();
    } else if (k == "--layers") {
      a.layers = static_cast<uint32_t>(num(2));
    } else if (k == "--layer-mib") {
      a.layer_mib = num(0.01);
    } else if (k == "--slots") {
      a.slots = static_cast<uint32_t>(num(1));
    } else if (k == "--batches") {
      a.batches = parse_list<uint32_t>(k, val());
    } else if (k == "--intervals") {
      a.intervals = parse_list<uint32_t>(k, val());
    } else if (k == "--budget-fractions") {
      a.budget_fractions = parse_list<double>(k, val());
    } else if (k == "--iterations") {
      a.iterations = static_cast<uint32_t>(num(1));
    } else if (k == "--warmup") {
      a.warmup = static_cast<uint32_t>(num(0));
    } else if (k == "--overlap-batch") {
      a.overlap_batch = static_cast<uint32_t>(num(1));
    } else if (k == "--overlap-rounds") {
      a.overlap_rounds = static_cast<uint32_t>(num(1));
    } else if (k == "--quick") {
      a.layers = 8;
      a.layer_mib = 1;
      a.batches = {1, 8};
      a.intervals = {0, 4, 2, 1};
      a.budget_fractions = {1.0, 0.5};
      a.iterations = 3;
      a.warmup = 1;
      a.overlap_rounds = 2;
    } else {
      die("unknown flag " + k + " (see --help)");
    }
  }
  for (uint32_t b : a.batches) {
    if (b == 0) die("--batches: batch must be >= 1");
  }
  for (double f : a.budget_fractions) {
    if (f <= 0 || f > 1) die("--budget-fractions: each must be in (0, 1]");
  }
  return a;
}

double now_s() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

double median(std::vector<double> v) {
  if (v.empty()) return 0.0;
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

std::vector<uint32_t> offload_set(uint32_t layers, uint32_t interval) {
  std::vector<uint32_t> s;
  if (interval == 0) return s;
  for (uint32_t i = interval - 1; i < layers; i += interval) s.push_back(i);
  return s;
}

// The latency model of DESIGN.md section 2 (same as the planner's): serial copy engine at `bw`
// bytes/us, S slots, a slot refilled only after its previous layer ran, a layer starts when its
// predecessor finished and its weights are complete. Returns the iteration time in us.
double predict_us(const std::vector<double>& compute_us, const std::vector<uint32_t>& set,
                  const std::vector<uint64_t>& bytes, double bytes_per_us, uint32_t slots) {
  const size_t L = compute_us.size();
  std::vector<int> stream_index(L, -1);
  for (size_t k = 0; k < set.size(); ++k) stream_index[set[k]] = static_cast<int>(k);
  std::vector<double> copy_done(set.size(), 0.0), release(set.size(), 0.0);
  double t = 0.0, copy_free = 0.0;
  size_t issued = 0;
  auto issue_until = [&](size_t k_needed) {
    while (issued <= k_needed && issued < set.size()) {
      const size_t k = issued;
      double start = copy_free;
      if (k >= slots) start = std::max(start, release[k - slots]);
      copy_done[k] = start + static_cast<double>(bytes[set[k]]) / bytes_per_us;
      copy_free = copy_done[k];
      ++issued;
    }
  };
  for (size_t i = 0; i < L; ++i) {
    if (stream_index[i] >= 0) {
      const size_t k = static_cast<size_t>(stream_index[i]);
      issue_until(k);
      t = std::max(t, copy_done[k]);
      t += compute_us[i];
      release[k] = t;
    } else {
      t += compute_us[i];
    }
  }
  return t;
}

struct Model {
  std::vector<uint64_t> bytes;
  std::vector<std::vector<float>> data;
};

struct Bench {
  Args args;
  sn_backend_kind kind = SN_BACKEND_CPU;
  Model model;
  sn_runtime* rt = nullptr;
  std::string device;

  void create_runtime() {
    sn_runtime_config cfg;
    sn_runtime_config_default(&cfg);
    cfg.backend = kind;
    uint64_t total = 0, maxb = 0;
    for (uint64_t b : model.bytes) {
      total += b;
      maxb = std::max(maxb, b);
    }
    cfg.device_budget_bytes = total + (args.slots + 2) * maxb + (64ull << 20);
    cfg.staging_slots = args.slots;
    check(sn_runtime_create(&cfg, &rt), "sn_runtime_create");
    sn_runtime_info info;
    check(sn_runtime_info_get(rt, &info), "info");
    device = info.device_name;
    check(sn_layers_declare(rt, args.layers, model.bytes.data()), "declare");
    std::vector<uint32_t> all = offload_set(args.layers, 1);
    check(sn_host_set(rt, all.data(), static_cast<uint32_t>(all.size())), "host set");
    check(sn_offload_set(rt, all.data(), static_cast<uint32_t>(all.size()), 1), "offload set");
    for (uint32_t i = 0; i < args.layers; ++i) {
      check(sn_layer_load(rt, i, model.data[i].data(), model.bytes[i]), "load");
    }
  }

  void set_interval(uint32_t interval) {
    std::vector<uint32_t> s = offload_set(args.layers, interval);
    check(sn_offload_set(rt, s.data(), static_cast<uint32_t>(s.size()), interval), "offload set");
    check(sn_bandwidth_set(rt, 0, 0), "bandwidth");
    check(sn_switch_wait(rt, 60000), "switch wait");
  }

  struct IterResult {
    double wall_us, stall_us, busy_us, bytes;
    std::vector<double> layer_us;
  };

  IterResult iterate(snb::SyntheticCompute* compute) {
    check(sn_iteration_begin(rt), "begin");
    for (uint32_t i = 0; i < args.layers; ++i) {
      void* w = nullptr;
      check(sn_layer_acquire(rt, i, &w), "acquire");
      if (compute != nullptr) compute->run(w, model.bytes[i]);
      check(sn_layer_release(rt, i), "release");
    }
    sn_iteration_telemetry t;
    check(sn_iteration_end(rt, &t), "end");
    IterResult r{t.wall_us, t.stall_us, t.copy_busy_us, static_cast<double>(t.bytes_copied), {}};
    r.layer_us.assign(t.layer_compute_us, t.layer_compute_us + t.n_layers);
    return r;
  }

  // Raw peak: the same pattern (each layer into slot k % S, in order) with plain copies on one
  // thread, no runtime in between.
  double raw_bytes_per_s() {
    uint64_t maxb = 0, total = 0;
    for (uint64_t b : model.bytes) {
      maxb = std::max(maxb, b);
      total += b;
    }
    std::vector<double> rates;
    if (kind == SN_BACKEND_CPU) {
      std::vector<std::vector<char>> slots(args.slots, std::vector<char>(maxb, 1));
      for (uint32_t rep = 0; rep < args.iterations + args.warmup; ++rep) {
        const double t0 = now_s();
        for (uint32_t i = 0; i < args.layers; ++i) {
          std::memcpy(slots[i % args.slots].data(), model.data[i].data(), model.bytes[i]);
        }
        const double dt = now_s() - t0;
        if (rep >= args.warmup) rates.push_back(static_cast<double>(total) / dt);
      }
      return median(rates);
    }
#ifdef SELECTN_WITH_CUDA
    std::vector<void*> host(args.layers, nullptr);
    std::vector<void*> dev(args.slots, nullptr);
    cudaStream_t s;
    cudaEvent_t a, b;
    if (cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking) != cudaSuccess) die("cudaStreamCreate");
    cudaEventCreate(&a);
    cudaEventCreate(&b);
    for (uint32_t i = 0; i < args.layers; ++i) {
      if (cudaHostAlloc(&host[i], model.bytes[i], cudaHostAllocPortable) != cudaSuccess) die("cudaHostAlloc");
      std::memcpy(host[i], model.data[i].data(), model.bytes[i]);
    }
    for (auto& d : dev) {
      if (cudaMalloc(&d, maxb) != cudaSuccess) die("cudaMalloc");
    }
    for (uint32_t rep = 0; rep < args.iterations + args.warmup; ++rep) {
      cudaEventRecord(a, s);
      for (uint32_t i = 0; i < args.layers; ++i) {
        cudaMemcpyAsync(dev[i % args.slots], host[i], model.bytes[i], cudaMemcpyHostToDevice, s);
      }
      cudaEventRecord(b, s);
      cudaEventSynchronize(b);
      float ms = 0;
      cudaEventElapsedTime(&ms, a, b);
      if (rep >= args.warmup) rates.push_back(static_cast<double>(total) / (ms * 1e-3));
    }
    for (void* h : host) cudaFreeHost(h);
    for (void* d : dev) cudaFree(d);
    cudaEventDestroy(a);
    cudaEventDestroy(b);
    cudaStreamDestroy(s);
    return median(rates);
#else
    die("cuda raw copy without CUDA build");
#endif
  }
};

std::string json_num(double v) {
  if (!std::isfinite(v)) return "null";
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.6g", v);
  return buf;
}

template <typename T>
std::string json_list(const std::vector<T>& v) {
  std::string s = "[";
  for (size_t i = 0; i < v.size(); ++i) {
    if (i) s += ",";
    s += json_num(static_cast<double>(v[i]));
  }
  return s + "]";
}

}  // namespace

int main(int argc, char** argv) {
  Bench b;
  b.args = parse(argc, argv);
  Args& a = b.args;
  b.kind = a.backend == "cuda" ? SN_BACKEND_CUDA : SN_BACKEND_CPU;
  if (!sn_backend_compiled(b.kind)) die("backend " + a.backend + " is not compiled into this build");
  const uint64_t row = snb::SyntheticCompute::kCols * sizeof(float);
  const uint64_t layer_bytes = std::max<uint64_t>(row, static_cast<uint64_t>(a.layer_mib * (1 << 20)) / row * row);
  uint32_t lcg = 7;
  for (uint32_t i = 0; i < a.layers; ++i) {
    b.model.bytes.push_back(layer_bytes);
    std::vector<float> w(layer_bytes / sizeof(float));
    for (float& x : w) {
      lcg = lcg * 1664525u + 1013904223u;
      x = static_cast<float>(lcg >> 8) * (2.0f / 16777216.0f) - 1.0f;  // uniform in [-1, 1)
    }
    b.model.data.push_back(std::move(w));
  }
  b.create_runtime();
  std::fprintf(stderr, "selectn-bench: %s on %s, %u layers x %.2f MiB, %u slots\n", a.backend.c_str(),
               b.device.c_str(), a.layers, static_cast<double>(layer_bytes) / (1 << 20), a.slots);

  // ---- 1. Copy bandwidth: engine (every layer streamed, no compute) vs raw pattern ----
  // Interleaved rounds (raw, then engine) so that load drift on a shared machine hits both.
  b.set_interval(1);
  std::vector<double> raw_rates, engine_rates, busy_rates, ratios;
  const uint32_t copy_rounds = std::max<uint32_t>(3, a.overlap_rounds);
  for (uint32_t round = 0; round < copy_rounds; ++round) {
    const double raw_round = b.raw_bytes_per_s();
    std::vector<double> eng_round;
    for (uint32_t rep = 0; rep < a.iterations + a.warmup; ++rep) {
      Bench::IterResult r = b.iterate(nullptr);
      if (rep >= a.warmup) {
        eng_round.push_back(r.bytes / (r.wall_us * 1e-6));
        if (r.busy_us > 0) busy_rates.push_back(r.bytes / (r.busy_us * 1e-6));
      }
    }
    raw_rates.push_back(raw_round);
    engine_rates.push_back(median(eng_round));
    ratios.push_back(median(eng_round) / raw_round);
  }
  const double raw = median(raw_rates);
  const double engine = median(engine_rates);
  const double copy_ratio = median(ratios);
  std::fprintf(stderr, "copy: raw %.2f GB/s, engine %.2f GB/s (ratio %.3f)\n", raw / 1e9, engine / 1e9, copy_ratio);

  // ---- 2. Profiles per batch (nothing offloaded) ----
  struct Profile {
    uint32_t batch;
    std::vector<double> layer_us;
    double iter_us;
  };
  std::vector<Profile> profiles;
  std::vector<std::unique_ptr<snb::SyntheticCompute>> computes;
  for (uint32_t batch : a.batches) {
    auto c = std::make_unique<snb::SyntheticCompute>();
    const std::string err = c->init(b.rt, b.kind, layer_bytes, batch);
    if (!err.empty()) die("synthetic compute: " + err);
    computes.push_back(std::move(c));
  }
  b.set_interval(0);
  for (size_t bi = 0; bi < a.batches.size(); ++bi) {
    std::vector<std::vector<double>> per_layer(a.layers);
    std::vector<double> iters;
    for (uint32_t rep = 0; rep < a.iterations + a.warmup; ++rep) {
      Bench::IterResult r = b.iterate(computes[bi].get());
      if (rep < a.warmup) continue;
      iters.push_back(r.wall_us);
      for (uint32_t i = 0; i < a.layers; ++i) per_layer[i].push_back(r.layer_us[i]);
    }
    Profile p{a.batches[bi], {}, median(iters)};
    for (auto& v : per_layer) p.layer_us.push_back(median(v));
    profiles.push_back(p);
  }

  // ---- 3. Overlap: the smallest N whose predicted copies are hidden at the overlap batch ----
  // "Hidden" with a margin: still hidden at 80% of the measured copy bandwidth, so that the chosen
  // set is not one whose last copy lands exactly when its layer starts (zero slack is not a plan
  // a runtime would choose, and it measures event jitter rather than overlap).
  const uint32_t ob = a.overlap_batch ? a.overlap_batch : *std::max_element(a.batches.begin(), a.batches.end());
  size_t obi = 0;
  for (size_t i = 0; i < a.batches.size(); ++i) {
    if (a.batches[i] == ob) obi = i;
  }
  if (a.batches[obi] != ob) die("--overlap-batch must be one of --batches");
  double compute_sum = 0.0;
  for (double c : profiles[obi].layer_us) compute_sum += c;
  constexpr double kHiddenMargin = 0.8;
  uint32_t overlap_n = 0;
  for (uint32_t n = 1; n <= a.layers; ++n) {
    const double pred = predict_us(profiles[obi].layer_us, offload_set(a.layers, n), b.model.bytes,
                                 kHiddenMargin * engine / 1e6, a.slots);
    if (pred <= compute_sum * 1.0001) {
      overlap_n = n;
      break;
    }
  }
  double overlap_ratio = 0.0;
  std::vector<double> base_iters, off_iters;
  if (overlap_n > 0) {
    for (uint32_t round = 0; round < a.overlap_rounds; ++round) {
      for (uint32_t n : {0u, overlap_n}) {
        b.set_interval(n);
        for (uint32_t rep = 0; rep < a.iterations + a.warmup; ++rep) {
          Bench::IterResult r = b.iterate(computes[obi].get());
          if (rep >= a.warmup) (n == 0 ? base_iters : off_iters).push_back(r.wall_us);
        }
      }
    }
    overlap_ratio = median(off_iters) / median(base_iters);
    std::fprintf(stderr, "overlap: N=%u at batch %u: %.1f us vs %.1f us (ratio %.4f)\n", overlap_n, ob,
                 median(off_iters), median(base_iters), overlap_ratio);
  } else {
    std::fprintf(stderr, "overlap: no interval hides its copies at batch %u\n", ob);
  }

  // ---- 4. Sweep: N x batch x bandwidth budget ----
  std::string sweep = "[";
  bool first = true;
  for (double frac : a.budget_fractions) {
    const double budget = frac >= 1.0 ? 0.0 : frac * engine;
    for (uint32_t n : a.intervals) {
      b.set_interval(n);
      check(sn_bandwidth_set(b.rt, budget, 0), "bandwidth");
      const std::vector<uint32_t> set = offload_set(a.layers, n);
      for (size_t bi = 0; bi < a.batches.size(); ++bi) {
        if (n == 0 && frac < 1.0) continue;  // nothing copied: the budget does not matter
        std::vector<double> iters, stalls, bw;
        std::vector<std::vector<double>> per_layer(a.layers);
        for (uint32_t rep = 0; rep < a.iterations + a.warmup; ++rep) {
          Bench::IterResult r = b.iterate(computes[bi].get());
          if (rep < a.warmup) continue;
          iters.push_back(r.wall_us);
          stalls.push_back(r.stall_us);
          if (r.busy_us > 0) bw.push_back(r.bytes / (r.busy_us * 1e-6));
          for (uint32_t i = 0; i < a.layers; ++i) per_layer[i].push_back(r.layer_us[i]);
        }
        std::vector<double> layer_med;
        for (auto& v : per_layer) layer_med.push_back(median(v));
        const double model_bw = budget > 0 ? budget : engine;
        const double pred = predict_us(profiles[bi].layer_us, set, b.model.bytes, model_bw / 1e6, a.slots);
        if (!first) sweep += ",";
        first = false;
        sweep += "\n    {\"interval\":" + std::to_string(n) + ",\"batch\":" + std::to_string(a.batches[bi]) +
                 ",\"bandwidthBudget\":" + json_num(budget) + ",\"modelBandwidth\":" + json_num(model_bw) +
                 ",\"offloadSet\":" + json_list(set) + ",\"iterationUs\":" + json_num(median(iters)) +
                 ",\"iterationsUs\":" + json_list(iters) + ",\"stallUs\":" + json_num(median(stalls)) +
                 ",\"achievedBandwidth\":" + json_num(median(bw)) + ",\"layerComputeUs\":" + json_list(layer_med) +
                 ",\"predictedUs\":" + json_num(pred) + "}";
      }
    }
  }
  sweep += "\n  ]";
  check(sn_bandwidth_set(b.rt, 0, 0), "bandwidth");

  double sink = 0.0;
  for (auto& c : computes) sink += c->sink();
  computes.clear();
  sn_runtime_destroy(b.rt);

  std::string profiles_json = "[";
  for (size_t i = 0; i < profiles.size(); ++i) {
    if (i) profiles_json += ",";
    profiles_json += "\n    {\"batch\":" + std::to_string(profiles[i].batch) + ",\"layerComputeUs\":" +
                     json_list(profiles[i].layer_us) + ",\"iterationUs\":" + json_num(profiles[i].iter_us) + "}";
  }
  profiles_json += "\n  ]";
  std::string doc = "{\n  \"tool\": \"selectn-bench\",\n  \"backend\": \"" + a.backend + "\",\n  \"device\": \"" +
                    b.device + "\",\n  \"layers\": " + std::to_string(a.layers) + ",\n  \"layerBytes\": " +
                    std::to_string(layer_bytes) + ",\n  \"stagingSlots\": " + std::to_string(a.slots) +
                    ",\n  \"rawCopyBytesPerS\": " + json_num(raw) + ",\n  \"engineCopyBytesPerS\": " + json_num(engine) +
                    ",\n  \"engineBusyBytesPerS\": " + json_num(median(busy_rates)) +
                    ",\n  \"copyBandwidthRatio\": " + json_num(copy_ratio) + ",\n  \"overlap\": {\"batch\": " +
                    std::to_string(ob) + ", \"interval\": " + std::to_string(overlap_n) + ", \"baselineUs\": " +
                    json_num(median(base_iters)) + ", \"offloadedUs\": " + json_num(median(off_iters)) +
                    ", \"ratio\": " + json_num(overlap_ratio) + "},\n  \"overlapRatio\": " + json_num(overlap_ratio) +
                    ",\n  \"profiles\": " + profiles_json + ",\n  \"sweep\": " + sweep + ",\n  \"checksum\": " +
                    json_num(sink) + "\n}\n";
  if (a.out.empty()) {
    std::fputs(doc.c_str(), stdout);
  } else {
    FILE* f = std::fopen(a.out.c_str(), "w");
    if (f == nullptr) die("cannot write " + a.out);
    std::fputs(doc.c_str(), f);
    std::fclose(f);
  }
  return 0;
}

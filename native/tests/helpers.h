// Test helpers: a CPU runtime with L layers of deterministic random bytes, and a checksum.
#ifndef SELECTN_TEST_HELPERS_H
#define SELECTN_TEST_HELPERS_H

#include <gtest/gtest.h>

#include <cstdint>
#include <algorithm>
#include <cstring>
#include <random>
#include <vector>

#include "selectn/runtime.h"

namespace sn_test {

inline uint64_t fnv1a(const void* p, uint64_t n) {
  const auto* b = static_cast<const unsigned char*>(p);
  uint64_t h = 1469598103934665603ull;
  for (uint64_t i = 0; i < n; ++i) {
    h ^= b[i];
    h *= 1099511628211ull;
  }
  return h;
}

#define SN_OK_OR_FAIL(call) ASSERT_EQ((call), SN_OK) << sn_last_error()

struct Model {
  std::vector<uint64_t> bytes;
  std::vector<std::vector<unsigned char>> data;
  std::vector<uint64_t> sums;

  Model(uint32_t layers, uint64_t min_bytes, uint64_t max_bytes, uint32_t seed) {
    std::mt19937_64 rng(seed);
    std::uniform_int_distribution<uint64_t> size(min_bytes, max_bytes);
    for (uint32_t i = 0; i < layers; ++i) {
      bytes.push_back(size(rng));
      std::vector<unsigned char> d(bytes.back());
      for (size_t k = 0; k < d.size(); k += 8) {
        const uint64_t r = rng();
        std::memcpy(d.data() + k, &r, std::min<size_t>(8, d.size() - k));
      }
      sums.push_back(fnv1a(d.data(), d.size()));
      data.push_back(std::move(d));
    }
  }
  uint32_t layers() const { return static_cast<uint32_t>(bytes.size()); }
  uint64_t total() const {
    uint64_t t = 0;
    for (uint64_t b : bytes) t += b;
    return t;
  }
};

struct RuntimeGuard {
  sn_runtime* rt = nullptr;
  ~RuntimeGuard() { sn_runtime_destroy(rt); }
};

inline sn_runtime_config cpu_config(uint64_t budget, uint32_t slots) {
  sn_runtime_config cfg;
  sn_runtime_config_default(&cfg);
  cfg.device_budget_bytes = budget;
  cfg.staging_slots = slots;
  cfg.copy_chunk_bytes = 64 << 10;
  return cfg;
}

// Declares, sets the host set and the offload set, and loads every layer.
inline void setup_model(sn_runtime* rt, const Model& m, const std::vector<uint32_t>& host,
                        const std::vector<uint32_t>& offload, uint32_t interval) {
  SN_OK_OR_FAIL(sn_layers_declare(rt, m.layers(), m.bytes.data()));
  SN_OK_OR_FAIL(sn_host_set(rt, host.data(), static_cast<uint32_t>(host.size())));
  SN_OK_OR_FAIL(sn_offload_set(rt, offload.data(), static_cast<uint32_t>(offload.size()), interval));
  for (uint32_t i = 0; i < m.layers(); ++i) {
    SN_OK_OR_FAIL(sn_layer_load(rt, i, m.data[i].data(), m.bytes[i]));
  }
}

// One forward pass: acquires every layer in order and checks its bytes against the host copy.
inline void run_iteration(sn_runtime* rt, const Model& m, sn_iteration_telemetry* t = nullptr) {
  SN_OK_OR_FAIL(sn_iteration_begin(rt));
  for (uint32_t i = 0; i < m.layers(); ++i) {
    void* w = nullptr;
    SN_OK_OR_FAIL(sn_layer_acquire(rt, i, &w));
    ASSERT_EQ(fnv1a(w, m.bytes[i]), m.sums[i]) << "layer " << i << " bytes differ from host copy";
    SN_OK_OR_FAIL(sn_layer_release(rt, i));
  }
  sn_iteration_telemetry local;
  SN_OK_OR_FAIL(sn_iteration_end(rt, t != nullptr ? t : &local));
}

inline std::vector<uint32_t> every_nth(uint32_t layers, uint32_t n) {
  std::vector<uint32_t> out;
  for (uint32_t i = n - 1; i < layers; i += n) out.push_back(i);
  return out;
}

}  // namespace sn_test

#endif  // SELECTN_TEST_HELPERS_H

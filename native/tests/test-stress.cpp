// Stress: random iterations, interval switches (nested sets), budget changes, slot counts and KV
// churn; every layer's bytes are checked against the host copy every time they are used.
#include <gtest/gtest.h>

#include <random>

#include "helpers.h"

using namespace sn_test;

namespace {
// Nested family: the set for a larger N is a subset of the set for a smaller N.
std::vector<uint32_t> nested_set(uint32_t layers, uint32_t n) {
  if (n == 0) return {};
  return every_nth(layers, n);
}
}  // namespace

TEST(Stress, RandomIterationsSwitchesAndBudgets) {
  const uint32_t L = 12;
  Model m(L, 16 << 10, 96 << 10, 21);
  RuntimeGuard g;
  sn_runtime_config cfg = cpu_config(4 << 20, 2);
  cfg.copy_chunk_bytes = 8 << 10;
  SN_OK_OR_FAIL(sn_runtime_create(&cfg, &g.rt));
  const std::vector<uint32_t> host = nested_set(L, 1);
  setup_model(g.rt, m, host, nested_set(L, 2), 2);
  SN_OK_OR_FAIL(sn_kv_configure(g.rt, 32 << 10));
  std::mt19937 rng(1234);
  std::vector<uint32_t> kv;
  uint64_t verified = 0;
  for (int step = 0; step < 400; ++step) {
    const int action = static_cast<int>(rng() % 10);
    if (action == 0) {
      const uint32_t n = rng() % 5;  // 0 = nothing offloaded
      const std::vector<uint32_t> set = nested_set(L, n);
      SN_OK_OR_FAIL(sn_offload_set(g.rt, set.data(), static_cast<uint32_t>(set.size()), n));
    } else if (action == 1) {
      const double rates[] = {0.0, 64.0 * (1 << 20), 512.0 * (1 << 20)};
      SN_OK_OR_FAIL(sn_bandwidth_set(g.rt, rates[rng() % 3], 0));
    } else if (action == 2) {
      SN_OK_OR_FAIL(sn_staging_set_slots(g.rt, 1 + rng() % 3));
    } else if (action == 3) {
      uint32_t id = 0;
      const sn_status s = sn_kv_alloc(g.rt, 1, &id);
      ASSERT_TRUE(s == SN_OK || s == SN_ERR_NO_DEVICE_ROOM) << sn_last_error();
      if (s == SN_OK) kv.push_back(id);
    } else if (action == 4 && !kv.empty()) {
      const size_t k = rng() % kv.size();
      SN_OK_OR_FAIL(sn_kv_free(g.rt, &kv[k], 1));
      kv.erase(kv.begin() + static_cast<long>(k));
    } else {
      // An iteration; on "no room for slots", free KV like a policy would, and retry.
      sn_status s = sn_iteration_begin(g.rt);
      while (s == SN_ERR_NO_DEVICE_ROOM && !kv.empty()) {
        SN_OK_OR_FAIL(sn_kv_free(g.rt, &kv.back(), 1));
        kv.pop_back();
        s = sn_iteration_begin(g.rt);
      }
      ASSERT_EQ(s, SN_OK) << sn_last_error();
      // Sometimes change the target mid-iteration.
      if (rng() % 4 == 0) {
        const uint32_t n = rng() % 5;
        const std::vector<uint32_t> set = nested_set(L, n);
        SN_OK_OR_FAIL(sn_offload_set(g.rt, set.data(), static_cast<uint32_t>(set.size()), n));
      }
      for (uint32_t i = 0; i < L; ++i) {
        void* w = nullptr;
        SN_OK_OR_FAIL(sn_layer_acquire(g.rt, i, &w));
        ASSERT_EQ(fnv1a(w, m.bytes[i]), m.sums[i]) << "step " << step << " layer " << i;
        ++verified;
        SN_OK_OR_FAIL(sn_layer_release(g.rt, i));
      }
      sn_iteration_telemetry t;
      SN_OK_OR_FAIL(sn_iteration_end(g.rt, &t));
      ASSERT_LE(t.device_used_bytes, t.device_budget_bytes);
    }
    // Accounting invariant: per-tag bytes add up to the used bytes.
    sn_pool_stats ps;
    SN_OK_OR_FAIL(sn_pool_stats_get(g.rt, &ps));
    ASSERT_EQ(ps.weights_bytes + ps.staging_bytes + ps.kv_bytes + ps.scratch_bytes, ps.used_bytes);
    ASSERT_EQ(ps.kv_blocks_used, kv.size());
  }
  EXPECT_GT(verified, 1000u);
  // Drain to a final switch and verify once more.
  SN_OK_OR_FAIL(sn_bandwidth_set(g.rt, 0, 0));
  while (!kv.empty()) {
    SN_OK_OR_FAIL(sn_kv_free(g.rt, &kv.back(), 1));
    kv.pop_back();
  }
  SN_OK_OR_FAIL(sn_switch_wait(g.rt, 20000));
  run_iteration(g.rt, m);
}

// Interval switching between iterations on the CPU backend.
#include <gtest/gtest.h>

#include "helpers.h"

using namespace sn_test;

namespace {
sn_switch_state state(sn_runtime* rt) {
  sn_switch_state s;
  EXPECT_EQ(sn_switch_state_get(rt, &s), SN_OK);
  return s;
}
sn_pool_stats pool(sn_runtime* rt) {
  sn_pool_stats s;
  EXPECT_EQ(sn_pool_stats_get(rt, &s), SN_OK);
  return s;
}
}  // namespace

TEST(Switching, LoweringNReleasesAtOnce) {
  Model m(8, 100000, 100000, 11);
  RuntimeGuard g;
  sn_runtime_config cfg = cpu_config(2 << 20, 2);
  SN_OK_OR_FAIL(sn_runtime_create(&cfg, &g.rt));
  const std::vector<uint32_t> n2 = every_nth(8, 2), n4 = every_nth(8, 4);
  setup_model(g.rt, m, n2, n4, 4);
  run_iteration(g.rt, m);
  const uint64_t before = pool(g.rt).weights_bytes;
  SN_OK_OR_FAIL(sn_offload_set(g.rt, n2.data(), 4, 2));
  EXPECT_EQ(pool(g.rt).weights_bytes, before - 2 * 100096) << "two more layers released";
  const sn_switch_state s = state(g.rt);
  EXPECT_EQ(s.active_interval, 2u);
  EXPECT_EQ(s.pending, 0u);
  EXPECT_EQ(s.active_offloaded, 4u);
  sn_iteration_telemetry t;
  run_iteration(g.rt, m, &t);
  EXPECT_EQ(t.interval, 2u);
  EXPECT_EQ(t.offloaded_layers, 4u);
}

TEST(Switching, LoweringDuringAnIterationWaitsForItsEnd) {
  Model m(4, 50000, 50000, 12);
  RuntimeGuard g;
  sn_runtime_config cfg = cpu_config(2 << 20, 1);
  SN_OK_OR_FAIL(sn_runtime_create(&cfg, &g.rt));
  setup_model(g.rt, m, {0, 1, 2, 3}, {}, 0);
  SN_OK_OR_FAIL(sn_iteration_begin(g.rt));
  void* w = nullptr;
  SN_OK_OR_FAIL(sn_layer_acquire(g.rt, 0, &w));
  const uint32_t all[] = {0, 1, 2, 3};
  SN_OK_OR_FAIL(sn_offload_set(g.rt, all, 4, 1));
  // Still resident and intact while the iteration runs.
  EXPECT_EQ(fnv1a(w, m.bytes[0]), m.sums[0]);
  EXPECT_EQ(state(g.rt).pending, 1u);
  for (uint32_t i = 1; i < 4; ++i) {
    void* p = nullptr;
    SN_OK_OR_FAIL(sn_layer_release(g.rt, i - 1));
    SN_OK_OR_FAIL(sn_layer_acquire(g.rt, i, &p));
    EXPECT_EQ(fnv1a(p, m.bytes[i]), m.sums[i]);
  }
  SN_OK_OR_FAIL(sn_layer_release(g.rt, 3));
  sn_iteration_telemetry t;
  SN_OK_OR_FAIL(sn_iteration_end(g.rt, &t));
  EXPECT_EQ(t.interval, 0u) << "the iteration ran with the old set";
  EXPECT_EQ(t.offloaded_layers, 0u);
  EXPECT_EQ(state(g.rt).active_interval, 1u);
  EXPECT_EQ(pool(g.rt).weights_bytes, 0u);
  run_iteration(g.rt, m, &t);
  EXPECT_EQ(t.offloaded_layers, 4u);
}

TEST(Switching, RaisingNCopiesInBackgroundWithoutStallingIterations) {
  Model m(8, 256 << 10, 256 << 10, 13);
  RuntimeGuard g;
  sn_runtime_config cfg = cpu_config(8 << 20, 2);
  // Slow budget so the background copy spans several iterations.
  cfg.bandwidth_bytes_per_s = 8.0 * (1 << 20);
  cfg.copy_chunk_bytes = 32 << 10;
  SN_OK_OR_FAIL(sn_runtime_create(&cfg, &g.rt));
  const std::vector<uint32_t> n1 = every_nth(8, 1), n4 = every_nth(8, 4);
  setup_model(g.rt, m, n1, n1, 1);
  SN_OK_OR_FAIL(sn_bandwidth_set(g.rt, 0, 0));
  run_iteration(g.rt, m);
  SN_OK_OR_FAIL(sn_bandwidth_set(g.rt, 8.0 * (1 << 20), 32 << 10));
  // Raise N to 4: six layers must come back (1.5 MiB at 8 MiB/s ~ 190 ms).
  SN_OK_OR_FAIL(sn_offload_set(g.rt, n4.data(), 2, 4));
  sn_switch_state s = state(g.rt);
  EXPECT_EQ(s.pending, 1u);
  EXPECT_EQ(s.active_interval, 1u);
  EXPECT_EQ(s.layers_copying, 6u);
  EXPECT_GT(pool(g.rt).weights_bytes, 0u) << "destination memory is reserved up front";
  SN_OK_OR_FAIL(sn_bandwidth_set(g.rt, 0, 0));
  // Iterations keep running on the old set (8 streamed layers) and stay correct.
  sn_iteration_telemetry t;
  run_iteration(g.rt, m, &t);
  if (t.switch_pending) {
    EXPECT_EQ(t.interval, 1u);
  }
  SN_OK_OR_FAIL(sn_switch_wait(g.rt, 10000));
  s = state(g.rt);
  EXPECT_EQ(s.pending, 0u);
  EXPECT_EQ(s.active_interval, 4u);
  EXPECT_EQ(s.active_offloaded, 2u);
  run_iteration(g.rt, m, &t);
  EXPECT_EQ(t.interval, 4u);
  EXPECT_EQ(t.offloaded_layers, 2u);
  EXPECT_EQ(t.bytes_copied, 2u * (256 << 10));
}

TEST(Switching, SwitchIsAtomicAndBackgroundYieldsToStaging) {
  Model m(6, 128 << 10, 128 << 10, 14);
  RuntimeGuard g;
  sn_runtime_config cfg = cpu_config(8 << 20, 1);
  cfg.copy_chunk_bytes = 16 << 10;
  SN_OK_OR_FAIL(sn_runtime_create(&cfg, &g.rt));
  const std::vector<uint32_t> all = every_nth(6, 1), half = every_nth(6, 2);
  setup_model(g.rt, m, all, all, 1);
  SN_OK_OR_FAIL(sn_bandwidth_set(g.rt, 8.0 * (1 << 20), 16 << 10));
  SN_OK_OR_FAIL(sn_offload_set(g.rt, half.data(), 3, 2));
  // While copies run, every iteration is on the complete old set (interval 1) or the complete
  // new one (interval 2), never a mix.
  int iterations = 0;
  for (; iterations < 200; ++iterations) {
    sn_iteration_telemetry t;
    run_iteration(g.rt, m, &t);
    ASSERT_TRUE((t.interval == 1 && t.offloaded_layers == 6) ||
                (t.interval == 2 && t.offloaded_layers == 3))
        << "interval " << t.interval << " with " << t.offloaded_layers << " streamed";
    if (t.interval == 2) break;
  }
  EXPECT_GT(iterations, 0) << "384 KiB at 8 MiB/s cannot finish before the first iteration";
  EXPECT_LT(iterations, 200);
}

TEST(Switching, RaisingNWaitsForDeviceRoomThenCompletes) {
  Model m(4, 200000, 200000, 15);
  RuntimeGuard g;
  sn_runtime_config cfg = cpu_config(1 << 20, 1);
  SN_OK_OR_FAIL(sn_runtime_create(&cfg, &g.rt));
  const std::vector<uint32_t> all = every_nth(4, 1);
  setup_model(g.rt, m, all, all, 1);
  run_iteration(g.rt, m);  // staging slot allocated
  SN_OK_OR_FAIL(sn_kv_configure(g.rt, 100000));
  // Fill the pool with KV blocks.
  std::vector<uint32_t> ids;
  for (;;) {
    uint32_t id = 0;
    if (sn_kv_alloc(g.rt, 1, &id) != SN_OK) break;
    ids.push_back(id);
  }
  ASSERT_GE(ids.size(), 4u);
  SN_OK_OR_FAIL(sn_offload_set(g.rt, nullptr, 0, 0));
  sn_switch_state s = state(g.rt);
  EXPECT_EQ(s.layers_blocked, 4u);
  EXPECT_EQ(sn_switch_wait(g.rt, 100), SN_ERR_NO_DEVICE_ROOM);
  run_iteration(g.rt, m);  // the old set keeps running
  // Policy frees KV blocks: the switch proceeds.
  SN_OK_OR_FAIL(sn_kv_free(g.rt, ids.data(), static_cast<uint32_t>(ids.size())));
  SN_OK_OR_FAIL(sn_switch_wait(g.rt, 10000));
  s = state(g.rt);
  EXPECT_EQ(s.active_interval, 0u);
  EXPECT_EQ(s.active_offloaded, 0u);
  sn_iteration_telemetry t;
  run_iteration(g.rt, m, &t);
  EXPECT_EQ(t.offloaded_layers, 0u);
  EXPECT_EQ(t.device_staging_bytes, 0u) << "slots go back to the pool when nothing streams";
}

TEST(Switching, ChangingTargetMidCopyAbandonsUnwantedCopies) {
  Model m(6, 256 << 10, 256 << 10, 16);
  RuntimeGuard g;
  sn_runtime_config cfg = cpu_config(8 << 20, 2);
  cfg.copy_chunk_bytes = 16 << 10;
  SN_OK_OR_FAIL(sn_runtime_create(&cfg, &g.rt));
  const std::vector<uint32_t> all = every_nth(6, 1), half = every_nth(6, 2);
  setup_model(g.rt, m, all, all, 1);
  SN_OK_OR_FAIL(sn_bandwidth_set(g.rt, 2.0 * (1 << 20), 16 << 10));
  SN_OK_OR_FAIL(sn_offload_set(g.rt, nullptr, 0, 0));   // bring everything back...
  SN_OK_OR_FAIL(sn_offload_set(g.rt, half.data(), 3, 2));  // ...no, only half
  SN_OK_OR_FAIL(sn_bandwidth_set(g.rt, 0, 0));
  SN_OK_OR_FAIL(sn_switch_wait(g.rt, 10000));
  // Abandoned copies are freed once they finish.
  for (int i = 0; i < 100 && pool(g.rt).weights_bytes != 3u * (256 << 10); ++i) {
    SN_OK_OR_FAIL(sn_switch_poll(g.rt, nullptr));
    run_iteration(g.rt, m);
  }
  EXPECT_EQ(pool(g.rt).weights_bytes, 3u * (256 << 10));
  sn_iteration_telemetry t;
  run_iteration(g.rt, m, &t);
  EXPECT_EQ(t.interval, 2u);
  EXPECT_EQ(t.offloaded_layers, 3u);
}

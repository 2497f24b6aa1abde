// Runtime on the CPU backend: placement, slot reuse, pool accounting, telemetry, error paths.
#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <string>

#include "helpers.h"

using namespace sn_test;

static uint64_t DevicePoolAligned(uint64_t b) { return (b + 255) / 256 * 256; }

namespace {

uint64_t rss_bytes() {
  std::ifstream f("/proc/self/statm");
  uint64_t size = 0, resident = 0;
  f >> size >> resident;
  return resident * static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
}

}  // namespace

TEST(Runtime, AllResidentIterationHasNoCopies) {
  Model m(6, 10000, 50000, 1);
  RuntimeGuard g;
  sn_runtime_config cfg = cpu_config(4 << 20, 2);
  SN_OK_OR_FAIL(sn_runtime_create(&cfg, &g.rt));
  setup_model(g.rt, m, {}, {}, 0);
  sn_iteration_telemetry t;
  run_iteration(g.rt, m, &t);
  EXPECT_EQ(t.iteration, 1u);
  EXPECT_EQ(t.offloaded_layers, 0u);
  EXPECT_EQ(t.bytes_copied, 0u);
  EXPECT_EQ(t.stall_us, 0.0);
  EXPECT_EQ(t.device_staging_bytes, 0u) << "no slots while nothing is offloaded";
  EXPECT_GE(t.device_weights_bytes, m.total());
  EXPECT_EQ(t.n_layers, 6u);
}

TEST(Runtime, StreamsOffloadedLayersThroughSlots) {
  for (uint32_t slots : {1u, 2u, 3u}) {
    Model m(9, 20000, 80000, 2 + slots);
    RuntimeGuard g;
    sn_runtime_config cfg = cpu_config(4 << 20, slots);
    SN_OK_OR_FAIL(sn_runtime_create(&cfg, &g.rt));
    const std::vector<uint32_t> set = every_nth(9, 2);  // 1,3,5,7
    setup_model(g.rt, m, set, set, 2);
    uint64_t streamed = 0;
    for (uint32_t i : set) streamed += m.bytes[i];
    for (int it = 0; it < 3; ++it) {
      sn_iteration_telemetry t;
      run_iteration(g.rt, m, &t);
      EXPECT_EQ(t.interval, 2u);
      EXPECT_EQ(t.offloaded_layers, 4u);
      EXPECT_EQ(t.bytes_copied, streamed);
      EXPECT_GT(t.copy_busy_us, 0.0);
      EXPECT_GT(t.bandwidth_bytes_per_s, 0.0);
      EXPECT_GT(t.bandwidth_ewma, 0.0);
      EXPECT_GT(t.bandwidth_p10, 0.0);
      EXPECT_EQ(t.staging_slots, slots);
      EXPECT_GT(t.device_staging_bytes, 0u);
      EXPECT_EQ(t.host_used_bytes, streamed);
      for (uint32_t i = 0; i < 9; ++i) EXPECT_GE(t.layer_compute_us[i], 0.0);
    }
  }
}

TEST(Runtime, SlotIsRefilledOnlyAfterRelease) {
  Model m(4, 4096, 4096, 3);
  RuntimeGuard g;
  sn_runtime_config cfg = cpu_config(1 << 20, 1);
  SN_OK_OR_FAIL(sn_runtime_create(&cfg, &g.rt));
  setup_model(g.rt, m, {0, 1, 2, 3}, {0, 1, 2, 3}, 1);
  SN_OK_OR_FAIL(sn_iteration_begin(g.rt));
  void* w0 = nullptr;
  void* w1 = nullptr;
  SN_OK_OR_FAIL(sn_layer_acquire(g.rt, 0, &w0));
  // With one slot, layer 1 cannot be staged before layer 0 is released.
  EXPECT_EQ(sn_layer_acquire(g.rt, 1, &w1), SN_ERR_STATE);
  EXPECT_NE(std::string(sn_last_error()).find("release layer 0"), std::string::npos) << sn_last_error();
  // Layer 0's bytes are still intact while held.
  usleep(2000);
  EXPECT_EQ(fnv1a(w0, 4096), m.sums[0]);
  SN_OK_OR_FAIL(sn_layer_release(g.rt, 0));
  SN_OK_OR_FAIL(sn_layer_acquire(g.rt, 1, &w1));
  EXPECT_EQ(w1, w0) << "one slot is reused";
  EXPECT_EQ(fnv1a(w1, 4096), m.sums[1]);
  SN_OK_OR_FAIL(sn_layer_release(g.rt, 1));
  // Out of order: layer 3 before layer 2.
  void* w3 = nullptr;
  EXPECT_EQ(sn_layer_acquire(g.rt, 3, &w3), SN_ERR_STATE);
  EXPECT_NE(std::string(sn_last_error()).find("layer order"), std::string::npos);
  sn_iteration_telemetry t;
  SN_OK_OR_FAIL(sn_iteration_end(g.rt, &t));  // skipping layers 2,3 is allowed; copies drain
  run_iteration(g.rt, m);
}

TEST(Runtime, IterationStateErrors) {
  Model m(3, 1000, 1000, 4);
  RuntimeGuard g;
  sn_runtime_config cfg = cpu_config(1 << 20, 2);
  SN_OK_OR_FAIL(sn_runtime_create(&cfg, &g.rt));
  void* p = nullptr;
  EXPECT_EQ(sn_iteration_begin(g.rt), SN_ERR_STATE);
  EXPECT_NE(std::string(sn_last_error()).find("sn_layers_declare"), std::string::npos);
  SN_OK_OR_FAIL(sn_layers_declare(g.rt, m.layers(), m.bytes.data()));
  EXPECT_EQ(sn_layers_declare(g.rt, m.layers(), m.bytes.data()), SN_ERR_STATE);
  EXPECT_EQ(sn_iteration_begin(g.rt), SN_ERR_STATE) << "layers not loaded";
  EXPECT_EQ(sn_layer_load(g.rt, 0, m.data[0].data(), 999), SN_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(std::string(sn_last_error()), "layer 0 has 1000 bytes, got 999");
  EXPECT_EQ(sn_layer_load(g.rt, 5, m.data[0].data(), 1000), SN_ERR_INVALID_ARGUMENT);
  for (uint32_t i = 0; i < 3; ++i) SN_OK_OR_FAIL(sn_layer_load(g.rt, i, m.data[i].data(), 1000));
  EXPECT_EQ(sn_layer_acquire(g.rt, 0, &p), SN_ERR_STATE);
  SN_OK_OR_FAIL(sn_iteration_begin(g.rt));
  EXPECT_EQ(sn_iteration_begin(g.rt), SN_ERR_STATE);
  EXPECT_EQ(sn_layer_release(g.rt, 0), SN_ERR_STATE) << "release without acquire";
  SN_OK_OR_FAIL(sn_layer_acquire(g.rt, 0, &p));
  EXPECT_EQ(sn_layer_acquire(g.rt, 0, &p), SN_ERR_STATE);
  EXPECT_EQ(sn_layer_load(g.rt, 1, m.data[1].data(), 1000), SN_ERR_STATE);
  EXPECT_EQ(sn_iteration_end(g.rt, nullptr), SN_ERR_STATE) << "acquired, not released";
  SN_OK_OR_FAIL(sn_layer_release(g.rt, 0));
  EXPECT_EQ(sn_layer_release(g.rt, 0), SN_ERR_STATE);
  SN_OK_OR_FAIL(sn_iteration_end(g.rt, nullptr));
  EXPECT_EQ(sn_iteration_end(g.rt, nullptr), SN_ERR_STATE);
}

TEST(Runtime, ArgumentErrors) {
  EXPECT_EQ(sn_iteration_begin(nullptr), SN_ERR_INVALID_ARGUMENT);
  sn_runtime* rt = nullptr;
  EXPECT_EQ(sn_runtime_create(nullptr, &rt), SN_ERR_INVALID_ARGUMENT);
  sn_runtime_config cfg = cpu_config(0, 2);
  EXPECT_EQ(sn_runtime_create(&cfg, &rt), SN_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(std::string(sn_last_error()), "device_budget_bytes must be > 0");
  cfg = cpu_config(1 << 20, 0);
  EXPECT_EQ(sn_runtime_create(&cfg, &rt), SN_ERR_INVALID_ARGUMENT);
  cfg = cpu_config(1 << 20, 1);
  cfg.bandwidth_bytes_per_s = -1;
  EXPECT_EQ(sn_runtime_create(&cfg, &rt), SN_ERR_INVALID_ARGUMENT);
  cfg.bandwidth_bytes_per_s = 0;
  cfg.backend = static_cast<sn_backend_kind>(9);
  EXPECT_EQ(sn_runtime_create(&cfg, &rt), SN_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(rt, nullptr);
  EXPECT_STREQ(sn_status_name(SN_ERR_NO_DEVICE_ROOM), "SN_ERR_NO_DEVICE_ROOM");

  Model m(4, 1000, 1000, 5);
  RuntimeGuard g;
  cfg = cpu_config(1 << 20, 1);
  SN_OK_OR_FAIL(sn_runtime_create(&cfg, &g.rt));
  const uint64_t zero[] = {0};
  EXPECT_EQ(sn_layers_declare(g.rt, 1, zero), SN_ERR_INVALID_ARGUMENT);
  SN_OK_OR_FAIL(sn_layers_declare(g.rt, m.layers(), m.bytes.data()));
  const uint32_t host[] = {1, 3};
  SN_OK_OR_FAIL(sn_host_set(g.rt, host, 2));
  const uint32_t bad[] = {1, 2};
  EXPECT_EQ(sn_offload_set(g.rt, bad, 2, 2), SN_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(std::string(sn_last_error()), "offload set: layer 2 is not in the host set");
  const uint32_t dup[] = {3, 3};
  EXPECT_EQ(sn_host_set(g.rt, dup, 2), SN_ERR_INVALID_ARGUMENT);
  SN_OK_OR_FAIL(sn_offload_set(g.rt, host, 2, 2));
  const uint32_t shrink[] = {1};
  EXPECT_EQ(sn_host_set(g.rt, shrink, 1), SN_ERR_INVALID_ARGUMENT) << "host set must keep layer 3";
  EXPECT_EQ(sn_bandwidth_set(g.rt, -5, 0), SN_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(sn_staging_set_slots(g.rt, 0), SN_ERR_INVALID_ARGUMENT);
  void* p = nullptr;
  EXPECT_EQ(sn_device_alloc(g.rt, 0, &p), SN_ERR_INVALID_ARGUMENT);
  int x = 0;
  EXPECT_EQ(sn_device_free(g.rt, &x), SN_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(sn_device_upload(g.rt, &x, &x, sizeof(x)), SN_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(sn_kv_alloc(g.rt, 1, reinterpret_cast<uint32_t*>(&x)), SN_ERR_STATE);
}

TEST(Runtime, HostPoolErrorsAreCodesNotCrashes) {
  RuntimeGuard g;
  sn_runtime_config cfg = cpu_config(1 << 20, 1);
  cfg.host_pool_limit_bytes = 10000;
  SN_OK_OR_FAIL(sn_runtime_create(&cfg, &g.rt));
  const uint64_t bytes[] = {6000, 6000, 1ull << 50};
  SN_OK_OR_FAIL(sn_layers_declare(g.rt, 3, bytes));
  const uint32_t two[] = {0, 1};
  EXPECT_EQ(sn_host_set(g.rt, two, 2), SN_ERR_OUT_OF_HOST_MEMORY);
  EXPECT_NE(std::string(sn_last_error()).find("host pool limit 10000"), std::string::npos) << sn_last_error();
  sn_pool_stats ps;
  SN_OK_OR_FAIL(sn_pool_stats_get(g.rt, &ps));
  EXPECT_EQ(ps.host_used_bytes, 0u) << "a failed grow leaves nothing behind";
  const uint32_t one[] = {0};
  SN_OK_OR_FAIL(sn_host_set(g.rt, one, 1));
  EXPECT_EQ(sn_host_pool_set_limit(g.rt, 100), SN_ERR_OUT_OF_HOST_MEMORY);
  SN_OK_OR_FAIL(sn_host_pool_set_limit(g.rt, 0));
  const uint32_t huge[] = {0, 2};
  EXPECT_EQ(sn_host_set(g.rt, huge, 2), SN_ERR_OUT_OF_HOST_MEMORY);  // 1 PiB: the OS refuses
  EXPECT_NE(std::string(sn_last_error()).find("host allocation"), std::string::npos) << sn_last_error();
}

TEST(Runtime, HostSetShrinkReturnsMemoryAndGrowCopiesBack) {
  const uint64_t layer = 32ull << 20;
  Model m(3, layer, layer, 6);
  RuntimeGuard g;
  sn_runtime_config cfg = cpu_config(4 * layer, 1);
  SN_OK_OR_FAIL(sn_runtime_create(&cfg, &g.rt));
  setup_model(g.rt, m, {0, 1, 2}, {0, 1}, 2);
  const uint64_t before = rss_bytes();
  // Shrink: layer 2 is resident, so its host copy can go.
  const uint32_t keep[] = {0, 1};
  SN_OK_OR_FAIL(sn_host_set(g.rt, keep, 2));
  const uint64_t after = rss_bytes();
  EXPECT_GE(before, after + layer * 9 / 10) << "munmap must return the host copy to the OS";
  // Grow again: layer 2's host copy comes back from its device copy.
  const uint32_t all[] = {0, 1, 2};
  SN_OK_OR_FAIL(sn_host_set(g.rt, all, 3));
  SN_OK_OR_FAIL(sn_offload_set(g.rt, all, 3, 1));
  run_iteration(g.rt, m);
}

TEST(Runtime, KvBlocksShareThePoolAndSayNoRoom) {
  Model m(4, 100000, 100000, 7);
  RuntimeGuard g;
  sn_runtime_config cfg = cpu_config(1 << 20, 1);
  SN_OK_OR_FAIL(sn_runtime_create(&cfg, &g.rt));
  setup_model(g.rt, m, {1, 3}, {}, 0);
  SN_OK_OR_FAIL(sn_kv_configure(g.rt, 64 << 10));
  sn_pool_stats ps;
  SN_OK_OR_FAIL(sn_pool_stats_get(g.rt, &ps));
  const uint64_t weights = 4 * DevicePoolAligned(100000);
  EXPECT_EQ(ps.weights_bytes, weights);
  uint64_t kv_free = 0;
  SN_OK_OR_FAIL(sn_pool_kv_free_for(g.rt, nullptr, 0, &kv_free));
  EXPECT_EQ(kv_free, (1u << 20) - weights);
  const uint32_t set[] = {1, 3};
  uint64_t kv_free_n2 = 0;
  SN_OK_OR_FAIL(sn_pool_kv_free_for(g.rt, set, 2, &kv_free_n2));
  EXPECT_EQ(kv_free_n2, (1u << 20) - 2 * DevicePoolAligned(100000) - DevicePoolAligned(100000));
  const uint32_t max_blocks = static_cast<uint32_t>(kv_free / (64 << 10));
  std::vector<uint32_t> ids(max_blocks + 1);
  EXPECT_EQ(sn_kv_alloc(g.rt, max_blocks + 1, ids.data()), SN_ERR_NO_DEVICE_ROOM);
  SN_OK_OR_FAIL(sn_pool_stats_get(g.rt, &ps));
  EXPECT_EQ(ps.kv_blocks_used, 0u) << "all or nothing";
  SN_OK_OR_FAIL(sn_kv_alloc(g.rt, max_blocks, ids.data()));
  SN_OK_OR_FAIL(sn_pool_stats_get(g.rt, &ps));
  EXPECT_EQ(ps.kv_blocks_used, max_blocks);
  EXPECT_EQ(ps.kv_bytes, uint64_t{max_blocks} * (64 << 10));
  void* p = nullptr;
  SN_OK_OR_FAIL(sn_kv_block_ptr(g.rt, ids[0], &p));
  std::vector<char> buf(64 << 10, 7), back(64 << 10, 0);
  SN_OK_OR_FAIL(sn_device_upload(g.rt, p, buf.data(), buf.size()));
  SN_OK_OR_FAIL(sn_device_download(g.rt, back.data(), p, back.size()));
  EXPECT_EQ(buf, back);
  EXPECT_EQ(sn_kv_configure(g.rt, 128), SN_ERR_STATE);
  // Lowering N frees layer weights for KV at once.
  SN_OK_OR_FAIL(sn_offload_set(g.rt, set, 2, 2));
  SN_OK_OR_FAIL(sn_pool_stats_get(g.rt, &ps));
  EXPECT_EQ(ps.weights_bytes, 2 * DevicePoolAligned(100000));
  const uint32_t twice[] = {ids[0], ids[0]};
  EXPECT_EQ(sn_kv_free(g.rt, twice, 2), SN_ERR_INVALID_ARGUMENT);
  SN_OK_OR_FAIL(sn_kv_free(g.rt, ids.data(), max_blocks));
  EXPECT_EQ(sn_kv_block_ptr(g.rt, ids[0], &p), SN_ERR_INVALID_ARGUMENT);
  SN_OK_OR_FAIL(sn_pool_stats_get(g.rt, &ps));
  EXPECT_EQ(ps.kv_bytes, 0u);
  run_iteration(g.rt, m);
}

TEST(Runtime, ResidentLoadWithoutRoomFails) {
  Model m(3, 400000, 400000, 8);
  RuntimeGuard g;
  sn_runtime_config cfg = cpu_config(1 << 20, 1);
  SN_OK_OR_FAIL(sn_runtime_create(&cfg, &g.rt));
  SN_OK_OR_FAIL(sn_layers_declare(g.rt, 3, m.bytes.data()));
  SN_OK_OR_FAIL(sn_layer_load(g.rt, 0, m.data[0].data(), m.bytes[0]));
  SN_OK_OR_FAIL(sn_layer_load(g.rt, 1, m.data[1].data(), m.bytes[1]));
  EXPECT_EQ(sn_layer_load(g.rt, 2, m.data[2].data(), m.bytes[2]), SN_ERR_NO_DEVICE_ROOM);
  EXPECT_NE(std::string(sn_last_error()).find("layer 2"), std::string::npos);
  EXPECT_EQ(sn_device_budget_set(g.rt, 1000), SN_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(sn_device_budget_set(g.rt, 2 << 20), SN_ERR_INVALID_ARGUMENT);
}

TEST(Runtime, InfoAndCudaAvailability) {
  RuntimeGuard g;
  sn_runtime_config cfg = cpu_config(1 << 20, 1);
  SN_OK_OR_FAIL(sn_runtime_create(&cfg, &g.rt));
  sn_runtime_info info;
  SN_OK_OR_FAIL(sn_runtime_info_get(g.rt, &info));
  EXPECT_STREQ(info.backend_name, "cpu");
  EXPECT_STREQ(info.device_name, "cpu-arena");
  EXPECT_EQ(info.device_capacity_bytes, 1u << 20);
  EXPECT_EQ(sn_compute_stream(g.rt), nullptr);
  EXPECT_EQ(sn_backend_compiled(SN_BACKEND_CPU), 1);
}

// CUDA backend: the same runtime paths on a GPU. Skipped with a message where the build has no
// CUDA backend or the machine has no GPU.
#include <gtest/gtest.h>

#include "helpers.h"

using namespace sn_test;

namespace {
bool make_cuda(sn_runtime** rt, uint64_t budget, uint32_t slots, std::string* why) {
  if (!sn_backend_compiled(SN_BACKEND_CUDA)) {
    *why = "CUDA backend not compiled in (configure with -DSELECTN_CUDA=ON)";
    return false;
  }
  sn_runtime_config cfg = cpu_config(budget, slots);
  cfg.backend = SN_BACKEND_CUDA;
  const sn_status s = sn_runtime_create(&cfg, rt);
  if (s == SN_ERR_UNSUPPORTED) {
    *why = std::string("no GPU: ") + sn_last_error();
    return false;
  }
  EXPECT_EQ(s, SN_OK) << sn_last_error();
  return s == SN_OK;
}
}  // namespace

TEST(Cuda, StreamsLayersAndSwitches) {
  RuntimeGuard g;
  std::string why;
  if (!make_cuda(&g.rt, 64 << 20, 2, &why)) GTEST_SKIP() << why;
  sn_runtime_info info;
  SN_OK_OR_FAIL(sn_runtime_info_get(g.rt, &info));
  EXPECT_STREQ(info.backend_name, "cuda");
  EXPECT_NE(sn_compute_stream(g.rt), nullptr);
  Model m(8, 1 << 20, 2 << 20, 31);
  const std::vector<uint32_t> n1 = every_nth(8, 1), n2 = every_nth(8, 2);
  setup_model(g.rt, m, n1, n2, 2);
  // Verify on the host through downloads of each acquired pointer.
  for (int it = 0; it < 3; ++it) {
    SN_OK_OR_FAIL(sn_iteration_begin(g.rt));
    for (uint32_t i = 0; i < 8; ++i) {
      void* w = nullptr;
      SN_OK_OR_FAIL(sn_layer_acquire(g.rt, i, &w));
      std::vector<unsigned char> back(m.bytes[i]);
      SN_OK_OR_FAIL(sn_device_download(g.rt, back.data(), w, back.size()));
      ASSERT_EQ(fnv1a(back.data(), back.size()), m.sums[i]) << "layer " << i;
      SN_OK_OR_FAIL(sn_layer_release(g.rt, i));
    }
    sn_iteration_telemetry t;
    SN_OK_OR_FAIL(sn_iteration_end(g.rt, &t));
    EXPECT_EQ(t.offloaded_layers, 4u);
    EXPECT_GT(t.bandwidth_bytes_per_s, 0.0);
  }
  SN_OK_OR_FAIL(sn_offload_set(g.rt, n1.data(), 8, 1));
  SN_OK_OR_FAIL(sn_offload_set(g.rt, nullptr, 0, 0));
  SN_OK_OR_FAIL(sn_switch_wait(g.rt, 10000));
  sn_switch_state s;
  SN_OK_OR_FAIL(sn_switch_state_get(g.rt, &s));
  EXPECT_EQ(s.active_offloaded, 0u);
}

TEST(Cuda, ReportsMissingGpuClearly) {
  if (!sn_backend_compiled(SN_BACKEND_CUDA)) GTEST_SKIP() << "CUDA backend not compiled in";
  sn_runtime_config cfg = cpu_config(1 << 20, 1);
  cfg.backend = SN_BACKEND_CUDA;
  cfg.device_index = 999;
  sn_runtime* rt = nullptr;
  const sn_status s = sn_runtime_create(&cfg, &rt);
  EXPECT_TRUE(s == SN_ERR_UNSUPPORTED || s == SN_ERR_INVALID_ARGUMENT) << sn_status_name(s);
  EXPECT_NE(std::string(sn_last_error()), "");
  EXPECT_EQ(rt, nullptr);
}

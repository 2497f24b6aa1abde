// Test helpers: golden.json of a fixture, a CPU runtime, and greedy generation through the engine.
#ifndef SELECTN_ENGINE_TESTS_GOLDEN_H
#define SELECTN_ENGINE_TESTS_GOLDEN_H

#include <memory>
#include <string>
#include <vector>

#include "engine.h"

namespace sn::engine::test {

struct GoldenRun {
  std::vector<int32_t> prompt;
  std::vector<int32_t> greedy;
  std::vector<std::vector<float>> step_logits;  // [0]: last prompt position; [k]: after greedy k
};

struct Golden {
  double logit_scale = 0;
  double tolerance = 1e-4;  // max |logit diff| allowed, relative to logit_scale (the file's "tolerance")
  std::vector<GoldenRun> runs;
};

std::string fixture(const std::string& name);
// <fixture>/golden.json, or golden-<dtype>.json: the fixture's weights rounded to that dtype.
Golden load_golden(const std::string& name, const std::string& dtype = "");

struct RuntimeDeleter {
  void operator()(sn_runtime* rt) const { sn_runtime_destroy(rt); }
};
using RuntimePtr = std::unique_ptr<sn_runtime, RuntimeDeleter>;
RuntimePtr make_cpu_runtime(uint64_t budget_bytes = 256ull << 20);

// Layers i with (i + 1) % n == 0 ("every N-th layer"); n == 0 -> none.
std::vector<uint32_t> every_nth(int64_t layers, uint32_t n);
std::unique_ptr<Engine> load_engine(const std::string& name, sn_runtime* rt, uint32_t interval, int32_t block_size = 4,
                                    const std::string& dtype = "auto");

float max_abs_diff(const float* a, const std::vector<float>& b);

}  // namespace sn::engine::test

#endif

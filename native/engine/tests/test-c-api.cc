// The C surface: load, info, KV from the runtime pool, step, sample, errors as status + message.
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "golden.h"
#include "selectn/engine.h"

namespace sn::engine::test {
namespace {

TEST(CApi, LoadStepSampleFree) {
  RuntimePtr rt = make_cpu_runtime();
  sn_model_options o;
  sn_model_options_default(&o);
  const uint32_t off[2] = {1, 3};
  o.offload_set = off;
  o.n_offload_set = 2;
  o.interval = 2;
  sn_model* m = nullptr;
  ASSERT_EQ(sn_model_load(fixture("tiny-llama").c_str(), rt.get(), &o, &m), SN_OK) << sn_last_error();
  sn_model_info info;
  ASSERT_EQ(sn_model_info_get(m, &info), SN_OK);
  EXPECT_STREQ(info.arch, "llama");
  EXPECT_EQ(info.vocab_size, 512);
  EXPECT_EQ(info.kv_block_bytes, uint64_t(4) * 2 * 2 * 16 * 16 * 4);
  const Golden g = load_golden("tiny-llama");
  const GoldenRun& r = g.runs[0];
  uint32_t blocks[2];
  ASSERT_EQ(sn_kv_alloc(rt.get(), 2, blocks), SN_OK);
  sn_seq_step s{r.prompt.data(), int32_t(r.prompt.size()), 0, blocks, 2, 0};
  std::vector<float> logits(size_t(sn_model_logit_rows(&s, 1)) * 512);
  ASSERT_EQ(sn_model_step(m, &s, 1, logits.data(), nullptr), SN_OK) << sn_last_error();
  sn_sampling_params p;
  sn_sampling_params_default(&p);
  p.temperature = 0;
  p.top_logprobs = 3;
  sn_sample_result res;
  ASSERT_EQ(sn_sample(logits.data(), 512, &p, r.prompt.data(), int32_t(r.prompt.size()), nullptr, 0, 0, &res), SN_OK);
  EXPECT_EQ(res.token, r.greedy[0]);
  EXPECT_EQ(res.n_top, 3);
  EXPECT_EQ(res.top_tokens[0], res.token);
  p.top_p = 2;
  EXPECT_EQ(sn_sample(logits.data(), 512, &p, nullptr, 0, nullptr, 0, 0, &res), SN_ERR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(sn_last_error()).find("top_p"), std::string::npos);
  sn_kv_free(rt.get(), blocks, 2);
  sn_model_free(m);
}

// Sliding window (tiny-mistral, window 6, blocks of 2): leading blocks before the window may be
// SN_KV_BLOCK_RELEASED and give the same logits bit for bit; one the query still reads is refused.
TEST(CApi, ReleasedBlocksBeforeTheWindow) {
  RuntimePtr rt = make_cpu_runtime();
  sn_model_options o;
  sn_model_options_default(&o);
  o.block_size = 2;
  sn_model* m = nullptr;
  ASSERT_EQ(sn_model_load(fixture("tiny-mistral").c_str(), rt.get(), &o, &m), SN_OK) << sn_last_error();
  sn_model_info info;
  ASSERT_EQ(sn_model_info_get(m, &info), SN_OK);
  EXPECT_EQ(info.sliding_window, 6);
  const Golden g = load_golden("tiny-mistral");
  const GoldenRun& r = g.runs[0];
  const int32_t n = int32_t(r.prompt.size());  // 9 positions: blocks 0..4
  uint32_t blocks[6];
  ASSERT_EQ(sn_kv_alloc(rt.get(), 6, blocks), SN_OK);
  sn_seq_step s{r.prompt.data(), n, 0, blocks, 5, 0};
  std::vector<float> full(512), released(512);
  ASSERT_EQ(sn_model_step(m, &s, 1, full.data(), nullptr), SN_OK) << sn_last_error();
  // Decode at position 9 reads 4..9: blocks 0 and 1 (positions 0..3) are never read.
  const int32_t tok = r.greedy[0];
  uint32_t table[5] = {blocks[0], blocks[1], blocks[2], blocks[3], blocks[4]};
  sn_seq_step d{&tok, 1, n, table, 5, 0};
  ASSERT_EQ(sn_model_step(m, &d, 1, full.data(), nullptr), SN_OK) << sn_last_error();
  table[0] = table[1] = SN_KV_BLOCK_RELEASED;
  ASSERT_EQ(sn_model_step(m, &d, 1, released.data(), nullptr), SN_OK) << sn_last_error();
  EXPECT_EQ(0, std::memcmp(full.data(), released.data(), full.size() * sizeof(float)));
  table[2] = SN_KV_BLOCK_RELEASED;  // positions 4..5 are in the window
  EXPECT_EQ(sn_model_step(m, &d, 1, released.data(), nullptr), SN_ERR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(sn_last_error()).find("block 2 of the block table is released"), std::string::npos)
      << sn_last_error();
  sn_kv_free(rt.get(), blocks, 6);
  sn_model_free(m);
}

TEST(CApi, LoadErrorsAreStatusAndMessage) {
  RuntimePtr rt = make_cpu_runtime();
  sn_model* m = nullptr;
  EXPECT_EQ(sn_model_load("/nonexistent", rt.get(), nullptr, &m), SN_ERR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(sn_last_error()).find("config.json"), std::string::npos);
  EXPECT_EQ(m, nullptr);
}

}  // namespace
}  // namespace sn::engine::test

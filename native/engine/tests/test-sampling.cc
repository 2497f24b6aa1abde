#include <gtest/gtest.h>

#include <cmath>
#include <map>

#include "errors.h"
#include "sampling.h"

namespace sn::engine {
namespace {

SamplingParams params(float t) {
  SamplingParams p;
  p.temperature = t;
  return p;
}

TEST(Sampling, GreedyTakesTheFirstMaximum) {
  const float l[4] = {1, 3, 3, 0};
  EXPECT_EQ(sample_token(l, 4, params(0), nullptr, 0, nullptr, 0, 0).token, 1);
}

TEST(Sampling, SeededDrawsAreReproducibleAndFollowTheDistribution) {
  const float l[3] = {0, std::log(2.0f), std::log(7.0f)};  // p = 0.1, 0.2, 0.7
  std::map<int, int> counts;
  for (uint64_t s = 0; s < 20000; ++s) {
    const int a = sample_token(l, 3, params(1), nullptr, 0, nullptr, 0, s).token;
    EXPECT_EQ(a, sample_token(l, 3, params(1), nullptr, 0, nullptr, 0, s).token);
    ++counts[a];
  }
  EXPECT_NEAR(counts[2] / 20000.0, 0.7, 0.02);
  EXPECT_NEAR(counts[0] / 20000.0, 0.1, 0.01);
}

TEST(Sampling, TopKTopPMinPTruncate) {
  const float l[4] = {std::log(0.5f), std::log(0.3f), std::log(0.15f), std::log(0.05f)};
  for (uint64_t s = 0; s < 500; ++s) {
    SamplingParams k = params(1);
    k.top_k = 2;
    EXPECT_LT(sample_token(l, 4, k, nullptr, 0, nullptr, 0, s).token, 2);
    SamplingParams p = params(1);
    p.top_p = 0.79f;  // 0.5 + 0.3 reaches it
    EXPECT_LT(sample_token(l, 4, p, nullptr, 0, nullptr, 0, s).token, 2);
    SamplingParams m = params(1);
    m.min_p = 0.5f;  // keeps p >= 0.25
    EXPECT_LT(sample_token(l, 4, m, nullptr, 0, nullptr, 0, s).token, 2);
  }
}

TEST(Sampling, PenaltiesChangeTheGreedyChoice) {
  const float l[3] = {2.0f, 1.9f, -5.0f};
  const int32_t out[2] = {0, 0};
  SamplingParams rep = params(0);
  rep.repetition_penalty = 1.2f;  // 2.0 / 1.2 < 1.9
  EXPECT_EQ(sample_token(l, 3, rep, out, 1, nullptr, 0, 0).token, 1);
  SamplingParams pres = params(0);
  pres.presence_penalty = 0.2f;
  EXPECT_EQ(sample_token(l, 3, pres, nullptr, 0, out, 1, 0).token, 1);
  SamplingParams freq = params(0);
  freq.frequency_penalty = 0.06f;  // two occurrences: -0.12
  EXPECT_EQ(sample_token(l, 3, freq, nullptr, 0, out, 2, 0).token, 1);
  EXPECT_EQ(sample_token(l, 3, freq, nullptr, 0, out, 1, 0).token, 0);
}

TEST(Sampling, LogprobsAreRawLogSoftmax) {
  const float l[3] = {0, 0, std::log(2.0f)};
  SamplingParams p = params(0);
  p.top_logprobs = 2;
  const SampleResult r = sample_token(l, 3, p, nullptr, 0, nullptr, 0, 0);
  EXPECT_EQ(r.token, 2);
  EXPECT_NEAR(r.logprob, std::log(0.5), 1e-6);
  ASSERT_EQ(r.top.size(), 2u);
  EXPECT_EQ(r.top[1].first, 0);
  EXPECT_NEAR(r.top[1].second, std::log(0.25), 1e-6);
}

TEST(Sampling, RejectsBadParameters) {
  const float l[1] = {0};
  SamplingParams p = params(-1);
  EXPECT_THROW(sample_token(l, 1, p, nullptr, 0, nullptr, 0, 0), EngineError);
  p = params(1);
  p.top_p = 0;
  EXPECT_THROW(sample_token(l, 1, p, nullptr, 0, nullptr, 0, 0), EngineError);
}

}  // namespace
}  // namespace sn::engine

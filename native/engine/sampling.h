// Token sampling from one row of logits: penalties, temperature, top-k, top-p, min-p, and a
// counter-based random draw (seed, step) so results are reproducible without hidden state.
#ifndef SELECTN_ENGINE_SAMPLING_H
#define SELECTN_ENGINE_SAMPLING_H

#include <cstdint>
#include <utility>
#include <vector>

namespace sn::engine {

struct SamplingParams {
  float temperature = 1.0f;         // 0 = greedy
  int32_t top_k = 0;                // 0 = off
  float top_p = 1.0f;               // 1 = off
  float min_p = 0.0f;               // 0 = off
  float repetition_penalty = 1.0f;  // HF style, prompt and output tokens; 1 = off
  float presence_penalty = 0.0f;    // OpenAI style, output tokens
  float frequency_penalty = 0.0f;   // OpenAI style, output tokens
  uint64_t seed = 0;
  int32_t top_logprobs = 0;         // alternatives to report (0..20)
};

struct SampleResult {
  int32_t token = -1;
  float logprob = 0;  // of `token` under the model's raw distribution (log_softmax of logits)
  std::vector<std::pair<int32_t, float>> top;  // top_logprobs best (token, logprob), raw distribution
};

// Throws EngineError naming the parameter if one is out of range.
void validate_sampling(const SamplingParams& p);

// Samples from logits[vocab]. prompt/output: the sequence's tokens so far (for penalties). step:
// index of this draw in the sequence (the random draw is a pure function of seed and step).
SampleResult sample_token(const float* logits, int32_t vocab, const SamplingParams& p, const int32_t* prompt,
                          int32_t n_prompt, const int32_t* output, int32_t n_output, uint64_t step);

// Uniform in [0, 1) from (seed, step): splitmix64 of the pair, 53 bits.
double counter_uniform(uint64_t seed, uint64_t step);

}  // namespace sn::engine

#endif  // SELECTN_ENGINE_SAMPLING_H

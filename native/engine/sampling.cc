#include "sampling.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>
#include <unordered_map>

#include "errors.h"

namespace sn::engine {

namespace {

uint64_t splitmix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

// log_softmax of the raw logits, for logprobs.
std::vector<float> log_softmax(const float* x, int32_t n) {
  const float m = *std::max_element(x, x + n);
  double sum = 0;
  for (int32_t i = 0; i < n; ++i) sum += std::exp(double(x[i]) - m);
  const double lse = m + std::log(sum);
  std::vector<float> out(static_cast<size_t>(n));
  for (int32_t i = 0; i < n; ++i) out[size_t(i)] = float(double(x[i]) - lse);
  return out;
}

}  // namespace

double counter_uniform(uint64_t seed, uint64_t step) {
  const uint64_t r = splitmix64(splitmix64(seed) ^ (step * 0xd1b54a32d192ed03ull + 0x632be59bd9b4e019ull));
  return double(r >> 11) * (1.0 / 9007199254740992.0);
}

void validate_sampling(const SamplingParams& p) {
  auto bad = [](const std::string& m) { throw EngineError("sampling: " + m); };
  if (!(p.temperature >= 0) || !std::isfinite(p.temperature)) bad("temperature must be >= 0");
  if (p.top_k < 0) bad("top_k must be >= 0");
  if (!(p.top_p > 0 && p.top_p <= 1)) bad("top_p must be in (0, 1]");
  if (!(p.min_p >= 0 && p.min_p <= 1)) bad("min_p must be in [0, 1]");
  if (!(p.repetition_penalty > 0) || !std::isfinite(p.repetition_penalty)) bad("repetition_penalty must be > 0");
  if (!(std::fabs(p.presence_penalty) <= 2)) bad("presence_penalty must be in [-2, 2]");
  if (!(std::fabs(p.frequency_penalty) <= 2)) bad("frequency_penalty must be in [-2, 2]");
  if (p.top_logprobs < 0 || p.top_logprobs > 20) bad("top_logprobs must be in 0..20");
}

SampleResult sample_token(const float* logits, int32_t vocab, const SamplingParams& p, const int32_t* prompt,
                          int32_t n_prompt, const int32_t* output, int32_t n_output, uint64_t step) {
  validate_sampling(p);
  if (vocab <= 0) throw EngineError("sampling: empty vocabulary");
  SampleResult res;
  const std::vector<float> raw_lp = log_softmax(logits, vocab);
  std::vector<float> x(logits, logits + vocab);

  // Penalties (vLLM order): repetition over prompt + output, then presence / frequency over output.
  if (p.repetition_penalty != 1.0f) {
    std::vector<char> seen(size_t(vocab), 0);
    for (int32_t i = 0; i < n_prompt; ++i)
      if (prompt[i] >= 0 && prompt[i] < vocab) seen[size_t(prompt[i])] = 1;
    for (int32_t i = 0; i < n_output; ++i)
      if (output[i] >= 0 && output[i] < vocab) seen[size_t(output[i])] = 1;
    for (int32_t v = 0; v < vocab; ++v)
      if (seen[size_t(v)]) x[size_t(v)] = x[size_t(v)] > 0 ? x[size_t(v)] / p.repetition_penalty : x[size_t(v)] * p.repetition_penalty;
  }
  if (p.presence_penalty != 0.0f || p.frequency_penalty != 0.0f) {
    std::unordered_map<int32_t, int32_t> counts;
    for (int32_t i = 0; i < n_output; ++i)
      if (output[i] >= 0 && output[i] < vocab) ++counts[output[i]];
    for (const auto& kv : counts)
      x[size_t(kv.first)] -= p.presence_penalty + p.frequency_penalty * float(kv.second);
  }

  if (p.temperature == 0.0f) {
    res.token = int32_t(std::max_element(x.begin(), x.end()) - x.begin());  // first maximum, as argmax
  } else {
    for (float& v : x) v /= p.temperature;
    // Candidates sorted by logit, descending (index breaks ties), then truncated.
    std::vector<int32_t> idx(static_cast<size_t>(vocab));
    std::iota(idx.begin(), idx.end(), 0);
    std::stable_sort(idx.begin(), idx.end(), [&](int32_t a, int32_t b) { return x[size_t(a)] > x[size_t(b)]; });
    size_t keep = idx.size();
    if (p.top_k > 0) keep = std::min(keep, size_t(p.top_k));
    const float m = x[size_t(idx[0])];
    std::vector<double> prob(keep);
    double sum = 0;
    for (size_t i = 0; i < keep; ++i) sum += prob[i] = std::exp(double(x[size_t(idx[i])]) - m);
    for (double& q : prob) q /= sum;
    if (p.top_p < 1.0f) {
      double cum = 0;
      size_t k = 0;
      while (k < keep) {
        cum += prob[k++];
        if (cum >= p.top_p) break;
      }
      keep = std::max<size_t>(k, 1);
    }
    if (p.min_p > 0.0f) {
      const double floor = p.min_p * prob[0];
      size_t k = 1;
      while (k < keep && prob[k] >= floor) ++k;
      keep = k;
    }
    double total = 0;
    for (size_t i = 0; i < keep; ++i) total += prob[i];
    const double u = counter_uniform(p.seed, step) * total;
    double cum = 0;
    res.token = idx[keep - 1];
    for (size_t i = 0; i < keep; ++i) {
      cum += prob[i];
      if (u < cum) {
        res.token = idx[i];
        break;
      }
    }
  }
  res.logprob = raw_lp[size_t(res.token)];
  if (p.top_logprobs > 0) {
    std::vector<int32_t> idx(static_cast<size_t>(vocab));
    std::iota(idx.begin(), idx.end(), 0);
    const size_t k = std::min(size_t(p.top_logprobs), idx.size());
    std::partial_sort(idx.begin(), idx.begin() + long(k), idx.end(), [&](int32_t a, int32_t b) {
      return raw_lp[size_t(a)] > raw_lp[size_t(b)] || (raw_lp[size_t(a)] == raw_lp[size_t(b)] && a < b);
    });
    for (size_t i = 0; i < k; ++i) res.top.emplace_back(idx[i], raw_lp[size_t(idx[i])]);
  }
  return res;
}

}  // namespace sn::engine

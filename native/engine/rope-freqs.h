// RoPE inverse frequencies with the configured scaling (default, linear, llama3), computed as
// transformers does: inv_freq[i] = 1 / theta^(2i / head_dim), in fp32.
#ifndef SELECTN_ENGINE_ROPE_FREQS_H
#define SELECTN_ENGINE_ROPE_FREQS_H

#include <vector>

#include "config.h"

namespace sn::engine {

std::vector<float> rope_inv_freq(const RopeConfig& rope, int head_dim);

}  // namespace sn::engine

#endif  // SELECTN_ENGINE_ROPE_FREQS_H

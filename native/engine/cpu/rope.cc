#include <cmath>

#include "kernels.h"

namespace sn::engine::cpu {

// Rotary embedding, half-split layout (HF rotate_half), of the first rotary_dim dims of each head
// (partial_rotary_factor, Phi-3): with half = rotary_dim / 2, for i < half the pair (x[i],
// x[i + half]) is rotated by angle = position * inv_freq[i] (angle rounded to fp32 as torch does);
// dims from rotary_dim to head_dim pass through unchanged.
void rope_partial(float* x, const int32_t* positions, int n_tokens, int heads, int head_dim, int rotary_dim,
                  const float* inv_freq) {
  const int half = rotary_dim / 2;
  for (int t = 0; t < n_tokens; ++t) {
    for (int i = 0; i < half; ++i) {
      const float angle = float(positions[t]) * inv_freq[i];
      const float c = float(std::cos(double(angle))), s = float(std::sin(double(angle)));
      for (int h = 0; h < heads; ++h) {
        float* v = x + (size_t(t) * heads + h) * head_dim;
        const float a = v[i], b = v[i + half];
        v[i] = a * c - b * s;
        v[i + half] = b * c + a * s;
      }
    }
  }
}

// Full rotary embedding: every dim of the head rotates.
void rope(float* x, const int32_t* positions, int n_tokens, int heads, int head_dim, const float* inv_freq) {
  rope_partial(x, positions, n_tokens, heads, head_dim, head_dim, inv_freq);
}

}  // namespace sn::engine::cpu

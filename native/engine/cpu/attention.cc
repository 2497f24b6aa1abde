#include <algorithm>
#include <vector>

#include "kernels.h"

namespace sn::engine::cpu {

// Paged causal attention: token t of sequence s at position p attends to positions 0..p of s,
// reading K/V through s's block table. One pass for scores, softmax, one pass for the V sum.
void attention(float* out, const float* q, const BatchView& b, const KvGeometry& g, int layer, int n_heads,
               float scale) {
  const int hd = g.head_dim, B = g.block_size, group = n_heads / g.n_kv_heads;
  int max_ctx = 0;
  for (int t = 0; t < b.n_tokens; ++t) max_ctx = std::max(max_ctx, b.positions[t] + 1);
  std::vector<float> scores(static_cast<size_t>(max_ctx));
  std::vector<float> acc(static_cast<size_t>(hd));
  for (int t = 0; t < b.n_tokens; ++t) {
    const int ctx = b.positions[t] + 1;
    float* const* blocks = b.block_ptrs + size_t(b.token_seq[t]) * b.max_blocks;
    for (int h = 0; h < n_heads; ++h) {
      const float* qh = q + (size_t(t) * n_heads + h) * hd;
      const size_t head_off = size_t(layer) * g.layer_stride() + size_t(h / group) * g.head_stride();
      for (int p = 0; p < ctx; ++p) {
        const float* kp = blocks[p / B] + head_off + size_t(p % B) * hd;
        float s = 0;
        for (int i = 0; i < hd; ++i) s += qh[i] * kp[i];
        s *= scale;
        scores[size_t(p)] = s;
      }
      softmax(scores.data(), ctx);
      std::fill(acc.begin(), acc.end(), 0.0f);
      for (int p = 0; p < ctx; ++p) {
        const float* vp = blocks[p / B] + head_off + g.kv_stride() + size_t(p % B) * hd;
        const float w = scores[size_t(p)];
        for (int i = 0; i < hd; ++i) acc[size_t(i)] += w * vp[i];
      }
      std::copy(acc.begin(), acc.end(), out + (size_t(t) * n_heads + h) * hd);
    }
  }
}

}  // namespace sn::engine::cpu

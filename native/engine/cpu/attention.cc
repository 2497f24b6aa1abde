#include <algorithm>
#include <vector>

#include "kernels.h"

namespace sn::engine::cpu {

// Sliding-window paged causal attention (Mistral, Phi-3): token t at position p attends to the
// last `window` positions max(0, p - window + 1)..p of its sequence, as transformers' sliding
// window mask (kv > q - window). Blocks wholly before the window are never read. attention() is
// the case window >= p + 1: every position of the sequence.
void attention_window(float* out, const float* q, const BatchView& b, const KvGeometry& g, int layer, int n_heads,
                      float scale, int window) {
  const int hd = g.head_dim, B = g.block_size, group = n_heads / g.n_kv_heads;
  std::vector<float> scores(static_cast<size_t>(window));
  std::vector<float> acc(static_cast<size_t>(hd));
  for (int t = 0; t < b.n_tokens; ++t) {
    const int end = b.positions[t] + 1, start = std::max(0, end - window), ctx = end - start;
    float* const* blocks = b.block_ptrs + size_t(b.token_seq[t]) * b.max_blocks;
    for (int h = 0; h < n_heads; ++h) {
      const float* qh = q + (size_t(t) * n_heads + h) * hd;
      const size_t head_off = size_t(layer) * g.layer_stride() + size_t(h / group) * g.head_stride();
      for (int p = start; p < end; ++p) {
        const float* kp = blocks[p / B] + head_off + size_t(p % B) * hd;
        float s = 0;
        for (int i = 0; i < hd; ++i) s += qh[i] * kp[i];
        scores[size_t(p - start)] = s * scale;
      }
      softmax(scores.data(), ctx);
      std::fill(acc.begin(), acc.end(), 0.0f);
      for (int p = start; p < end; ++p) {
        const float* vp = blocks[p / B] + head_off + g.kv_stride() + size_t(p % B) * hd;
        const float w = scores[size_t(p - start)];
        for (int i = 0; i < hd; ++i) acc[size_t(i)] += w * vp[i];
      }
      std::copy(acc.begin(), acc.end(), out + (size_t(t) * n_heads + h) * hd);
    }
  }
}

// Paged causal attention: token t of sequence s at position p attends to positions 0..p of s,
// reading K/V through s's block table (the window that covers the longest context in the batch).
void attention(float* out, const float* q, const BatchView& b, const KvGeometry& g, int layer, int n_heads,
               float scale) {
  int max_ctx = 0;
  for (int t = 0; t < b.n_tokens; ++t) max_ctx = std::max(max_ctx, b.positions[t] + 1);
  attention_window(out, q, b, g, layer, n_heads, scale, max_ctx);
}

}  // namespace sn::engine::cpu

#include <cstring>

#include "kernels.h"

namespace sn::engine::cpu {

// Copies each new token's K and V heads into slot (pos % B) of block (pos / B) of its sequence.
void kv_store(const float* k, const float* v, const BatchView& b, const KvGeometry& g, int layer) {
  const int hd = g.head_dim, B = g.block_size;
  const size_t row = size_t(g.n_kv_heads) * hd;
  for (int t = 0; t < b.n_tokens; ++t) {
    const int pos = b.positions[t];
    float* block = b.block_ptrs[size_t(b.token_seq[t]) * b.max_blocks + pos / B];
    float* kd = block + size_t(layer) * g.layer_stride() + size_t(pos % B) * hd;
    float* vd = kd + g.kv_stride();
    for (int h = 0; h < g.n_kv_heads; ++h) {
      std::memcpy(kd + h * g.head_stride(), k + t * row + size_t(h) * hd, sizeof(float) * hd);
      std::memcpy(vd + h * g.head_stride(), v + t * row + size_t(h) * hd, sizeof(float) * hd);
    }
  }
}

}  // namespace sn::engine::cpu

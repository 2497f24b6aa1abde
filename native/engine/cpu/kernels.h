// CPU reference kernels, one file each. Plain loops in fp32; the CUDA kernels are checked
// against these.
#ifndef SELECTN_ENGINE_CPU_KERNELS_H
#define SELECTN_ENGINE_CPU_KERNELS_H

#include <cstddef>
#include <cstdint>

#include "../batch.h"

namespace sn::engine::cpu {

void rmsnorm(float* out, const float* x, const float* w, int n, int dim, float eps);
void layernorm(float* out, const float* x, const float* w, const float* bias, int n, int dim, float eps);
void rope(float* x, const int32_t* positions, int n_tokens, int heads, int head_dim, const float* inv_freq);
void embedding(float* x, const float* table, const int32_t* rows, int n, int dim, int row_offset, bool accumulate);
void softmax(float* x, int n);  // in place, one row
void swiglu(float* out, const float* gate, const float* up, size_t n);
void relu(float* x, size_t n);
void linear(float* y, const float* x, const float* w, const float* bias, int n, int in, int out);
void kv_store(const float* k, const float* v, const BatchView& b, const KvGeometry& g, int layer);
void attention(float* out, const float* q, const BatchView& b, const KvGeometry& g, int layer, int n_heads,
               float scale);
void attention_window(float* out, const float* q, const BatchView& b, const KvGeometry& g, int layer, int n_heads,
                      float scale, int window);
void rope_partial(float* x, const int32_t* positions, int n_tokens, int heads, int head_dim, int rotary_dim,
                  const float* inv_freq);

}  // namespace sn::engine::cpu

#endif  // SELECTN_ENGINE_CPU_KERNELS_H

// CPU reference kernels, one file each. Plain loops in fp32; the CUDA kernels are checked
// against these. Weights come in their stored dtype (Weight) and are widened to fp32 as read.
#ifndef SELECTN_ENGINE_CPU_KERNELS_H
#define SELECTN_ENGINE_CPU_KERNELS_H

#include <cstddef>
#include <cstdint>
#include <vector>

#include "../batch.h"
#include "../weight.h"
#include "thread-team.h"

namespace sn::engine::cpu {

void rmsnorm(float* out, const float* x, Weight w, int n, int dim, float eps);
void layernorm(float* out, const float* x, Weight w, Weight bias, int n, int dim, float eps);
void rope(float* x, const int32_t* positions, int n_tokens, int heads, int head_dim, const float* inv_freq);
void embedding(float* x, Weight table, const int32_t* rows, int n, int dim, int row_offset, bool accumulate);
void softmax(float* x, int n);  // in place, one row
void swiglu(float* out, const float* gate, const float* up, size_t n);
void relu(float* x, size_t n);
// Widens n elements of w to fp32: w's own memory when it is fp32, else `buf` (resized), so a
// kernel reads a small vector (a norm weight, a bias) once per call in fp32.
const float* widen(Weight w, size_t n, std::vector<float>& buf);
// team (may be null: the caller's thread only) runs the half-precision decode loops; fp32 and
// the GEMMs use OpenBLAS's own threads.
void linear(float* y, const float* x, Weight w, Weight bias, int n, int in, int out, ThreadTeam* team = nullptr);
void kv_store(const float* k, const float* v, const BatchView& b, const KvGeometry& g, int layer);
void attention(float* out, const float* q, const BatchView& b, const KvGeometry& g, int layer, int n_heads,
               float scale);
void attention_window(float* out, const float* q, const BatchView& b, const KvGeometry& g, int layer, int n_heads,
                      float scale, int window);
void rope_partial(float* x, const int32_t* positions, int n_tokens, int heads, int head_dim, int rotary_dim,
                  const float* inv_freq);

}  // namespace sn::engine::cpu

#endif  // SELECTN_ENGINE_CPU_KERNELS_H

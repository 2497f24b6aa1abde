// CUDA kernels of the engine, one small .cu file each; launchers take the compute stream. Each
// mirrors the CPU kernel of the same name in ../cpu (the reference the tests compare against).
#ifndef SELECTN_ENGINE_CUDA_KERNELS_CUH
#define SELECTN_ENGINE_CUDA_KERNELS_CUH

#include <cuda_runtime.h>

#include <cstddef>
#include <cstdint>

#include "../batch.h"

namespace sn::engine::cuda {

void rmsnorm(float* out, const float* x, const float* w, int n, int dim, float eps, cudaStream_t s);
void layernorm(float* out, const float* x, const float* w, const float* bias, int n, int dim, float eps,
               cudaStream_t s);
void rope(float* x, const int32_t* positions, int n_tokens, int heads, int head_dim, const float* inv_freq,
          cudaStream_t s);
// x[r] = table[rows[r] + offset] (accumulate: +=)
void embedding(float* x, const float* table, const int32_t* rows, int n, int dim, int offset, bool accumulate,
               cudaStream_t s);
void swiglu(float* out, const float* gate, const float* up, size_t n, cudaStream_t s);
void relu(float* x, size_t n, cudaStream_t s);
void add(float* x, const float* y, size_t n, cudaStream_t s);
void add_bias(float* y, const float* bias, int n, int dim, cudaStream_t s);
void kv_store(const float* k, const float* v, const BatchView& b, const KvGeometry& g, int layer, cudaStream_t s);
// Contexts up to max_attention_context() positions (scores live in shared memory).
void attention(float* out, const float* q, const BatchView& b, const KvGeometry& g, int layer, int n_heads,
               float scale, int max_ctx, cudaStream_t s);
int max_attention_context();
// attention() over each token's last `window` positions; min(max_ctx, window) up to
// max_attention_context().
void attention_window(float* out, const float* q, const BatchView& b, const KvGeometry& g, int layer, int n_heads,
                      float scale, int window, int max_ctx, cudaStream_t s);
void rope_partial(float* x, const int32_t* positions, int n_tokens, int heads, int head_dim, int rotary_dim,
                  const float* inv_freq, cudaStream_t s);

}  // namespace sn::engine::cuda

#endif

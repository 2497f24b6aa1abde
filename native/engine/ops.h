// The kernels a forward pass needs, behind one interface with a CPU and a CUDA implementation
// (ggml-backend style). All pointers are device pointers of the runtime's backend; shapes are
// row-major, `n` rows of `dim` floats. Activations are fp32; weights (Weight) are in their stored
// dtype and read as fp32. Calls are ordered (CPU: run now; CUDA: on the compute
// stream).
#ifndef SELECTN_ENGINE_OPS_H
#define SELECTN_ENGINE_OPS_H

#include <cstddef>
#include <cstdint>
#include <memory>

#include "batch.h"
#include "weight.h"

namespace sn::engine {

class Ops {
 public:
  virtual ~Ops() = default;
  // x[t] = table[token_ids[t]]                                          x: [n_tokens, dim]
  virtual void embed(float* x, Weight table, const BatchView& b, int dim) = 0;
  // x[t] += table[positions[t] + offset]                                 (OPT learned positions)
  virtual void add_positions(float* x, Weight table, const BatchView& b, int dim, int offset) = 0;
  virtual void rmsnorm(float* out, const float* x, Weight w, int n, int dim, float eps) = 0;
  virtual void layernorm(float* out, const float* x, Weight w, Weight bias, int n, int dim,
                         float eps) = 0;
  // y[n, out] = x[n, in] . w[out, in]^T (+ bias[out])
  virtual void linear(float* y, const float* x, Weight w, Weight bias, int n, int in, int out) = 0;
  // Rotates x [n_tokens, heads, head_dim] in place (half-split pairs, as HF rotate_half).
  // inv_freq: [head_dim / 2].
  virtual void rope(float* x, const BatchView& b, int heads, int head_dim, const float* inv_freq) = 0;
  // Writes k, v [n_tokens, n_kv_heads * head_dim] into their sequences' blocks at their positions.
  virtual void kv_store(const float* k, const float* v, const BatchView& b, const KvGeometry& g, int layer) = 0;
  // Causal attention of q [n_tokens, n_heads * head_dim] over each token's sequence positions
  // 0..positions[t] in the paged cache; out has q's shape. GQA: head h reads KV head h / group.
  virtual void attention(float* out, const float* q, const BatchView& b, const KvGeometry& g, int layer,
                         int n_heads, float scale) = 0;
  // attention() restricted to each token's last `window` positions (sliding window; window >= 1).
  virtual void attention_window(float* out, const float* q, const BatchView& b, const KvGeometry& g, int layer,
                                int n_heads, float scale, int window) = 0;
  // rope() on the first rotary_dim (even, <= head_dim) dims of each head; the rest pass through.
  virtual void rope_partial(float* x, const BatchView& b, int heads, int head_dim, int rotary_dim,
                            const float* inv_freq) = 0;
  virtual void swiglu(float* out, const float* gate, const float* up, size_t n) = 0;  // silu(g) * u
  virtual void relu(float* x, size_t n) = 0;
  virtual void add(float* x, const float* y, size_t n) = 0;  // x += y
  // out[i] = x[rows[i]]                                                   out: [n, dim]
  virtual void gather_rows(float* out, const float* x, const int32_t* rows, int n, int dim) = 0;
};

// CPU kernels (cpu/*.cc), GEMMs through BLAS with `threads` threads (0 = library default).
std::unique_ptr<Ops> make_cpu_ops(int threads);
// CUDA kernels (cuda/*.cu) on the given cudaStream_t, GEMMs through cuBLAS; nullptr when the
// engine was built without CUDA.
std::unique_ptr<Ops> make_cuda_ops(void* stream);

}  // namespace sn::engine

#endif  // SELECTN_ENGINE_OPS_H

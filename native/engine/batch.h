// One iteration's input as flat arrays (vLLM-style "plain data"), and the KV block geometry.
#ifndef SELECTN_ENGINE_BATCH_H
#define SELECTN_ENGINE_BATCH_H

#include <cstddef>
#include <cstdint>

#include "selectn/engine.h"

namespace sn::engine {

// One sequence's work in a step: n_tokens new tokens (a whole prompt, a prompt chunk or one decode
// token) appended after n_past tokens already in its KV cache; block_ids is its block table of KV
// block ids from the runtime's pool. The C struct of include/selectn/engine.h.
using SeqStep = sn_seq_step;

#if defined(__CUDACC__)
#define SN_HOST_DEVICE __host__ __device__
#else
#define SN_HOST_DEVICE
#endif

// KV block contents: for each layer, K then V, each [n_kv_heads][block_size][head_dim] fp32.
struct KvGeometry {
  int32_t n_layers = 0, n_kv_heads = 0, head_dim = 0, block_size = 0;
  SN_HOST_DEVICE size_t head_stride() const { return size_t(block_size) * size_t(head_dim); }
  SN_HOST_DEVICE size_t kv_stride() const { return size_t(n_kv_heads) * head_stride(); }  // K -> V
  SN_HOST_DEVICE size_t layer_stride() const { return 2 * kv_stride(); }
  SN_HOST_DEVICE size_t block_floats() const { return size_t(n_layers) * layer_stride(); }
  SN_HOST_DEVICE size_t block_bytes() const { return block_floats() * sizeof(float); }
};

// Kernel view of a step (device pointers on CUDA, host pointers on CPU).
struct BatchView {
  int32_t n_tokens = 0, n_seqs = 0, max_blocks = 0, n_logits = 0;
  int32_t max_ctx = 0;                  // longest context any token attends to (positions + 1)
  const int32_t* token_ids = nullptr;   // [n_tokens]
  const int32_t* positions = nullptr;   // [n_tokens] absolute position in its sequence
  const int32_t* token_seq = nullptr;   // [n_tokens] sequence index
  const int32_t* logit_rows = nullptr;  // [n_logits] token rows whose logits are produced
  float* const* block_ptrs = nullptr;   // [n_seqs][max_blocks] KV block base pointers
};

}  // namespace sn::engine

#endif  // SELECTN_ENGINE_BATCH_H

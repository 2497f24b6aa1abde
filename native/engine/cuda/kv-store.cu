#include "kernels.cuh"

namespace sn::engine::cuda {

// One block per (token, kv head): copy its K and V vectors into slot pos % B of block pos / B.
__global__ void kv_store_kernel(const float* k, const float* v, BatchView b, KvGeometry g, int layer) {
  const int t = blockIdx.x / g.n_kv_heads, h = blockIdx.x % g.n_kv_heads, hd = g.head_dim;
  const int pos = b.positions[t];
  float* block = b.block_ptrs[size_t(b.token_seq[t]) * b.max_blocks + pos / g.block_size];
  float* kd = block + size_t(layer) * g.layer_stride() + size_t(h) * g.head_stride() + size_t(pos % g.block_size) * hd;
  float* vd = kd + g.kv_stride();
  const size_t src = (size_t(t) * g.n_kv_heads + h) * hd;
  for (int i = threadIdx.x; i < hd; i += blockDim.x) {
    kd[i] = k[src + i];
    vd[i] = v[src + i];
  }
}

void kv_store(const float* k, const float* v, const BatchView& b, const KvGeometry& g, int layer, cudaStream_t s) {
  if (b.n_tokens > 0) kv_store_kernel<<<b.n_tokens * g.n_kv_heads, 64, 0, s>>>(k, v, b, g, layer);
}

}  // namespace sn::engine::cuda

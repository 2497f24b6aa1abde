#include <algorithm>
#include <cfloat>

#include "kernels.cuh"
#include "reduce.cuh"

namespace sn::engine::cuda {

namespace {
constexpr int kMaxSharedBytes = 96 * 1024;
}

// One block per (token, query head) over the window start..pos of each token (cpu/attention.cc).
// Scores of the window's positions in shared memory: dot products (one position per thread),
// block max and sum, then each thread accumulates output dims.
__global__ void attention_window_kernel(float* out, const float* q, BatchView b, KvGeometry g, int layer,
                                        int n_heads, float scale, int window) {
  extern __shared__ float scores[];
  const int t = blockIdx.x / n_heads, h = blockIdx.x % n_heads, hd = g.head_dim, B = g.block_size;
  const int end = b.positions[t] + 1, start = max(0, end - window), ctx = end - start;
  float* const* blocks = b.block_ptrs + size_t(b.token_seq[t]) * b.max_blocks;
  const size_t head_off = size_t(layer) * g.layer_stride() + size_t(h / (n_heads / g.n_kv_heads)) * g.head_stride();
  const float* qh = q + (size_t(t) * n_heads + h) * hd;
  float m = -FLT_MAX;
  for (int j = threadIdx.x; j < ctx; j += blockDim.x) {
    const int p = start + j;
    const float* kp = blocks[p / B] + head_off + size_t(p % B) * hd;
    float s = 0;
    for (int i = 0; i < hd; ++i) s += qh[i] * kp[i];
    s *= scale;
    scores[j] = s;
    m = fmaxf(m, s);
  }
  __shared__ float red[32];
  for (int o = 16; o > 0; o >>= 1) m = fmaxf(m, __shfl_xor_sync(0xffffffffu, m, o));
  if ((threadIdx.x & 31) == 0) red[threadIdx.x >> 5] = m;
  __syncthreads();
  if (threadIdx.x < 32) {
    float v = threadIdx.x < (blockDim.x + 31) / 32 ? red[threadIdx.x] : -FLT_MAX;
    for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
    if (threadIdx.x == 0) red[0] = v;
  }
  __syncthreads();
  const float mx = red[0];
  float local = 0;
  for (int j = threadIdx.x; j < ctx; j += blockDim.x) {
    const float e = expf(scores[j] - mx);
    scores[j] = e;
    local += e;
  }
  const float inv = 1.0f / block_sum(local);  // block_sum syncs, so scores[] is complete
  for (int i = threadIdx.x; i < hd; i += blockDim.x) {
    float acc = 0;
    for (int j = 0; j < ctx; ++j) {
      const int p = start + j;
      acc += scores[j] * blocks[p / B][head_off + g.kv_stride() + size_t(p % B) * hd + i];
    }
    out[(size_t(t) * n_heads + h) * hd + i] = acc * inv;
  }
}

void attention_window(float* out, const float* q, const BatchView& b, const KvGeometry& g, int layer, int n_heads,
                      float scale, int window, int max_ctx, cudaStream_t s) {
  if (b.n_tokens <= 0) return;
  static bool configured = false;
  if (!configured) {
    cudaFuncSetAttribute(attention_window_kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, kMaxSharedBytes);
    configured = true;
  }
  const size_t shared = size_t(std::min(max_ctx, window)) * sizeof(float);
  attention_window_kernel<<<b.n_tokens * n_heads, 128, shared, s>>>(out, q, b, g, layer, n_heads, scale, window);
}

int max_attention_context() { return kMaxSharedBytes / int(sizeof(float)); }

// Full causal attention: the window that covers every position up to max_ctx.
void attention(float* out, const float* q, const BatchView& b, const KvGeometry& g, int layer, int n_heads,
               float scale, int max_ctx, cudaStream_t s) {
  attention_window(out, q, b, g, layer, n_heads, scale, max_ctx, max_ctx, s);
}

}  // namespace sn::engine::cuda

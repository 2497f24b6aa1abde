#include "kernels.cuh"

namespace sn::engine::cuda {

// One block per (token, head), one thread per rotated pair (i, i + rotary_dim/2); dims from
// rotary_dim to head_dim pass through unchanged (cpu/rope.cc).
__global__ void rope_kernel(float* x, const int32_t* positions, int heads, int head_dim, int rotary_dim,
                            const float* inv_freq) {
  const int t = blockIdx.x / heads, h = blockIdx.x % heads, half = rotary_dim / 2;
  float* v = x + (size_t(t) * heads + h) * head_dim;
  for (int i = threadIdx.x; i < half; i += blockDim.x) {
    const float angle = float(positions[t]) * inv_freq[i];
    float sn, cs;
    sincosf(angle, &sn, &cs);
    const float a = v[i], b = v[i + half];
    v[i] = a * cs - b * sn;
    v[i + half] = b * cs + a * sn;
  }
}

void rope_partial(float* x, const int32_t* positions, int n_tokens, int heads, int head_dim, int rotary_dim,
                  const float* inv_freq, cudaStream_t s) {
  if (n_tokens > 0) rope_kernel<<<n_tokens * heads, 64, 0, s>>>(x, positions, heads, head_dim, rotary_dim, inv_freq);
}

void rope(float* x, const int32_t* positions, int n_tokens, int heads, int head_dim, const float* inv_freq,
          cudaStream_t s) {
  rope_partial(x, positions, n_tokens, heads, head_dim, head_dim, inv_freq, s);
}

}  // namespace sn::engine::cuda

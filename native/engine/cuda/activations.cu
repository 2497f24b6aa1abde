#include "kernels.cuh"

namespace sn::engine::cuda {

__global__ void swiglu_kernel(float* out, const float* gate, const float* up, size_t n) {
  for (size_t i = blockIdx.x * size_t(blockDim.x) + threadIdx.x; i < n; i += size_t(gridDim.x) * blockDim.x)
    out[i] = gate[i] / (1.0f + expf(-gate[i])) * up[i];
}
__global__ void relu_kernel(float* x, size_t n) {
  for (size_t i = blockIdx.x * size_t(blockDim.x) + threadIdx.x; i < n; i += size_t(gridDim.x) * blockDim.x)
    x[i] = fmaxf(x[i], 0.0f);
}
__global__ void add_kernel(float* x, const float* y, size_t n) {
  for (size_t i = blockIdx.x * size_t(blockDim.x) + threadIdx.x; i < n; i += size_t(gridDim.x) * blockDim.x)
    x[i] += y[i];
}
__global__ void add_bias_kernel(float* y, const float* bias, size_t n, int dim) {
  for (size_t i = blockIdx.x * size_t(blockDim.x) + threadIdx.x; i < n; i += size_t(gridDim.x) * blockDim.x)
    y[i] += bias[i % dim];
}

namespace {
unsigned grid_for(size_t n) { return unsigned(n < 256 * 4096 ? (n + 255) / 256 : 4096); }
}  // namespace

void swiglu(float* out, const float* gate, const float* up, size_t n, cudaStream_t s) {
  if (n) swiglu_kernel<<<grid_for(n), 256, 0, s>>>(out, gate, up, n);
}
void relu(float* x, size_t n, cudaStream_t s) {
  if (n) relu_kernel<<<grid_for(n), 256, 0, s>>>(x, n);
}
void add(float* x, const float* y, size_t n, cudaStream_t s) {
  if (n) add_kernel<<<grid_for(n), 256, 0, s>>>(x, y, n);
}
void add_bias(float* y, const float* bias, int n, int dim, cudaStream_t s) {
  const size_t total = size_t(n) * dim;
  if (total) add_bias_kernel<<<grid_for(total), 256, 0, s>>>(y, bias, total, dim);
}

}  // namespace sn::engine::cuda

#include "kernels.cuh"

namespace sn::engine::cuda {

// One block per output row: gather (or accumulate) a table row.
__global__ void embedding_kernel(float* x, const float* table, const int32_t* rows, int dim, int offset,
                                 bool accumulate) {
  const float* src = table + size_t(rows[blockIdx.x] + offset) * dim;
  float* dst = x + size_t(blockIdx.x) * dim;
  for (int i = threadIdx.x; i < dim; i += blockDim.x) dst[i] = accumulate ? dst[i] + src[i] : src[i];
}

void embedding(float* x, const float* table, const int32_t* rows, int n, int dim, int offset, bool accumulate,
               cudaStream_t s) {
  if (n > 0) embedding_kernel<<<n, 256, 0, s>>>(x, table, rows, dim, offset, accumulate);
}

}  // namespace sn::engine::cuda

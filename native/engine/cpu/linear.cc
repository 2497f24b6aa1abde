#include <cblas.h>

#include "kernels.h"

namespace sn::engine::cpu {

// y[n, out] = x[n, in] . w[out, in]^T + bias. One row goes through GEMV (decode), more through
// GEMM; both are OpenBLAS.
void linear(float* y, const float* x, const float* w, const float* bias, int n, int in, int out) {
  if (n == 1) {
    cblas_sgemv(CblasRowMajor, CblasNoTrans, out, in, 1.0f, w, in, x, 1, 0.0f, y, 1);
  } else {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, out, in, 1.0f, x, in, w, in, 0.0f, y, out);
  }
  if (bias) {
    for (int r = 0; r < n; ++r) {
      float* yr = y + size_t(r) * out;
      for (int i = 0; i < out; ++i) yr[i] += bias[i];
    }
  }
}

}  // namespace sn::engine::cpu

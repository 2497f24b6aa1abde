#include <cmath>

#include "kernels.h"

namespace sn::engine::cpu {

// out = x / sqrt(mean(x^2) + eps) * w, per row (Llama RMSNorm; statistics in double).
void rmsnorm(float* out, const float* x, const float* w, int n, int dim, float eps) {
  for (int r = 0; r < n; ++r) {
    const float* xr = x + size_t(r) * dim;
    float* o = out + size_t(r) * dim;
    double ss = 0;
    for (int i = 0; i < dim; ++i) ss += double(xr[i]) * xr[i];
    const float inv = float(1.0 / std::sqrt(ss / dim + eps));
    for (int i = 0; i < dim; ++i) o[i] = w[i] * (xr[i] * inv);
  }
}

}  // namespace sn::engine::cpu

#include <cmath>

#include "kernels.h"

namespace sn::engine::cpu {

// out = x / sqrt(mean(x^2) + eps) * w, per row (Llama RMSNorm; statistics in double).
void rmsnorm(float* out, const float* x, Weight weight, int n, int dim, float eps) {
  std::vector<float> buf;
  const float* w = widen(weight, size_t(dim), buf);
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

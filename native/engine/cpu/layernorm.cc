#include <cmath>

#include "kernels.h"

namespace sn::engine::cpu {

// out = (x - mean) / sqrt(var + eps) * w + bias, per row (biased variance, as torch).
void layernorm(float* out, const float* x, Weight weight, Weight bias_weight, int n, int dim, float eps) {
  std::vector<float> wbuf, bbuf;
  const float* w = widen(weight, size_t(dim), wbuf);
  const float* bias = widen(bias_weight, size_t(dim), bbuf);
  for (int r = 0; r < n; ++r) {
    const float* xr = x + size_t(r) * dim;
    float* o = out + size_t(r) * dim;
    double mean = 0;
    for (int i = 0; i < dim; ++i) mean += xr[i];
    mean /= dim;
    double var = 0;
    for (int i = 0; i < dim; ++i) var += (xr[i] - mean) * (xr[i] - mean);
    var /= dim;
    const double inv = 1.0 / std::sqrt(var + eps);
    for (int i = 0; i < dim; ++i) o[i] = float((xr[i] - mean) * inv) * w[i] + bias[i];
  }
}

}  // namespace sn::engine::cpu

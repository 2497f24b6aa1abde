#include <cmath>

#include "kernels.h"

namespace sn::engine::cpu {

// SwiGLU: out = silu(gate) * up, silu(g) = g / (1 + e^-g).
void swiglu(float* out, const float* gate, const float* up, size_t n) {
  for (size_t i = 0; i < n; ++i) out[i] = gate[i] / (1.0f + std::exp(-gate[i])) * up[i];
}

void relu(float* x, size_t n) {
  for (size_t i = 0; i < n; ++i) x[i] = x[i] > 0.0f ? x[i] : 0.0f;
}

}  // namespace sn::engine::cpu

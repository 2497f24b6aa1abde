#include <cstring>

#include "kernels.h"

namespace sn::engine::cpu {

// x[r] = table[rows[r] + row_offset] (or +=, for learned positions). Rows were range-checked by
// the engine before the step.
void embedding(float* x, const float* table, const int32_t* rows, int n, int dim, int row_offset, bool accumulate) {
  for (int r = 0; r < n; ++r) {
    const float* src = table + size_t(rows[r] + row_offset) * dim;
    float* dst = x + size_t(r) * dim;
    if (accumulate) {
      for (int i = 0; i < dim; ++i) dst[i] += src[i];
    } else {
      std::memcpy(dst, src, sizeof(float) * size_t(dim));
    }
  }
}

}  // namespace sn::engine::cpu

#include "kernels.h"

namespace sn::engine::cpu {

// x[r] = table[rows[r] + row_offset] (or +=, for learned positions), widened to fp32. Rows were
// range-checked by the engine before the step.
void embedding(float* x, Weight table, const int32_t* rows, int n, int dim, int row_offset, bool accumulate) {
  std::vector<float> row(accumulate ? size_t(dim) : 0);
  for (int r = 0; r < n; ++r) {
    const Weight src = table.at(size_t(rows[r] + row_offset) * dim);
    float* dst = x + size_t(r) * dim;
    if (accumulate) {
      convert_to_f32(src.dtype, src.data, size_t(dim), row.data());
      for (int i = 0; i < dim; ++i) dst[i] += row[size_t(i)];
    } else {
      convert_to_f32(src.dtype, src.data, size_t(dim), dst);
    }
  }
}

}  // namespace sn::engine::cpu

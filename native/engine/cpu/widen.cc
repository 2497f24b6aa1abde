#include "kernels.h"

namespace sn::engine::cpu {

const float* widen(Weight w, size_t n, std::vector<float>& buf) {
  if (w.dtype == DType::F32) return static_cast<const float*>(w.data);
  buf.resize(n);
  convert_to_f32(w.dtype, w.data, n, buf.data());
  return buf.data();
}

}  // namespace sn::engine::cpu

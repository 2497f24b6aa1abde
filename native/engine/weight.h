// A pointer to weights in their stored dtype (fp32, fp16 or bf16). Kernels read them as fp32:
// weights keep the checkpoint's width in every memory tier, compute stays in fp32.
#ifndef SELECTN_ENGINE_WEIGHT_H
#define SELECTN_ENGINE_WEIGHT_H

#include <cstddef>

#include "dtype.h"

namespace sn::engine {

struct Weight {
  const void* data = nullptr;
  DType dtype = DType::F32;
  explicit operator bool() const { return data != nullptr; }
  // The element `i` places further on, in the same dtype.
  Weight at(size_t i) const {
    return {data ? static_cast<const unsigned char*>(data) + i * dtype_size(dtype) : nullptr, dtype};
  }
};

}  // namespace sn::engine

#endif  // SELECTN_ENGINE_WEIGHT_H

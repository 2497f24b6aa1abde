// Tensor element types as named by safetensors, and conversion of the float ones to fp32.
#ifndef SELECTN_ENGINE_DTYPE_H
#define SELECTN_ENGINE_DTYPE_H

#include <cstddef>
#include <cstdint>
#include <string>

namespace sn::engine {

enum class DType { F64, F32, F16, BF16, I64, I32, I16, I8, U8, BOOL, F8_E4M3, F8_E5M2 };

// Parses a safetensors dtype name ("F32", "BF16", ...). Returns false for an unknown name.
bool dtype_from_name(const std::string& name, DType* out);
const char* dtype_name(DType d);
size_t dtype_size(DType d);
// True for the types the engine accepts as weights (F32, F16, BF16).
bool dtype_is_weight(DType d);

float f16_to_f32(uint16_t h);
float bf16_to_f32(uint16_t b);
uint16_t f32_to_f16(float f);  // round to nearest even; for tests and the CUDA path

// Converts n elements of a weight dtype at src (any alignment) to fp32 at dst.
void convert_to_f32(DType d, const void* src, size_t n, float* dst);

}  // namespace sn::engine

#endif  // SELECTN_ENGINE_DTYPE_H

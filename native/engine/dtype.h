// Tensor element types as named by safetensors, and conversion between the float ones.
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
uint16_t f32_to_f16(float f);   // round to nearest even
uint16_t f32_to_bf16(float f);  // round to nearest even; NaN stays NaN

// Branch-free fp16 -> fp32 (exact for every input, same results as f16_to_f32): the form the
// kernels' inner loops use, since the compiler vectorises it.
inline float f16_to_f32_fast(uint16_t h) {
  // Shift exponent and mantissa into fp32 position and rescale by 2^112 (the bias difference);
  // this also normalises subnormals. Inf/NaN (exponent 31) get the fp32 all-ones exponent.
  const uint32_t magnitude = uint32_t(h & 0x7fffu) << 13;
  float f;
  __builtin_memcpy(&f, &magnitude, 4);
  f *= 0x1p112f;
  uint32_t bits;
  __builtin_memcpy(&bits, &f, 4);
  if ((h & 0x7c00u) == 0x7c00u) bits = magnitude | 0x7f800000u;
  bits |= uint32_t(h & 0x8000u) << 16;
  __builtin_memcpy(&f, &bits, 4);
  return f;
}

// Converts n elements of a weight dtype at src (2-byte aligned) to fp32 at dst.
void convert_to_f32(DType d, const void* src, size_t n, float* dst);
// Converts n fp32 values to weight dtype d at dst (round to nearest even).
void convert_from_f32(DType d, const float* src, size_t n, void* dst);
// Converts n elements from weight dtype `from` to weight dtype `to` (a copy when they match).
void convert_weights(DType from, const void* src, size_t n, DType to, void* dst);
// The stored dtype for a requested name: "auto" (-> `checkpoint`), "float32", "float16",
// "bfloat16" (the torch_dtype names). Returns false for anything else.
bool weight_dtype_from_request(const std::string& name, DType checkpoint, DType* out);
// torch_dtype name of a weight dtype ("float32", "float16", "bfloat16").
const char* torch_dtype_name(DType d);

}  // namespace sn::engine

#endif  // SELECTN_ENGINE_DTYPE_H

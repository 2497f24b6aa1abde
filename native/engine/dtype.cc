#include "dtype.h"

#include <cassert>
#include <cstring>
#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>

#include "cpu-features.h"
#endif

namespace sn::engine {

namespace {
struct Entry {
  const char* name;
  DType type;
  size_t size;
};
constexpr Entry kTypes[] = {
    {"F64", DType::F64, 8},         {"F32", DType::F32, 4},         {"F16", DType::F16, 2},
    {"BF16", DType::BF16, 2},       {"I64", DType::I64, 8},         {"I32", DType::I32, 4},
    {"I16", DType::I16, 2},         {"I8", DType::I8, 1},           {"U8", DType::U8, 1},
    {"BOOL", DType::BOOL, 1},       {"F8_E4M3", DType::F8_E4M3, 1}, {"F8_E5M2", DType::F8_E5M2, 1},
};
}  // namespace

bool dtype_from_name(const std::string& name, DType* out) {
  for (const Entry& e : kTypes) {
    if (name == e.name) {
      *out = e.type;
      return true;
    }
  }
  return false;
}

const char* dtype_name(DType d) {
  for (const Entry& e : kTypes)
    if (e.type == d) return e.name;
  return "?";
}

size_t dtype_size(DType d) {
  for (const Entry& e : kTypes)
    if (e.type == d) return e.size;
  return 0;
}

bool dtype_is_weight(DType d) { return d == DType::F32 || d == DType::F16 || d == DType::BF16; }

float f16_to_f32(uint16_t h) {
  const uint32_t sign = uint32_t(h & 0x8000) << 16;
  uint32_t exp = (h >> 10) & 0x1f;
  uint32_t mant = h & 0x3ff;
  uint32_t bits;
  if (exp == 0) {
    if (mant == 0) {
      bits = sign;
    } else {  // subnormal: normalise
      exp = 127 - 15 + 1;
      while ((mant & 0x400) == 0) {
        mant <<= 1;
        --exp;
      }
      mant &= 0x3ff;
      bits = sign | (exp << 23) | (mant << 13);
    }
  } else if (exp == 0x1f) {
    bits = sign | 0x7f800000u | (mant << 13);
  } else {
    bits = sign | ((exp + 127 - 15) << 23) | (mant << 13);
  }
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

float bf16_to_f32(uint16_t b) {
  const uint32_t bits = uint32_t(b) << 16;
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

uint16_t f32_to_f16(float f) {
  uint32_t x;
  std::memcpy(&x, &f, 4);
  const uint32_t sign = (x >> 16) & 0x8000;
  const int32_t exp = int32_t((x >> 23) & 0xff) - 127 + 15;
  uint32_t mant = x & 0x7fffff;
  if (((x >> 23) & 0xff) == 0xff) return uint16_t(sign | 0x7c00 | (mant ? 0x200 : 0));
  if (exp >= 0x1f) return uint16_t(sign | 0x7c00);
  if (exp <= 0) {
    if (exp < -10) return uint16_t(sign);
    mant |= 0x800000;
    const uint32_t shift = uint32_t(14 - exp);
    uint32_t half = mant >> shift;
    const uint32_t rem = mant & ((1u << shift) - 1);
    const uint32_t mid = 1u << (shift - 1);
    if (rem > mid || (rem == mid && (half & 1))) ++half;
    return uint16_t(sign | half);
  }
  uint32_t half = (uint32_t(exp) << 10) | (mant >> 13);
  const uint32_t rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem == 0x1000 && (half & 1))) ++half;
  return uint16_t(sign | half);
}

uint16_t f32_to_bf16(float f) {
  uint32_t x;
  std::memcpy(&x, &f, 4);
  if ((x & 0x7fffffffu) > 0x7f800000u) return uint16_t((x >> 16) | 0x40);  // quiet NaN
  x += 0x7fffu + ((x >> 16) & 1);  // round to nearest even on the dropped 16 bits
  return uint16_t(x >> 16);
}

namespace {
#if defined(__x86_64__) && defined(__GNUC__)
// fp16 -> fp32 eight at a time with F16C (vcvtph2ps), exact like f16_to_f32; chosen at run time.
__attribute__((target("avx,f16c"))) size_t f16_to_f32_f16c(const uint16_t* h, size_t n, float* dst) {
  size_t i = 0;
  for (; i + 8 <= n; i += 8)
    _mm256_storeu_ps(dst + i, _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(h + i))));
  return i;
}
bool have_f16c() {
  static const bool yes = x86_features().avx && x86_features().f16c;
  return yes;
}
#endif
}  // namespace

void convert_to_f32(DType d, const void* src, size_t n, float* dst) {
  assert(dtype_is_weight(d));
  if (d == DType::F32) {
    std::memcpy(dst, src, n * 4);
    return;
  }
  const auto* h = static_cast<const uint16_t*>(src);
  if (d == DType::BF16) {
    for (size_t i = 0; i < n; ++i) {
      const uint32_t bits = uint32_t(h[i]) << 16;
      std::memcpy(dst + i, &bits, 4);
    }
  } else {
    size_t i = 0;
#if defined(__x86_64__) && defined(__GNUC__)
    if (have_f16c()) i = f16_to_f32_f16c(h, n, dst);
#endif
    for (; i < n; ++i) dst[i] = f16_to_f32_fast(h[i]);
  }
}

void convert_from_f32(DType d, const float* src, size_t n, void* dst) {
  assert(dtype_is_weight(d));
  if (d == DType::F32) {
    std::memcpy(dst, src, n * 4);
    return;
  }
  auto* h = static_cast<uint16_t*>(dst);
  for (size_t i = 0; i < n; ++i) h[i] = d == DType::F16 ? f32_to_f16(src[i]) : f32_to_bf16(src[i]);
}

void convert_weights(DType from, const void* src, size_t n, DType to, void* dst) {
  if (from == to) {
    std::memcpy(dst, src, n * dtype_size(from));
    return;
  }
  // Through fp32 in chunks, so a large tensor needs no full-size fp32 copy.
  constexpr size_t kChunk = 1 << 14;
  float tmp[kChunk];
  const auto* s = static_cast<const unsigned char*>(src);
  auto* o = static_cast<unsigned char*>(dst);
  for (size_t at = 0; at < n; at += kChunk) {
    const size_t m = n - at < kChunk ? n - at : kChunk;
    convert_to_f32(from, s + at * dtype_size(from), m, tmp);
    convert_from_f32(to, tmp, m, o + at * dtype_size(to));
  }
}

bool weight_dtype_from_request(const std::string& name, DType checkpoint, DType* out) {
  if (name == "auto" || name.empty()) *out = checkpoint;
  else if (name == "float32") *out = DType::F32;
  else if (name == "float16") *out = DType::F16;
  else if (name == "bfloat16") *out = DType::BF16;
  else return false;
  return true;
}

const char* torch_dtype_name(DType d) {
  switch (d) {
    case DType::F32: return "float32";
    case DType::F16: return "float16";
    case DType::BF16: return "bfloat16";
    default: return "?";
  }
}

}  // namespace sn::engine

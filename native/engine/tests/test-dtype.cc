#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <vector>

#include "dtype.h"

namespace sn::engine {
namespace {

TEST(DType, NamesRoundTripAndSizes) {
  DType d;
  ASSERT_TRUE(dtype_from_name("BF16", &d));
  EXPECT_EQ(d, DType::BF16);
  EXPECT_EQ(dtype_size(d), 2u);
  EXPECT_STREQ(dtype_name(DType::F16), "F16");
  EXPECT_FALSE(dtype_from_name("f32", &d));
  EXPECT_FALSE(dtype_is_weight(DType::I64));
}

TEST(DType, HalfConversionIsExactForEveryHalf) {
  for (uint32_t h = 0; h < 0x10000; ++h) {
    const float f = f16_to_f32(uint16_t(h));
    if (std::isnan(f)) continue;
    EXPECT_EQ(f32_to_f16(f), uint16_t(h)) << std::hex << h;
  }
  EXPECT_EQ(f16_to_f32(0x3c00), 1.0f);
  EXPECT_EQ(f16_to_f32(0x0001), std::ldexp(1.0f, -24));  // smallest subnormal
  EXPECT_EQ(f32_to_f16(1.0f + std::ldexp(1.0f, -11)), 0x3c00);  // tie rounds to even
}

TEST(DType, Bf16IsTheTopHalfOfFloat) {
  EXPECT_EQ(bf16_to_f32(0x3f80), 1.0f);
  EXPECT_EQ(bf16_to_f32(0xc040), -3.0f);
  const uint16_t src[2] = {0x4000, 0xbf80};
  float out[2];
  convert_to_f32(DType::BF16, src, 2, out);
  EXPECT_EQ(out[0], 2.0f);
  EXPECT_EQ(out[1], -1.0f);
}

TEST(DType, FastHalfConversionMatchesTheReferenceForEveryHalf) {
  for (uint32_t h = 0; h < 0x10000; ++h) {
    const float ref = f16_to_f32(uint16_t(h)), fast = f16_to_f32_fast(uint16_t(h));
    uint32_t a, b;
    std::memcpy(&a, &ref, 4);
    std::memcpy(&b, &fast, 4);
    EXPECT_EQ(a, b) << std::hex << h;
  }
}

// The bulk conversion (vectorised where the CPU allows) agrees with the reference for every half.
TEST(DType, BulkHalfConversionMatchesTheReference) {
  std::vector<uint16_t> all(0x10000 + 5);
  for (size_t i = 0; i < all.size(); ++i) all[i] = uint16_t(i);
  std::vector<float> out(all.size());
  convert_to_f32(DType::F16, all.data(), all.size(), out.data());
  for (size_t i = 0; i < all.size(); ++i) {
    const float ref = f16_to_f32(all[i]);
    if (std::isnan(ref)) {  // F16C quiets signalling NaNs; a NaN stays a NaN
      EXPECT_TRUE(std::isnan(out[i])) << std::hex << i;
      continue;
    }
    uint32_t a, b;
    std::memcpy(&a, &ref, 4);
    std::memcpy(&b, &out[i], 4);
    EXPECT_EQ(a, b) << std::hex << i;
  }
}

TEST(DType, Bf16RoundsToNearestEvenAndKeepsNan) {
  EXPECT_EQ(f32_to_bf16(1.0f), 0x3f80);
  const float tie_even = 1.0f + std::ldexp(1.0f, -8);  // halfway between 0x3f80 and 0x3f81
  EXPECT_EQ(f32_to_bf16(tie_even), 0x3f80);
  const float tie_odd = 1.0f + 3 * std::ldexp(1.0f, -8);  // halfway between 0x3f81 and 0x3f82
  EXPECT_EQ(f32_to_bf16(tie_odd), 0x3f82);
  EXPECT_TRUE(std::isnan(bf16_to_f32(f32_to_bf16(std::nanf("")))));
  for (uint32_t b = 0; b < 0x10000; ++b) {
    const float f = bf16_to_f32(uint16_t(b));
    if (std::isnan(f)) continue;
    EXPECT_EQ(f32_to_bf16(f), uint16_t(b)) << std::hex << b;
  }
}

TEST(DType, ConvertWeightsBetweenEveryPair) {
  const float v[4] = {1.0f, -2.5f, 0.125f, -0.0f};  // exact in all three types
  for (DType from : {DType::F32, DType::F16, DType::BF16}) {
    for (DType to : {DType::F32, DType::F16, DType::BF16}) {
      unsigned char a[16], b[16];
      float back[4];
      convert_from_f32(from, v, 4, a);
      convert_weights(from, a, 4, to, b);
      convert_to_f32(to, b, 4, back);
      for (int i = 0; i < 4; ++i) EXPECT_EQ(back[i], v[i]) << dtype_name(from) << "->" << dtype_name(to);
    }
  }
}

TEST(DType, RequestedWeightDtype) {
  DType d;
  ASSERT_TRUE(weight_dtype_from_request("auto", DType::BF16, &d));
  EXPECT_EQ(d, DType::BF16);
  ASSERT_TRUE(weight_dtype_from_request("float16", DType::BF16, &d));
  EXPECT_EQ(d, DType::F16);
  EXPECT_FALSE(weight_dtype_from_request("fp8", DType::BF16, &d));
  EXPECT_STREQ(torch_dtype_name(DType::BF16), "bfloat16");
}

}  // namespace
}  // namespace sn::engine

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

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

}  // namespace
}  // namespace sn::engine

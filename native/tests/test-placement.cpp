#include <gtest/gtest.h>

#include "placement.h"

namespace sn {

TEST(Placement, ValidateNamesTheBadEntry) {
  const uint32_t dup[] = {1, 2, 1};
  EXPECT_EQ(validate_set(dup, 3, 4, nullptr, nullptr), "layer 1 listed twice");
  const uint32_t oob[] = {7};
  EXPECT_EQ(validate_set(oob, 1, 4, nullptr, nullptr), "layer 7 out of range (model has 4 layers)");
  LayerMask host = {0, 1, 0, 1};
  const uint32_t outside[] = {1, 2};
  EXPECT_EQ(validate_set(outside, 2, 4, &host, "host set"), "layer 2 is not in the host set");
  const uint32_t ok[] = {3, 1};
  EXPECT_EQ(validate_set(ok, 2, 4, &host, "host set"), "");
  EXPECT_NE(validate_set(nullptr, 2, 4, nullptr, nullptr), "");
}

TEST(Placement, SwitchPlanAndOrder) {
  LayerMask active = {1, 0, 1, 0, 1};
  LayerMask target = {0, 0, 1, 1, 1};
  SwitchPlan p = plan_switch(active, target);
  EXPECT_EQ(p.to_offload, std::vector<uint32_t>({3}));
  EXPECT_EQ(p.to_resident, std::vector<uint32_t>({0}));
  EXPECT_EQ(streamed_order(target), std::vector<uint32_t>({2, 3, 4}));
  EXPECT_TRUE(mask_subset(LayerMask{0, 0, 1, 0, 1}, target));
  EXPECT_FALSE(mask_subset(active, target));
}

TEST(Placement, Bytes) {
  std::vector<uint64_t> bytes = {10, 20, 30, 40};
  EXPECT_EQ(resident_bytes(bytes, LayerMask{1, 0, 0, 1}), 50u);
  EXPECT_EQ(max_bytes(bytes, LayerMask{1, 1, 0, 0}), 20u);
  EXPECT_EQ(max_bytes(bytes, LayerMask{0, 0, 0, 0}), 0u);
}

}  // namespace sn

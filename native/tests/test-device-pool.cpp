#include <gtest/gtest.h>

#include "device-pool.h"

namespace sn {

class DevicePoolTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(backend_cpu_create(false, &be_).ok());
    pool_ = std::make_unique<DevicePool>(be_);
    ASSERT_TRUE(pool_->init(1 << 20).ok());
  }
  void TearDown() override {
    pool_.reset();
    be_.iface->destroy(be_.ctx);
  }
  Backend be_;
  std::unique_ptr<DevicePool> pool_;
};

TEST_F(DevicePoolTest, AccountsByTagAndAligns) {
  void *a, *b, *c;
  ASSERT_TRUE(pool_->alloc(1000, PoolTag::Weights, &a));
  ASSERT_TRUE(pool_->alloc(256, PoolTag::Kv, &b));
  ASSERT_TRUE(pool_->alloc(1, PoolTag::Scratch, &c));
  const DevicePoolStats s = pool_->stats();
  EXPECT_EQ(s.used, 1024u + 256u + 256u);
  EXPECT_EQ(s.by_tag[0], 1024u);
  EXPECT_EQ(s.by_tag[2], 256u);
  EXPECT_EQ(s.by_tag[3], 256u);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(b) % DevicePool::kAlign, 0u);
  EXPECT_FALSE(pool_->free(a, PoolTag::Kv)) << "wrong tag must be refused";
  EXPECT_TRUE(pool_->free(a, PoolTag::Weights));
  EXPECT_FALSE(pool_->free(a, PoolTag::Weights)) << "double free must be refused";
  EXPECT_TRUE(pool_->free(b, PoolTag::Kv));
  EXPECT_TRUE(pool_->free(c, PoolTag::Scratch));
  EXPECT_EQ(pool_->stats().used, 0u);
  EXPECT_EQ(pool_->stats().largest_free, 1u << 20) << "free extents must coalesce";
}

TEST_F(DevicePoolTest, SaysNoRoomAndBudgetLimits) {
  void* a;
  ASSERT_TRUE(pool_->alloc(600 << 10, PoolTag::Weights, &a));
  void* b;
  EXPECT_FALSE(pool_->alloc(600 << 10, PoolTag::Weights, &b));
  EXPECT_FALSE(pool_->set_budget(100 << 10)) << "budget below use";
  EXPECT_FALSE(pool_->set_budget(2 << 20)) << "budget above capacity";
  ASSERT_TRUE(pool_->set_budget(700 << 10));
  EXPECT_FALSE(pool_->alloc(200 << 10, PoolTag::Kv, &b)) << "fits the arena but not the budget";
  EXPECT_TRUE(pool_->alloc(100 << 10, PoolTag::Kv, &b));
  EXPECT_EQ(pool_->stats().largest_free, (700u << 10) - (700u << 10));
}

TEST_F(DevicePoolTest, AllocManyIsAllOrNothing) {
  std::vector<void*> got;
  EXPECT_FALSE(pool_->alloc_many(5, 300 << 10, PoolTag::Kv, &got));
  EXPECT_TRUE(got.empty());
  EXPECT_EQ(pool_->stats().used, 0u);
  EXPECT_TRUE(pool_->alloc_many(3, 300 << 10, PoolTag::Kv, &got));
  EXPECT_EQ(got.size(), 3u);
  EXPECT_TRUE(pool_->owns(got[1], PoolTag::Kv));
}

TEST_F(DevicePoolTest, ReusesHolesFirstFit) {
  std::vector<void*> got;
  ASSERT_TRUE(pool_->alloc_many(4, 256 << 10, PoolTag::Kv, &got));
  ASSERT_TRUE(pool_->free(got[1], PoolTag::Kv));
  void* p;
  ASSERT_TRUE(pool_->alloc(200 << 10, PoolTag::Weights, &p));
  EXPECT_EQ(p, got[1]);
}

}  // namespace sn

#include "staging-ring.h"

#include <cassert>

namespace sn {

StagingRing::~StagingRing() { release(); }

void StagingRing::release() {
  for (void* p : slot_ptrs_) {
    const bool ok = pool_->free(p, PoolTag::Staging);
    assert(ok);
    (void)ok;
  }
  slot_ptrs_.clear();
  slot_bytes_ = 0;
}

bool StagingRing::ensure(DevicePool* pool, uint32_t slots, uint64_t slot_bytes) {
  assert(slots > 0 && slot_bytes > 0);
  if (pool_ == pool && slot_ptrs_.size() == slots && slot_bytes_ == slot_bytes) return true;
  release();
  pool_ = pool;
  std::vector<void*> got;
  if (!pool->alloc_many(slots, slot_bytes, PoolTag::Staging, &got)) return false;
  slot_ptrs_ = std::move(got);
  slot_bytes_ = slot_bytes;
  return true;
}

}  // namespace sn

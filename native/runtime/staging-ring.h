// Staging ring: S device slots of `slot_bytes` each, drawn from the device pool.
// Within an iteration the k-th streamed layer (0-based, layer order) uses slot k % S; the copy
// for streamed layer k + S may start only after streamed layer k has been released (its reader
// finished). So at most S copies are ahead of compute, and the ring prefetches as far ahead as
// free slots allow.
#ifndef SELECTN_STAGING_RING_H
#define SELECTN_STAGING_RING_H

#include <cstdint>
#include <vector>

#include "device-pool.h"

namespace sn {

class StagingRing {
 public:
  StagingRing() = default;
  ~StagingRing();
  StagingRing(const StagingRing&) = delete;
  StagingRing& operator=(const StagingRing&) = delete;

  // (Re)allocates `slots` slots of `slot_bytes` from `pool` if the shape differs.
  // Returns false with the old slots released when the pool has no room.
  bool ensure(DevicePool* pool, uint32_t slots, uint64_t slot_bytes);
  void release();
  bool ready() const { return !slot_ptrs_.empty(); }

  uint32_t slots() const { return static_cast<uint32_t>(slot_ptrs_.size()); }
  uint64_t slot_bytes() const { return slot_bytes_; }
  uint64_t total_bytes() const { return slot_bytes_ * slot_ptrs_.size(); }
  void* slot_for_stream_index(uint32_t k) const { return slot_ptrs_[k % slot_ptrs_.size()]; }
  // Streamed index whose copy is unlocked by releasing streamed index k, or -1 if none (m total).
  int64_t next_after_release(uint32_t k, uint32_t m) const {
    const uint64_t nxt = static_cast<uint64_t>(k) + slot_ptrs_.size();
    return nxt < m ? static_cast<int64_t>(nxt) : -1;
  }

 private:
  DevicePool* pool_ = nullptr;
  uint64_t slot_bytes_ = 0;
  std::vector<void*> slot_ptrs_;
};

}  // namespace sn

#endif  // SELECTN_STAGING_RING_H

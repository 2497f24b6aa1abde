// Elastic device pool: one arena reserved from the backend at create time, sub-allocated by an
// offset-based first-fit allocator with coalescing. Resident layer weights, staging slots, KV
// blocks and engine scratch all draw from it under one budget (<= the arena size).
// Allocation never throws: it returns false ("no room") and the caller's policy decides.
// Thread-safe (one mutex); allocations are 256-byte aligned.
#ifndef SELECTN_DEVICE_POOL_H
#define SELECTN_DEVICE_POOL_H

#include <cstdint>
#include <map>
#include <mutex>
#include <vector>

#include "backend/backend.h"

namespace sn {

enum class PoolTag : uint8_t { Weights = 0, Staging = 1, Kv = 2, Scratch = 3 };
constexpr int kPoolTagCount = 4;

struct DevicePoolStats {
  uint64_t capacity = 0;  // arena size
  uint64_t budget = 0;
  uint64_t used = 0;
  uint64_t largest_free = 0;  // largest extent that also fits the budget
  uint64_t by_tag[kPoolTagCount] = {0, 0, 0, 0};
  uint32_t allocations = 0;
};

class DevicePool {
 public:
  static constexpr uint64_t kAlign = 256;
  static uint64_t aligned(uint64_t bytes) { return (bytes + kAlign - 1) / kAlign * kAlign; }

  explicit DevicePool(Backend backend) : backend_(backend) {}
  ~DevicePool();
  DevicePool(const DevicePool&) = delete;
  DevicePool& operator=(const DevicePool&) = delete;

  // Reserves the arena; the budget starts at the full capacity.
  BackendResult init(uint64_t capacity);
  // False when the budget or the free extents cannot hold `bytes` (> 0).
  bool alloc(uint64_t bytes, PoolTag tag, void** out);
  // All or nothing: `count` allocations of `bytes` each.
  bool alloc_many(uint32_t count, uint64_t bytes, PoolTag tag, std::vector<void*>* out);
  // Call only with a pointer returned by alloc; returns false for unknown pointers or a wrong tag.
  bool free(void* ptr, PoolTag tag);
  bool owns(void* ptr, PoolTag tag) const;
  // Fails (false) when bytes > capacity or bytes < used.
  bool set_budget(uint64_t bytes);
  DevicePoolStats stats() const;
  void* base() const { return base_; }

 private:
  bool alloc_locked(uint64_t bytes, PoolTag tag, void** out);
  bool free_locked(void* ptr, PoolTag tag);

  struct Block {
    uint64_t size;
    PoolTag tag;
  };
  Backend backend_;
  mutable std::mutex mu_;
  char* base_ = nullptr;
  uint64_t capacity_ = 0;
  uint64_t budget_ = 0;
  uint64_t used_ = 0;
  uint64_t by_tag_[kPoolTagCount] = {0, 0, 0, 0};
  std::map<uint64_t, uint64_t> free_;   // offset -> size, coalesced
  std::map<uint64_t, Block> allocated_;  // offset -> block
};

}  // namespace sn

#endif  // SELECTN_DEVICE_POOL_H

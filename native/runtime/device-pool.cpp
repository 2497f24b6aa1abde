#include "device-pool.h"

#include <algorithm>
#include <cassert>

namespace sn {

namespace {
constexpr uint64_t kDiscardMin = 2u << 20;  // give pages back for frees of >= 2 MiB
constexpr uint64_t kPage = 4096;
}  // namespace

DevicePool::~DevicePool() {
  if (base_ != nullptr) backend_.iface->arena_release(backend_.ctx, base_, capacity_);
}

BackendResult DevicePool::init(uint64_t capacity) {
  assert(base_ == nullptr);
  capacity = aligned(capacity);
  void* base = nullptr;
  BackendResult r = backend_.iface->arena_reserve(backend_.ctx, capacity, &base);
  if (!r.ok()) return r;
  std::lock_guard<std::mutex> lock(mu_);
  base_ = static_cast<char*>(base);
  capacity_ = capacity;
  budget_ = capacity;
  free_.clear();
  free_.emplace(0, capacity);
  return BackendResult::Ok();
}

bool DevicePool::alloc_locked(uint64_t bytes, PoolTag tag, void** out) {
  assert(bytes > 0);
  const uint64_t size = aligned(bytes);
  if (used_ + size > budget_) return false;
  for (auto it = free_.begin(); it != free_.end(); ++it) {
    if (it->second < size) continue;
    const uint64_t off = it->first;
    const uint64_t rest = it->second - size;
    free_.erase(it);
    if (rest > 0) free_.emplace(off + size, rest);
    allocated_.emplace(off, Block{size, tag});
    used_ += size;
    by_tag_[static_cast<int>(tag)] += size;
    *out = base_ + off;
    return true;
  }
  return false;
}

bool DevicePool::alloc(uint64_t bytes, PoolTag tag, void** out) {
  std::lock_guard<std::mutex> lock(mu_);
  return alloc_locked(bytes, tag, out);
}

bool DevicePool::alloc_many(uint32_t count, uint64_t bytes, PoolTag tag,
                            std::vector<void*>* out) {
  std::lock_guard<std::mutex> lock(mu_);
  if (used_ + aligned(bytes) * count > budget_) return false;
  std::vector<void*> got;
  got.reserve(count);
  for (uint32_t i = 0; i < count; ++i) {
    void* p = nullptr;
    if (!alloc_locked(bytes, tag, &p)) {
      for (void* q : got) free_locked(q, tag);
      return false;
    }
    got.push_back(p);
  }
  out->insert(out->end(), got.begin(), got.end());
  return true;
}

bool DevicePool::free_locked(void* ptr, PoolTag tag) {
  if (base_ == nullptr || ptr < base_ || ptr >= base_ + capacity_) return false;
  const uint64_t off = static_cast<uint64_t>(static_cast<char*>(ptr) - base_);
  auto it = allocated_.find(off);
  if (it == allocated_.end() || it->second.tag != tag) return false;
  const uint64_t size = it->second.size;
  allocated_.erase(it);
  used_ -= size;
  by_tag_[static_cast<int>(tag)] -= size;
  if (size >= kDiscardMin) {
    // Page-aligned interior of the freed block goes back (CPU arena: madvise).
    const uint64_t lo = (reinterpret_cast<uintptr_t>(ptr) + kPage - 1) / kPage * kPage;
    const uint64_t hi = (reinterpret_cast<uintptr_t>(ptr) + size) / kPage * kPage;
    if (hi > lo) {
      backend_.iface->arena_discard(backend_.ctx, reinterpret_cast<void*>(lo), hi - lo);
    }
  }
  // Insert and coalesce with neighbours.
  uint64_t start = off, len = size;
  auto next = free_.lower_bound(off);
  if (next != free_.begin()) {
    auto prev = std::prev(next);
    assert(prev->first + prev->second <= off);
    if (prev->first + prev->second == off) {
      start = prev->first;
      len += prev->second;
      free_.erase(prev);
    }
  }
  if (next != free_.end() && off + size == next->first) {
    len += next->second;
    free_.erase(next);
  }
  free_.emplace(start, len);
  return true;
}

bool DevicePool::free(void* ptr, PoolTag tag) {
  std::lock_guard<std::mutex> lock(mu_);
  return free_locked(ptr, tag);
}

bool DevicePool::owns(void* ptr, PoolTag tag) const {
  std::lock_guard<std::mutex> lock(mu_);
  if (base_ == nullptr || ptr < base_ || ptr >= base_ + capacity_) return false;
  auto it = allocated_.find(static_cast<uint64_t>(static_cast<char*>(ptr) - base_));
  return it != allocated_.end() && it->second.tag == tag;
}

bool DevicePool::set_budget(uint64_t bytes) {
  std::lock_guard<std::mutex> lock(mu_);
  if (bytes > capacity_ || bytes < used_) return false;
  budget_ = bytes;
  return true;
}

DevicePoolStats DevicePool::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  DevicePoolStats s;
  s.capacity = capacity_;
  s.budget = budget_;
  s.used = used_;
  uint64_t largest = 0;
  for (const auto& kv : free_) largest = std::max(largest, kv.second);
  s.largest_free = std::min(largest, budget_ - used_);
  for (int i = 0; i < kPoolTagCount; ++i) s.by_tag[i] = by_tag_[i];
  s.allocations = static_cast<uint32_t>(allocated_.size());
  return s;
}

}  // namespace sn

#include "host-pool.h"

#include <cassert>

namespace sn {

HostPool::~HostPool() {
  for (auto& kv : entries_) backend_.iface->host_free(backend_.ctx, kv.second.ptr, kv.second.bytes);
}

BackendResult HostPool::alloc(uint32_t key, uint64_t bytes, void** out) {
  assert(entries_.count(key) == 0 && bytes > 0);
  if (limit_ != 0 && used_ + bytes > limit_) {
    return BackendResult::Err(SN_ERR_OUT_OF_HOST_MEMORY,
                              "host pool limit " + std::to_string(limit_) + " bytes reached (" +
                                  std::to_string(used_) + " used, " + std::to_string(bytes) +
                                  " requested)");
  }
  void* p = nullptr;
  BackendResult r = backend_.iface->host_alloc(backend_.ctx, bytes, &p);
  if (!r.ok()) return r;
  entries_.emplace(key, Entry{p, bytes});
  used_ += bytes;
  *out = p;
  return BackendResult::Ok();
}

void HostPool::free(uint32_t key) {
  auto it = entries_.find(key);
  if (it == entries_.end()) return;
  backend_.iface->host_free(backend_.ctx, it->second.ptr, it->second.bytes);
  used_ -= it->second.bytes;
  entries_.erase(it);
}

void* HostPool::get(uint32_t key) const {
  auto it = entries_.find(key);
  return it == entries_.end() ? nullptr : it->second.ptr;
}

bool HostPool::set_limit(uint64_t bytes) {
  if (bytes != 0 && used_ > bytes) return false;
  limit_ = bytes;
  return true;
}

}  // namespace sn

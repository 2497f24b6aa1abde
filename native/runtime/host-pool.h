// Pinned host pool: one backend allocation per host-set layer, so that shrinking the host set
// really returns memory to the OS (munmap / cudaFreeHost). Enforces a byte cap.
// Not thread-safe: owned by the runtime's engine-thread state (stats read under its lock).
#ifndef SELECTN_HOST_POOL_H
#define SELECTN_HOST_POOL_H

#include <cstdint>
#include <string>
#include <unordered_map>

#include "backend/backend.h"

namespace sn {

class HostPool {
 public:
  explicit HostPool(Backend backend) : backend_(backend) {}
  ~HostPool();
  HostPool(const HostPool&) = delete;
  HostPool& operator=(const HostPool&) = delete;

  // Allocates `bytes` for `key` (must not exist). Errors: SN_ERR_OUT_OF_HOST_MEMORY (cap or OS),
  // SN_ERR_HOST_LOCK (pinning refused).
  BackendResult alloc(uint32_t key, uint64_t bytes, void** out);
  void free(uint32_t key);
  void* get(uint32_t key) const;
  // 0 = uncapped. Fails if used > bytes.
  bool set_limit(uint64_t bytes);
  uint64_t limit() const { return limit_; }
  uint64_t used() const { return used_; }

 private:
  struct Entry {
    void* ptr;
    uint64_t bytes;
  };
  Backend backend_;
  uint64_t limit_ = 0;
  uint64_t used_ = 0;
  std::unordered_map<uint32_t, Entry> entries_;
};

}  // namespace sn

#endif  // SELECTN_HOST_POOL_H

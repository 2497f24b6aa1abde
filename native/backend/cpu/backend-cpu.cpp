// CPU backend: a "host" side of mmap'd (optionally mlock'd) regions and a separate "device"
// arena (one anonymous mapping). Copies are memcpy on the calling thread (the copy engine's
// thread for SN_STREAM_COPY), so events are complete when recorded and hold a timestamp.
#include <sys/mman.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <chrono>
#include <cstring>
#include <string>

#include "backend/backend.h"

namespace sn {

struct BackendEvent {
  // Nanoseconds on the steady clock at the last record; atomic because the copy thread records
  // and the engine thread reads.
  std::atomic<int64_t> t_ns{0};
  std::atomic<bool> recorded{false};
};

namespace {

struct CpuCtx {
  bool lock_host;
};

int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

std::string errno_text(int err) { return std::string(std::strerror(err)); }

void cpu_destroy(void* ctx) { delete static_cast<CpuCtx*>(ctx); }

void cpu_device_name(void*, char* out, size_t len) {
  std::snprintf(out, len, "%s", "cpu-arena");
}

BackendResult cpu_host_alloc(void* ctx, uint64_t bytes, void** out) {
  void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) {
    const int err = errno;
    return BackendResult::Err(SN_ERR_OUT_OF_HOST_MEMORY,
                              "host allocation of " + std::to_string(bytes) +
                                  " bytes failed: " + errno_text(err));
  }
  if (static_cast<CpuCtx*>(ctx)->lock_host && mlock(p, bytes) != 0) {
    const int err = errno;
    munmap(p, bytes);
    return BackendResult::Err(SN_ERR_HOST_LOCK,
                              "pinning " + std::to_string(bytes) +
                                  " host bytes failed (mlock: " + errno_text(err) +
                                  "; raise RLIMIT_MEMLOCK / ulimit -l)");
  }
  *out = p;
  return BackendResult::Ok();
}

void cpu_host_free(void*, void* ptr, uint64_t bytes) {
  if (ptr != nullptr) munmap(ptr, bytes);  // munmap also unlocks
}

BackendResult cpu_arena_reserve(void*, uint64_t bytes, void** out) {
  void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (p == MAP_FAILED) {
    const int err = errno;
    return BackendResult::Err(SN_ERR_NO_DEVICE_ROOM, "device arena of " + std::to_string(bytes) +
                                                         " bytes could not be reserved: " +
                                                         errno_text(err));
  }
  *out = p;
  return BackendResult::Ok();
}

void cpu_arena_release(void*, void* base, uint64_t bytes) {
  if (base != nullptr) munmap(base, bytes);
}

void cpu_arena_discard(void*, void* ptr, uint64_t bytes) { madvise(ptr, bytes, MADV_DONTNEED); }

BackendResult cpu_copy(void*, Stream, void* dst, const void* src, uint64_t bytes) {
  std::memcpy(dst, src, bytes);
  return BackendResult::Ok();
}

BackendResult cpu_stream_sync(void*, Stream) { return BackendResult::Ok(); }

BackendResult cpu_event_create(void*, BackendEvent** out) {
  *out = new BackendEvent();
  return BackendResult::Ok();
}

void cpu_event_destroy(void*, BackendEvent* ev) { delete ev; }

BackendResult cpu_event_record(void*, BackendEvent* ev, Stream) {
  ev->t_ns.store(now_ns(), std::memory_order_release);
  ev->recorded.store(true, std::memory_order_release);
  return BackendResult::Ok();
}

BackendResult cpu_stream_wait(void*, Stream, BackendEvent*) { return BackendResult::Ok(); }
BackendResult cpu_event_sync(void*, BackendEvent*) { return BackendResult::Ok(); }
bool cpu_event_done(void*, BackendEvent* ev) { return ev->recorded.load(std::memory_order_acquire); }

double cpu_event_elapsed_ms(void*, BackendEvent* a, BackendEvent* b) {
  return static_cast<double>(b->t_ns.load(std::memory_order_acquire) -
                             a->t_ns.load(std::memory_order_acquire)) /
         1e6;
}

void* cpu_native_stream(void*, Stream) { return nullptr; }

const BackendIface kCpuIface = {
    "cpu",
    cpu_destroy,
    cpu_device_name,
    cpu_host_alloc,
    cpu_host_free,
    cpu_arena_reserve,
    cpu_arena_release,
    cpu_arena_discard,
    cpu_copy,
    cpu_copy,
    cpu_stream_sync,
    cpu_event_create,
    cpu_event_destroy,
    cpu_event_record,
    cpu_stream_wait,
    cpu_event_sync,
    cpu_event_done,
    cpu_event_elapsed_ms,
    cpu_native_stream,
};

}  // namespace

BackendResult backend_cpu_create(bool lock_host, Backend* out) {
  out->iface = &kCpuIface;
  out->ctx = new CpuCtx{lock_host};
  return BackendResult::Ok();
}

}  // namespace sn

// Backend interface: a table of function pointers plus a context pointer (ggml-backend style).
// The runtime (pools, staging ring, copy engine) is written once against this table; cpu/ and
// cuda/ implement it. Two logical streams exist: SN_STREAM_COPY (used only by the copy-engine
// thread) and SN_STREAM_COMPUTE (used only by the engine thread). Events order work between them
// and carry timestamps.
//
// CPU semantics: every operation runs synchronously on the calling thread, so an event is
// complete as soon as it is recorded; event_record stores the time of the call.
// CUDA semantics: operations are enqueued on cudaStream_t's; events are cudaEvent_t's.
#ifndef SELECTN_BACKEND_H
#define SELECTN_BACKEND_H

#include <cstddef>
#include <cstdint>
#include <string>

#include "selectn/runtime.h"

namespace sn {

enum Stream : int { SN_STREAM_COPY = 0, SN_STREAM_COMPUTE = 1 };

struct BackendEvent;  // opaque, owned by the backend

// Result of a backend call: status plus a message when it failed.
struct BackendResult {
  sn_status status = SN_OK;
  std::string message;
  bool ok() const { return status == SN_OK; }
  static BackendResult Ok() { return {}; }
  static BackendResult Err(sn_status s, std::string m) { return {s, std::move(m)}; }
};

struct BackendIface {
  const char* name;
  void (*destroy)(void* ctx);
  void (*device_name)(void* ctx, char* out, size_t out_len);

  // Pinned host memory (CPU: mmap + optional mlock; CUDA: cudaHostAlloc). Freed memory goes back
  // to the OS.
  BackendResult (*host_alloc)(void* ctx, uint64_t bytes, void** out);
  void (*host_free)(void* ctx, void* ptr, uint64_t bytes);

  // One contiguous device arena of `bytes` (CPU: anonymous mapping; CUDA: cudaMalloc).
  BackendResult (*arena_reserve)(void* ctx, uint64_t bytes, void** out);
  void (*arena_release)(void* ctx, void* base, uint64_t bytes);
  // Hint that [ptr, ptr+bytes) of the arena is unused (CPU: madvise DONTNEED). May be a no-op.
  void (*arena_discard)(void* ctx, void* ptr, uint64_t bytes);

  // Asynchronous copies on a stream (CPU: synchronous memcpy).
  BackendResult (*copy_h2d)(void* ctx, Stream s, void* dst, const void* src, uint64_t bytes);
  BackendResult (*copy_d2h)(void* ctx, Stream s, void* dst, const void* src, uint64_t bytes);
  BackendResult (*stream_sync)(void* ctx, Stream s);

  BackendResult (*event_create)(void* ctx, BackendEvent** out);
  void (*event_destroy)(void* ctx, BackendEvent* ev);
  BackendResult (*event_record)(void* ctx, BackendEvent* ev, Stream s);
  // Makes stream s wait for ev without blocking the host (CPU: no-op, ev already complete).
  BackendResult (*stream_wait)(void* ctx, Stream s, BackendEvent* ev);
  BackendResult (*event_sync)(void* ctx, BackendEvent* ev);
  // true when the work before the last record of ev is complete.
  bool (*event_done)(void* ctx, BackendEvent* ev);
  // Milliseconds from a to b (both complete); may be negative.
  double (*event_elapsed_ms)(void* ctx, BackendEvent* a, BackendEvent* b);

  void* (*native_stream)(void* ctx, Stream s);  // cudaStream_t or nullptr
};

struct Backend {
  const BackendIface* iface = nullptr;
  void* ctx = nullptr;
};

// Factories. `device_index` is ignored by the CPU backend. `lock_host` mlocks host memory (CPU).
BackendResult backend_cpu_create(bool lock_host, Backend* out);
// Returns SN_ERR_UNSUPPORTED when built without CUDA or when no GPU is visible.
BackendResult backend_cuda_create(int device_index, Backend* out);
bool backend_cuda_compiled();

}  // namespace sn

#endif  // SELECTN_BACKEND_H

// CUDA backend: pinned host memory (cudaHostAlloc), one cudaMalloc arena, a dedicated copy stream
// and a compute stream (both non-blocking), timing events for every dependency.
#include <cuda_runtime.h>

#include <cstdio>
#include <string>

#include "backend/backend.h"

namespace sn {

struct BackendEvent {
  cudaEvent_t ev;
};

namespace {

struct CudaCtx {
  int device;
  cudaStream_t streams[2];
};

BackendResult cuda_err(cudaError_t e, const char* what, sn_status status = SN_ERR_BACKEND) {
  return BackendResult::Err(status, std::string(what) + ": " + cudaGetErrorName(e) + " (" +
                                        cudaGetErrorString(e) + ")");
}

#define SN_CUDA_TRY(call, what)                 \
  do {                                          \
    cudaError_t e_ = (call);                    \
    if (e_ != cudaSuccess) return cuda_err(e_, what); \
  } while (0)

CudaCtx* C(void* ctx) { return static_cast<CudaCtx*>(ctx); }

void bind(void* ctx) { cudaSetDevice(C(ctx)->device); }

void cu_destroy(void* ctx) {
  CudaCtx* c = C(ctx);
  cudaSetDevice(c->device);
  for (cudaStream_t s : c->streams) {
    cudaStreamSynchronize(s);
    cudaStreamDestroy(s);
  }
  delete c;
}

void cu_device_name(void* ctx, char* out, size_t len) {
  cudaDeviceProp prop;
  if (cudaGetDeviceProperties(&prop, C(ctx)->device) == cudaSuccess) {
    std::snprintf(out, len, "%s", prop.name);
  } else {
    std::snprintf(out, len, "cuda:%d", C(ctx)->device);
  }
}

BackendResult cu_host_alloc(void* ctx, uint64_t bytes, void** out) {
  bind(ctx);
  cudaError_t e = cudaHostAlloc(out, bytes, cudaHostAllocPortable);
  if (e != cudaSuccess) {
    cudaGetLastError();  // clear the sticky-free error state
    return cuda_err(e, ("cudaHostAlloc of " + std::to_string(bytes) + " bytes").c_str(),
                    e == cudaErrorMemoryAllocation ? SN_ERR_OUT_OF_HOST_MEMORY : SN_ERR_HOST_LOCK);
  }
  return BackendResult::Ok();
}

void cu_host_free(void* ctx, void* ptr, uint64_t) {
  bind(ctx);
  if (ptr != nullptr) cudaFreeHost(ptr);
}

BackendResult cu_arena_reserve(void* ctx, uint64_t bytes, void** out) {
  bind(ctx);
  cudaError_t e = cudaMalloc(out, bytes);
  if (e != cudaSuccess) {
    cudaGetLastError();
    return cuda_err(e, ("cudaMalloc of the " + std::to_string(bytes) + "-byte device arena").c_str(),
                    SN_ERR_NO_DEVICE_ROOM);
  }
  return BackendResult::Ok();
}

void cu_arena_release(void* ctx, void* base, uint64_t) {
  bind(ctx);
  if (base != nullptr) cudaFree(base);
}

void cu_arena_discard(void*, void*, uint64_t) {}

BackendResult cu_copy_h2d(void* ctx, Stream s, void* dst, const void* src, uint64_t bytes) {
  bind(ctx);
  SN_CUDA_TRY(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyHostToDevice, C(ctx)->streams[s]),
              "cudaMemcpyAsync H2D");
  return BackendResult::Ok();
}

BackendResult cu_copy_d2h(void* ctx, Stream s, void* dst, const void* src, uint64_t bytes) {
  bind(ctx);
  SN_CUDA_TRY(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToHost, C(ctx)->streams[s]),
              "cudaMemcpyAsync D2H");
  return BackendResult::Ok();
}

BackendResult cu_stream_sync(void* ctx, Stream s) {
  bind(ctx);
  SN_CUDA_TRY(cudaStreamSynchronize(C(ctx)->streams[s]), "cudaStreamSynchronize");
  return BackendResult::Ok();
}

BackendResult cu_event_create(void* ctx, BackendEvent** out) {
  bind(ctx);
  cudaEvent_t ev;
  SN_CUDA_TRY(cudaEventCreateWithFlags(&ev, cudaEventDefault), "cudaEventCreate");
  *out = new BackendEvent{ev};
  return BackendResult::Ok();
}

void cu_event_destroy(void* ctx, BackendEvent* ev) {
  bind(ctx);
  cudaEventDestroy(ev->ev);
  delete ev;
}

BackendResult cu_event_record(void* ctx, BackendEvent* ev, Stream s) {
  bind(ctx);
  SN_CUDA_TRY(cudaEventRecord(ev->ev, C(ctx)->streams[s]), "cudaEventRecord");
  return BackendResult::Ok();
}

BackendResult cu_stream_wait(void* ctx, Stream s, BackendEvent* ev) {
  bind(ctx);
  SN_CUDA_TRY(cudaStreamWaitEvent(C(ctx)->streams[s], ev->ev, 0), "cudaStreamWaitEvent");
  return BackendResult::Ok();
}

BackendResult cu_event_sync(void* ctx, BackendEvent* ev) {
  bind(ctx);
  SN_CUDA_TRY(cudaEventSynchronize(ev->ev), "cudaEventSynchronize");
  return BackendResult::Ok();
}

bool cu_event_done(void* ctx, BackendEvent* ev) {
  bind(ctx);
  cudaError_t e = cudaEventQuery(ev->ev);
  if (e == cudaErrorNotReady) return false;
  return true;
}

double cu_event_elapsed_ms(void* ctx, BackendEvent* a, BackendEvent* b) {
  bind(ctx);
  float ms = 0.0f;
  if (cudaEventElapsedTime(&ms, a->ev, b->ev) != cudaSuccess) {
    cudaGetLastError();
    return 0.0;
  }
  return static_cast<double>(ms);
}

void* cu_native_stream(void* ctx, Stream s) { return C(ctx)->streams[s]; }

const BackendIface kCudaIface = {
    "cuda",
    cu_destroy,
    cu_device_name,
    cu_host_alloc,
    cu_host_free,
    cu_arena_reserve,
    cu_arena_release,
    cu_arena_discard,
    cu_copy_h2d,
    cu_copy_d2h,
    cu_stream_sync,
    cu_event_create,
    cu_event_destroy,
    cu_event_record,
    cu_stream_wait,
    cu_event_sync,
    cu_event_done,
    cu_event_elapsed_ms,
    cu_native_stream,
};

}  // namespace

bool backend_cuda_compiled() { return true; }

BackendResult backend_cuda_create(int device_index, Backend* out) {
  int count = 0;
  cudaError_t e = cudaGetDeviceCount(&count);
  if (e != cudaSuccess || count == 0) {
    cudaGetLastError();
    return BackendResult::Err(SN_ERR_UNSUPPORTED,
                              std::string("no CUDA GPU available (cudaGetDeviceCount: ") +
                                  cudaGetErrorName(e) + ", count " + std::to_string(count) + ")");
  }
  if (device_index < 0 || device_index >= count) {
    return BackendResult::Err(SN_ERR_INVALID_ARGUMENT,
                              "device_index " + std::to_string(device_index) + " out of range (" +
                                  std::to_string(count) + " GPUs)");
  }
  SN_CUDA_TRY(cudaSetDevice(device_index), "cudaSetDevice");
  auto* c = new CudaCtx{device_index, {nullptr, nullptr}};
  for (cudaStream_t& s : c->streams) {
    e = cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking);
    if (e != cudaSuccess) {
      delete c;
      return cuda_err(e, "cudaStreamCreate");
    }
  }
  out->iface = &kCudaIface;
  out->ctx = c;
  return BackendResult::Ok();
}

}  // namespace sn

// C API: null checks and dispatch to sn::Runtime. No exception crosses this boundary.
#include <cstring>
#include <new>

#include "errors.h"
#include "runtime.h"

using sn::fail;
using sn::Runtime;

namespace {

Runtime* R(sn_runtime* rt) { return reinterpret_cast<Runtime*>(rt); }

// Runs `f` and maps a C++ exception (e.g. std::bad_alloc from a vector) to an error code.
template <typename F>
sn_status guarded(sn_runtime* rt, const char* what, F&& f) {
  if (rt == nullptr) return fail(SN_ERR_INVALID_ARGUMENT, std::string(what) + ": runtime is null");
  try {
    return f(R(rt));
  } catch (const std::bad_alloc&) {
    return fail(SN_ERR_OUT_OF_HOST_MEMORY, std::string(what) + ": out of host memory");
  } catch (const std::exception& e) {
    return fail(SN_ERR_BACKEND, std::string(what) + ": " + e.what());
  }
}

#define SN_NEED(ptr) \
  if ((ptr) == nullptr) return fail(SN_ERR_INVALID_ARGUMENT, #ptr " is null")

}  // namespace

extern "C" {

int sn_backend_compiled(sn_backend_kind kind) {
  if (kind == SN_BACKEND_CPU) return 1;
  if (kind == SN_BACKEND_CUDA) return sn::backend_cuda_compiled() ? 1 : 0;
  return 0;
}

void sn_runtime_config_default(sn_runtime_config* cfg) {
  if (cfg == nullptr) return;
  std::memset(cfg, 0, sizeof(*cfg));
  cfg->backend = SN_BACKEND_CPU;
  cfg->device_budget_bytes = 1ull << 30;
  cfg->staging_slots = 2;
  cfg->copy_chunk_bytes = 4ull << 20;
  cfg->telemetry_window = 64;
  cfg->bandwidth_ewma_alpha = 0.2;
}

sn_status sn_runtime_create(const sn_runtime_config* cfg, sn_runtime** out) {
  SN_NEED(cfg);
  SN_NEED(out);
  *out = nullptr;
  try {
    Runtime* rt = nullptr;
    sn_status s = Runtime::create(*cfg, &rt);
    if (s == SN_OK) *out = reinterpret_cast<sn_runtime*>(rt);
    return s;
  } catch (const std::bad_alloc&) {
    return fail(SN_ERR_OUT_OF_HOST_MEMORY, "sn_runtime_create: out of host memory");
  }
}

void sn_runtime_destroy(sn_runtime* rt) { delete R(rt); }

sn_status sn_runtime_info_get(sn_runtime* rt, sn_runtime_info* out) {
  SN_NEED(out);
  return guarded(rt, "sn_runtime_info_get", [&](Runtime* r) { return r->info(out); });
}

sn_status sn_layers_declare(sn_runtime* rt, uint32_t n, const uint64_t* bytes) {
  return guarded(rt, "sn_layers_declare", [&](Runtime* r) { return r->declare_layers(n, bytes); });
}

sn_status sn_host_set(sn_runtime* rt, const uint32_t* layers, uint32_t n) {
  return guarded(rt, "sn_host_set", [&](Runtime* r) { return r->set_host_set(layers, n); });
}

sn_status sn_host_pool_set_limit(sn_runtime* rt, uint64_t bytes) {
  return guarded(rt, "sn_host_pool_set_limit", [&](Runtime* r) { return r->set_host_limit(bytes); });
}

sn_status sn_layer_load(sn_runtime* rt, uint32_t layer, const void* data, uint64_t size) {
  return guarded(rt, "sn_layer_load", [&](Runtime* r) { return r->load_layer(layer, data, size); });
}

sn_status sn_offload_set(sn_runtime* rt, const uint32_t* layers, uint32_t n, uint32_t interval) {
  return guarded(rt, "sn_offload_set", [&](Runtime* r) { return r->set_offload(layers, n, interval); });
}

sn_status sn_switch_state_get(sn_runtime* rt, sn_switch_state* out) {
  SN_NEED(out);
  return guarded(rt, "sn_switch_state_get", [&](Runtime* r) { return r->switch_state(out); });
}

sn_status sn_switch_poll(sn_runtime* rt, int* switched) {
  return guarded(rt, "sn_switch_poll", [&](Runtime* r) { return r->switch_poll(switched); });
}

sn_status sn_switch_wait(sn_runtime* rt, uint32_t timeout_ms) {
  return guarded(rt, "sn_switch_wait", [&](Runtime* r) { return r->switch_wait(timeout_ms); });
}

sn_status sn_staging_set_slots(sn_runtime* rt, uint32_t slots) {
  return guarded(rt, "sn_staging_set_slots", [&](Runtime* r) { return r->set_slots(slots); });
}

sn_status sn_iteration_begin(sn_runtime* rt) {
  return guarded(rt, "sn_iteration_begin", [&](Runtime* r) { return r->iteration_begin(); });
}

sn_status sn_layer_acquire(sn_runtime* rt, uint32_t layer, void** device_ptr) {
  SN_NEED(device_ptr);
  return guarded(rt, "sn_layer_acquire", [&](Runtime* r) { return r->acquire(layer, device_ptr); });
}

sn_status sn_layer_release(sn_runtime* rt, uint32_t layer) {
  return guarded(rt, "sn_layer_release", [&](Runtime* r) { return r->release(layer); });
}

sn_status sn_iteration_end(sn_runtime* rt, sn_iteration_telemetry* out) {
  return guarded(rt, "sn_iteration_end", [&](Runtime* r) { return r->iteration_end(out); });
}

sn_status sn_pool_stats_get(sn_runtime* rt, sn_pool_stats* out) {
  SN_NEED(out);
  return guarded(rt, "sn_pool_stats_get", [&](Runtime* r) { return r->pool_stats(out); });
}

sn_status sn_pool_kv_free_for(sn_runtime* rt, const uint32_t* layers, uint32_t n, uint64_t* bytes) {
  SN_NEED(bytes);
  return guarded(rt, "sn_pool_kv_free_for", [&](Runtime* r) { return r->kv_free_for(layers, n, bytes); });
}

sn_status sn_device_budget_set(sn_runtime* rt, uint64_t bytes) {
  return guarded(rt, "sn_device_budget_set", [&](Runtime* r) { return r->set_budget(bytes); });
}

sn_status sn_kv_configure(sn_runtime* rt, uint64_t block_bytes) {
  return guarded(rt, "sn_kv_configure", [&](Runtime* r) { return r->kv_configure(block_bytes); });
}

sn_status sn_kv_alloc(sn_runtime* rt, uint32_t count, uint32_t* out_ids) {
  return guarded(rt, "sn_kv_alloc", [&](Runtime* r) { return r->kv_alloc(count, out_ids); });
}

sn_status sn_kv_free(sn_runtime* rt, const uint32_t* ids, uint32_t count) {
  return guarded(rt, "sn_kv_free", [&](Runtime* r) { return r->kv_free(ids, count); });
}

sn_status sn_kv_block_ptr(sn_runtime* rt, uint32_t id, void** device_ptr) {
  SN_NEED(device_ptr);
  return guarded(rt, "sn_kv_block_ptr", [&](Runtime* r) { return r->kv_ptr(id, device_ptr); });
}

sn_status sn_device_alloc(sn_runtime* rt, uint64_t bytes, void** device_ptr) {
  SN_NEED(device_ptr);
  return guarded(rt, "sn_device_alloc", [&](Runtime* r) { return r->device_alloc(bytes, device_ptr); });
}

sn_status sn_device_free(sn_runtime* rt, void* device_ptr) {
  return guarded(rt, "sn_device_free", [&](Runtime* r) { return r->device_free(device_ptr); });
}

sn_status sn_device_upload(sn_runtime* rt, void* dst, const void* src, uint64_t bytes) {
  return guarded(rt, "sn_device_upload", [&](Runtime* r) { return r->upload(dst, src, bytes); });
}

sn_status sn_device_download(sn_runtime* rt, void* dst, const void* src, uint64_t bytes) {
  return guarded(rt, "sn_device_download", [&](Runtime* r) { return r->download(dst, src, bytes); });
}

void* sn_compute_stream(sn_runtime* rt) { return rt == nullptr ? nullptr : R(rt)->compute_stream(); }

sn_status sn_synchronize(sn_runtime* rt) {
  return guarded(rt, "sn_synchronize", [&](Runtime* r) { return r->synchronize(); });
}

sn_status sn_bandwidth_set(sn_runtime* rt, double bytes_per_s, uint64_t burst_bytes) {
  return guarded(rt, "sn_bandwidth_set", [&](Runtime* r) { return r->set_bandwidth(bytes_per_s, burst_bytes); });
}

}  // extern "C"

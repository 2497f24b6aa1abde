// Runtime: composes the backend, the elastic device pool, the pinned host pool, the staging ring
// and the copy engine, and implements placement, interval switching, iterations and telemetry.
// The C API (api.cpp) is a thin validating wrapper around this class.
// Threading: one engine thread calls everything; set_bandwidth, pool_stats and switch_state are
// safe from any thread (atomics / pool lock).
#ifndef SELECTN_RUNTIME_IMPL_H
#define SELECTN_RUNTIME_IMPL_H

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <vector>

#include "backend/backend.h"
#include "copy-engine.h"
#include "device-pool.h"
#include "host-pool.h"
#include "placement.h"
#include "staging-ring.h"
#include "telemetry.h"

namespace sn {

class Runtime {
 public:
  // Creates the backend, reserves the arena and starts the copy engine.
  static sn_status create(const sn_runtime_config& cfg, Runtime** out);
  ~Runtime();
  Runtime(const Runtime&) = delete;
  Runtime& operator=(const Runtime&) = delete;

  sn_status info(sn_runtime_info* out);
  sn_status declare_layers(uint32_t n, const uint64_t* bytes);
  sn_status set_host_set(const uint32_t* layers, uint32_t n);
  sn_status set_host_limit(uint64_t bytes);
  sn_status load_layer(uint32_t layer, const void* data, uint64_t size);
  sn_status set_offload(const uint32_t* layers, uint32_t n, uint32_t interval);
  sn_status switch_state(sn_switch_state* out) const;
  sn_status switch_poll(int* switched);
  sn_status switch_wait(uint32_t timeout_ms);
  sn_status set_slots(uint32_t slots);

  sn_status iteration_begin();
  sn_status acquire(uint32_t layer, void** ptr);
  sn_status release(uint32_t layer);
  sn_status iteration_end(sn_iteration_telemetry* out);

  sn_status pool_stats(sn_pool_stats* out) const;
  sn_status kv_free_for(const uint32_t* layers, uint32_t n, uint64_t* bytes) const;
  sn_status set_budget(uint64_t bytes);
  sn_status kv_configure(uint64_t block_bytes);
  sn_status kv_alloc(uint32_t count, uint32_t* ids);
  sn_status kv_free(const uint32_t* ids, uint32_t count);
  sn_status kv_ptr(uint32_t id, void** ptr) const;
  sn_status device_alloc(uint64_t bytes, void** ptr);
  sn_status device_free(void* ptr);
  sn_status upload(void* dst, const void* src, uint64_t bytes);
  sn_status download(void* dst, const void* src, uint64_t bytes);
  void* compute_stream() const;
  sn_status synchronize();
  sn_status set_bandwidth(double bytes_per_s, uint64_t burst_bytes);

 private:
  struct Layer {
    uint64_t bytes = 0;
    bool loaded = false;
    void* device = nullptr;  // resident copy, or nullptr
    // Background copy for a switch towards residency.
    CopyJob bg;
    void* bg_dst = nullptr;
    bool bg_active = false;   // bg submitted and its memory held
    bool blocked = false;     // waiting for device room
    // Per-iteration state.
    int32_t stream_index = -1;
    bool acquired = false;
    bool released = false;
    double compute_us = 0.0;
    double stall_us = 0.0;
    BackendEvent* ev_pre = nullptr;      // compute stream, before waiting for weights
    BackendEvent* ev_post = nullptr;     // compute stream, weights ready
    BackendEvent* ev_release = nullptr;  // compute stream, compute reading the layer done
  };
  struct StageJob {
    CopyJob job;
    bool submitted = false;
  };

  Runtime(const sn_runtime_config& cfg, Backend backend);
  sn_status backend_fail(const BackendResult& r) const;
  sn_status require_idle(const char* what) const;
  sn_status require_declared(const char* what) const;
  // Between iterations: releases, starts background copies, adopts a completed switch.
  sn_status apply_switch(bool* switched);
  void refresh_state();
  bool bg_done(Layer& l) const;
  void submit_stage(uint32_t k, BackendEvent* wait_event);
  uint64_t slot_bytes_needed() const;
  bool in_arena(const void* p, uint64_t bytes) const;

  sn_runtime_config cfg_;
  Backend backend_;
  std::unique_ptr<DevicePool> pool_;
  std::unique_ptr<HostPool> host_;
  std::unique_ptr<CopyEngine> engine_;
  StagingRing ring_;
  BandwidthStats bw_stats_;

  bool declared_ = false;
  std::vector<uint64_t> layer_bytes_;
  std::vector<Layer> layers_;  // sized once by declare_layers; jobs inside are referenced
  std::vector<StageJob> stage_jobs_;
  LayerMask host_mask_;
  LayerMask active_;  // offloaded in the set the next iteration uses
  LayerMask target_;
  uint32_t active_interval_ = 0;
  uint32_t target_interval_ = 0;
  uint32_t slots_;

  bool in_iter_ = false;
  std::vector<uint32_t> streamed_;
  uint32_t next_acquire_k_ = 0;
  uint64_t iteration_ = 0;
  std::chrono::steady_clock::time_point t_begin_;
  uint64_t staging_bytes_at_begin_ = 0;
  uint64_t bg_bytes_at_begin_ = 0;
  std::vector<double> tele_compute_;
  std::vector<double> tele_stall_;

  uint64_t kv_block_bytes_ = 0;
  std::vector<void*> kv_blocks_;  // id -> pointer (nullptr = free id)
  std::vector<uint32_t> kv_free_ids_;
  uint32_t kv_used_ = 0;

  // Snapshot for readers on other threads.
  std::atomic<uint32_t> st_active_interval_{0}, st_target_interval_{0}, st_pending_{0},
      st_copying_{0}, st_blocked_{0}, st_active_offloaded_{0}, st_slots_{0}, st_kv_used_{0};
  std::atomic<uint64_t> st_bytes_remaining_{0}, st_host_used_{0}, st_host_limit_{0},
      st_kv_block_bytes_{0};
};

}  // namespace sn


#endif  // SELECTN_RUNTIME_IMPL_H

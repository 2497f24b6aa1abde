#include "runtime.h"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <string>

#include "errors.h"

namespace sn {

namespace {
constexpr uint64_t kDefaultChunk = 4u << 20;

std::string layer_str(uint32_t i) { return "layer " + std::to_string(i); }
}  // namespace

Runtime::Runtime(const sn_runtime_config& cfg, Backend backend)
    : cfg_(cfg),
      backend_(backend),
      bw_stats_(cfg.telemetry_window ? cfg.telemetry_window : 64,
                cfg.bandwidth_ewma_alpha > 0 ? cfg.bandwidth_ewma_alpha : 0.2),
      slots_(cfg.staging_slots) {}

sn_status Runtime::create(const sn_runtime_config& cfg, Runtime** out) {
  if (cfg.device_budget_bytes == 0) return fail(SN_ERR_INVALID_ARGUMENT, "device_budget_bytes must be > 0");
  if (cfg.staging_slots == 0) return fail(SN_ERR_INVALID_ARGUMENT, "staging_slots must be >= 1");
  if (!(cfg.bandwidth_bytes_per_s >= 0.0) || !std::isfinite(cfg.bandwidth_bytes_per_s)) {
    return fail(SN_ERR_INVALID_ARGUMENT, "bandwidth_bytes_per_s must be a finite number >= 0");
  }
  if (cfg.bandwidth_ewma_alpha < 0.0 || cfg.bandwidth_ewma_alpha > 1.0) {
    return fail(SN_ERR_INVALID_ARGUMENT, "bandwidth_ewma_alpha must be in [0, 1]");
  }
  // Read the enum as its integer: a C caller may pass any value, and loading an out-of-range
  // enum is undefined behaviour in C++.
  static_assert(sizeof(sn_backend_kind) == sizeof(int), "enum layout");
  int kind = 0;
  std::memcpy(&kind, &cfg.backend, sizeof(kind));
  Backend be;
  BackendResult r;
  if (kind == SN_BACKEND_CPU) {
    r = backend_cpu_create(cfg.lock_host_memory != 0, &be);
  } else if (kind == SN_BACKEND_CUDA) {
    r = backend_cuda_create(cfg.device_index, &be);
  } else {
    return fail(SN_ERR_INVALID_ARGUMENT, "unknown backend " + std::to_string(kind));
  }
  if (!r.ok()) return fail(r.status, r.message);
  Runtime* rt = new Runtime(cfg, be);
  rt->pool_ = std::make_unique<DevicePool>(be);
  r = rt->pool_->init(cfg.device_budget_bytes);
  if (!r.ok()) {
    delete rt;
    return fail(r.status, r.message);
  }
  rt->host_ = std::make_unique<HostPool>(be);
  rt->host_->set_limit(cfg.host_pool_limit_bytes);
  rt->engine_ = std::make_unique<CopyEngine>(be, cfg.copy_chunk_bytes ? cfg.copy_chunk_bytes : kDefaultChunk);
  rt->engine_->set_bandwidth(cfg.bandwidth_bytes_per_s, cfg.bandwidth_burst_bytes);
  rt->engine_->start();
  rt->refresh_state();
  *out = rt;
  return SN_OK;
}

Runtime::~Runtime() {
  if (engine_) engine_->stop();
  if (backend_.iface != nullptr) {
    backend_.iface->stream_sync(backend_.ctx, SN_STREAM_COPY);
    backend_.iface->stream_sync(backend_.ctx, SN_STREAM_COMPUTE);
  }
  ring_.release();
  host_.reset();
  pool_.reset();  // the arena goes with every sub-allocation in it
  if (backend_.iface != nullptr) {
    auto destroy = [this](BackendEvent* ev) {
      if (ev != nullptr) backend_.iface->event_destroy(backend_.ctx, ev);
    };
    for (Layer& l : layers_) {
      for (BackendEvent* ev : {l.ev_pre, l.ev_post, l.ev_release, l.bg.start_event, l.bg.done_event}) destroy(ev);
    }
    for (StageJob& s : stage_jobs_) {
      destroy(s.job.start_event);
      destroy(s.job.done_event);
    }
    backend_.iface->destroy(backend_.ctx);
  }
}

sn_status Runtime::backend_fail(const BackendResult& r) const { return fail(r.status, r.message); }

sn_status Runtime::require_idle(const char* what) const {
  if (in_iter_) return fail(SN_ERR_STATE, std::string(what) + " is not allowed during an iteration");
  return SN_OK;
}

sn_status Runtime::require_declared(const char* what) const {
  if (!declared_) return fail(SN_ERR_STATE, std::string(what) + " needs sn_layers_declare first");
  return SN_OK;
}

sn_status Runtime::info(sn_runtime_info* out) {
  std::memset(out, 0, sizeof(*out));
  out->backend = cfg_.backend;
  std::snprintf(out->backend_name, sizeof(out->backend_name), "%s", backend_.iface->name);
  backend_.iface->device_name(backend_.ctx, out->device_name, sizeof(out->device_name));
  out->device_capacity_bytes = pool_->stats().capacity;
  return SN_OK;
}

sn_status Runtime::declare_layers(uint32_t n, const uint64_t* bytes) {
  if (declared_) return fail(SN_ERR_STATE, "layers are already declared");
  if (n == 0 || bytes == nullptr) return fail(SN_ERR_INVALID_ARGUMENT, "need at least one layer");
  for (uint32_t i = 0; i < n; ++i) {
    if (bytes[i] == 0) return fail(SN_ERR_INVALID_ARGUMENT, layer_str(i) + " has 0 bytes");
  }
  std::vector<Layer> layers(n);
  std::vector<StageJob> jobs(n);
  const BackendIface* be = backend_.iface;
  BackendResult r;
  auto mk = [&](BackendEvent** ev) {
    if (r.ok()) r = be->event_create(backend_.ctx, ev);
  };
  for (uint32_t i = 0; i < n; ++i) {
    layers[i].bytes = bytes[i];
    layers[i].bg.bytes = bytes[i];
    layers[i].bg.background = true;
    mk(&layers[i].ev_pre);
    mk(&layers[i].ev_post);
    mk(&layers[i].ev_release);
    mk(&layers[i].bg.start_event);
    mk(&layers[i].bg.done_event);
    mk(&jobs[i].job.start_event);
    mk(&jobs[i].job.done_event);
  }
  layers_ = std::move(layers);
  layer_bytes_.assign(bytes, bytes + n);
  stage_jobs_ = std::move(jobs);
  declared_ = true;  // destructor frees the events either way
  if (!r.ok()) return backend_fail(r);
  host_mask_.assign(n, 0);
  active_.assign(n, 0);
  target_.assign(n, 0);
  tele_compute_.assign(n, 0.0);
  tele_stall_.assign(n, 0.0);
  refresh_state();
  return SN_OK;
}

sn_status Runtime::set_host_set(const uint32_t* layers, uint32_t n) {
  if (sn_status s = require_declared("sn_host_set")) return s;
  if (sn_status s = require_idle("sn_host_set")) return s;
  const uint32_t L = static_cast<uint32_t>(layers_.size());
  std::string err = validate_set(layers, n, L, nullptr, nullptr);
  if (!err.empty()) return fail(SN_ERR_INVALID_ARGUMENT, "host set: " + err);
  LayerMask next = to_mask(layers, n, L);
  for (uint32_t i = 0; i < L; ++i) {
    if ((active_[i] || target_[i]) && !next[i]) {
      return fail(SN_ERR_INVALID_ARGUMENT, "host set must keep " + layer_str(i) +
                                               ": it is in the current or requested offload set");
    }
  }
  // Grow first (may fail without side effects on the kept layers), then shrink.
  std::vector<uint32_t> added;
  for (uint32_t i = 0; i < L; ++i) {
    if (!next[i] || host_mask_[i]) continue;
    void* p = nullptr;
    BackendResult r = host_->alloc(i, layers_[i].bytes, &p);
    if (r.ok() && layers_[i].loaded) {
      assert(layers_[i].device != nullptr);
      r = backend_.iface->copy_d2h(backend_.ctx, SN_STREAM_COMPUTE, p, layers_[i].device, layers_[i].bytes);
      if (r.ok()) r = backend_.iface->stream_sync(backend_.ctx, SN_STREAM_COMPUTE);
    }
    if (!r.ok()) {
      if (p != nullptr) host_->free(i);
      for (uint32_t a : added) host_->free(a);
      refresh_state();
      return backend_fail(r);
    }
    added.push_back(i);
  }
  for (uint32_t i = 0; i < L; ++i) {
    if (host_mask_[i] && !next[i]) host_->free(i);
  }
  host_mask_ = std::move(next);
  refresh_state();
  return SN_OK;
}

sn_status Runtime::set_host_limit(uint64_t bytes) {
  if (!host_->set_limit(bytes)) {
    return fail(SN_ERR_OUT_OF_HOST_MEMORY, "host pool already holds " + std::to_string(host_->used()) +
                                               " bytes, more than the new limit " + std::to_string(bytes));
  }
  refresh_state();
  return SN_OK;
}

sn_status Runtime::load_layer(uint32_t i, const void* data, uint64_t size) {
  if (sn_status s = require_declared("sn_layer_load")) return s;
  if (sn_status s = require_idle("sn_layer_load")) return s;
  if (i >= layers_.size()) return fail(SN_ERR_INVALID_ARGUMENT, layer_str(i) + " out of range");
  Layer& l = layers_[i];
  if (data == nullptr) return fail(SN_ERR_INVALID_ARGUMENT, "data is null");
  if (size != l.bytes) {
    return fail(SN_ERR_INVALID_ARGUMENT, layer_str(i) + " has " + std::to_string(l.bytes) +
                                             " bytes, got " + std::to_string(size));
  }
  if (l.bg_active) return fail(SN_ERR_STATE, layer_str(i) + " is being copied for a switch");
  const void* src = data;
  if (host_mask_[i]) {
    void* h = host_->get(i);
    assert(h != nullptr);
    std::memcpy(h, data, size);
    src = h;
  }
  if (!active_[i]) {
    if (l.device == nullptr && !pool_->alloc(size, PoolTag::Weights, &l.device)) {
      l.device = nullptr;
      return fail(SN_ERR_NO_DEVICE_ROOM, "no device room for resident " + layer_str(i) + " (" +
                                             std::to_string(size) + " bytes)");
    }
    BackendResult r = backend_.iface->copy_h2d(backend_.ctx, SN_STREAM_COMPUTE, l.device, src, size);
    if (r.ok()) r = backend_.iface->stream_sync(backend_.ctx, SN_STREAM_COMPUTE);
    if (!r.ok()) return backend_fail(r);
  }
  l.loaded = true;
  return SN_OK;
}

sn_status Runtime::set_offload(const uint32_t* layers, uint32_t n, uint32_t interval) {
  if (sn_status s = require_declared("sn_offload_set")) return s;
  const uint32_t L = static_cast<uint32_t>(layers_.size());
  std::string err = validate_set(layers, n, L, &host_mask_, "host set");
  if (!err.empty()) return fail(SN_ERR_INVALID_ARGUMENT, "offload set: " + err);
  target_ = to_mask(layers, n, L);
  target_interval_ = interval;
  if (!in_iter_) {
    bool switched = false;
    return apply_switch(&switched);
  }
  refresh_state();
  return SN_OK;
}

bool Runtime::bg_done(Layer& l) const {
  const CopyJob::State st = engine_->state(&l.bg);
  return st == CopyJob::State::Issued && backend_.iface->event_done(backend_.ctx, l.bg.done_event);
}

sn_status Runtime::apply_switch(bool* switched) {
  assert(!in_iter_);
  *switched = false;
  const uint32_t L = static_cast<uint32_t>(layers_.size());
  sn_status result = SN_OK;
  std::string first_error;
  // 1. Lowering N: release device copies at once (the host copy is already there).
  for (uint32_t i = 0; i < L; ++i) {
    if (target_[i] && !active_[i]) {
      Layer& l = layers_[i];
      if (l.device != nullptr) {
        const bool ok = pool_->free(l.device, PoolTag::Weights);
        assert(ok);
        (void)ok;
        l.device = nullptr;
      }
      active_[i] = 1;
      *switched = true;
    }
  }
  // 2. Raising N: copy in the background; give up copies no longer wanted once they finish.
  bool all_ready = true;
  for (uint32_t i = 0; i < L; ++i) {
    Layer& l = layers_[i];
    const bool wanted = active_[i] && !target_[i];
    if (l.bg_active) {
      const CopyJob::State st = engine_->state(&l.bg);
      if (st == CopyJob::State::Failed) {
        if (first_error.empty()) first_error = layer_str(i) + " switch copy failed: " + engine_->error(&l.bg);
        pool_->free(l.bg_dst, PoolTag::Weights);
        l.bg_active = false;
        l.bg.state = CopyJob::State::Idle;
        all_ready = all_ready && !wanted;
        continue;
      }
      if (!wanted) {
        if (st == CopyJob::State::Issued && backend_.iface->event_done(backend_.ctx, l.bg.done_event)) {
          pool_->free(l.bg_dst, PoolTag::Weights);
          l.bg_active = false;
        }
        continue;
      }
      if (!bg_done(l)) all_ready = false;
      continue;
    }
    l.blocked = false;
    if (!wanted) continue;
    if (!l.loaded) {  // nothing to copy yet: sn_layer_load will place it on the device
      active_[i] = 0;
      *switched = true;
      continue;
    }
    all_ready = false;
    if (!pool_->alloc(l.bytes, PoolTag::Weights, &l.bg_dst)) {
      l.bg_dst = nullptr;
      l.blocked = true;
      continue;
    }
    l.bg.dst = l.bg_dst;
    l.bg.src = host_->get(i);
    l.bg.wait_event = nullptr;
    assert(l.bg.src != nullptr);
    l.bg_active = true;
    engine_->submit(&l.bg);
  }
  // 3. Switch only when every layer becoming resident is complete.
  if (all_ready) {
    for (uint32_t i = 0; i < L; ++i) {
      Layer& l = layers_[i];
      if (active_[i] && !target_[i]) {
        assert(l.bg_active);
        l.device = l.bg_dst;
        l.bg_dst = nullptr;
        l.bg_active = false;
        l.bg.state = CopyJob::State::Idle;
        active_[i] = 0;
        *switched = true;
      }
    }
  }
  if (active_ == target_) {
    active_interval_ = target_interval_;
    if (mask_count(active_) == 0 && ring_.ready()) ring_.release();  // slots back to the pool
  }
  refresh_state();
  if (!first_error.empty()) result = fail(SN_ERR_BACKEND, first_error);
  return result;
}

void Runtime::refresh_state() {
  uint32_t copying = 0, blocked = 0;
  uint64_t remaining = 0;
  for (uint32_t i = 0; i < layers_.size(); ++i) {
    const Layer& l = layers_[i];
    if (l.bg_active && active_[i] && !target_[i]) {
      const CopyJob::State st = engine_->state(&l.bg);
      if (st != CopyJob::State::Issued) {
        ++copying;
        remaining += l.bytes;
      }
    }
    if (l.blocked) {
      ++blocked;
      remaining += l.bytes;
    }
  }
  st_active_interval_ = active_interval_;
  st_target_interval_ = target_interval_;
  st_pending_ = active_ != target_ ? 1u : 0u;
  st_copying_ = copying;
  st_blocked_ = blocked;
  st_active_offloaded_ = declared_ ? mask_count(active_) : 0u;
  st_bytes_remaining_ = remaining;
  st_host_used_ = host_->used();
  st_host_limit_ = host_->limit();
  st_slots_ = slots_;
  st_kv_used_ = kv_used_;
  st_kv_block_bytes_ = kv_block_bytes_;
}

sn_status Runtime::switch_state(sn_switch_state* out) const {
  out->active_interval = st_active_interval_;
  out->target_interval = st_target_interval_;
  out->pending = st_pending_;
  out->layers_copying = st_copying_;
  out->layers_blocked = st_blocked_;
  out->active_offloaded = st_active_offloaded_;
  out->bytes_remaining = st_bytes_remaining_;
  return SN_OK;
}

sn_status Runtime::switch_poll(int* switched) {
  if (sn_status s = require_declared("sn_switch_poll")) return s;
  if (sn_status s = require_idle("sn_switch_poll")) return s;
  bool sw = false;
  sn_status s = apply_switch(&sw);
  if (switched != nullptr) *switched = sw ? 1 : 0;
  return s;
}

sn_status Runtime::switch_wait(uint32_t timeout_ms) {
  if (sn_status s = require_declared("sn_switch_wait")) return s;
  if (sn_status s = require_idle("sn_switch_wait")) return s;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  for (;;) {
    bool sw = false;
    if (sn_status s = apply_switch(&sw)) return s;
    if (active_ == target_) return SN_OK;
    Layer* waiting = nullptr;
    bool blocked = false;
    for (uint32_t i = 0; i < layers_.size(); ++i) {
      Layer& l = layers_[i];
      if (!(active_[i] && !target_[i])) continue;
      if (l.blocked) blocked = true;
      if (l.bg_active && !bg_done(l) && waiting == nullptr) waiting = &l;
    }
    if (waiting == nullptr) {
      if (blocked) {
        return fail(SN_ERR_NO_DEVICE_ROOM, "switch to interval " + std::to_string(target_interval_) +
                                               " waits for device room (" +
                                               std::to_string(st_bytes_remaining_.load()) +
                                               " bytes of layers; free KV blocks or lower the set)");
      }
      continue;  // all copies complete: the next apply adopts them
    }
    const double left = std::chrono::duration<double>(deadline - std::chrono::steady_clock::now()).count();
    if (left <= 0) {
      return fail(SN_ERR_TIMEOUT, "switch to interval " + std::to_string(target_interval_) +
                                      " still copying after " + std::to_string(timeout_ms) + " ms");
    }
    const CopyJob::State st = engine_->wait(&waiting->bg, left);
    if (st == CopyJob::State::Issued) {
      BackendResult r = backend_.iface->event_sync(backend_.ctx, waiting->bg.done_event);
      if (!r.ok()) return backend_fail(r);
    }
  }
}

sn_status Runtime::set_slots(uint32_t slots) {
  if (sn_status s = require_idle("sn_staging_set_slots")) return s;
  if (slots == 0) return fail(SN_ERR_INVALID_ARGUMENT, "staging slots must be >= 1");
  slots_ = slots;
  if (ring_.ready() && ring_.slots() != slots) ring_.release();
  refresh_state();
  return SN_OK;
}

uint64_t Runtime::slot_bytes_needed() const { return max_bytes(layer_bytes_, host_mask_); }

void Runtime::submit_stage(uint32_t k, BackendEvent* wait_event) {
  StageJob& s = stage_jobs_[k];
  const uint32_t i = streamed_[k];
  s.job.dst = ring_.slot_for_stream_index(k);
  s.job.src = host_->get(i);
  s.job.bytes = layers_[i].bytes;
  s.job.wait_event = wait_event;
  s.job.background = false;
  s.submitted = true;
  engine_->submit(&s.job);
}

sn_status Runtime::iteration_begin() {
  if (sn_status s = require_declared("sn_iteration_begin")) return s;
  if (in_iter_) return fail(SN_ERR_STATE, "an iteration is already running");
  for (uint32_t i = 0; i < layers_.size(); ++i) {
    if (!layers_[i].loaded) return fail(SN_ERR_STATE, layer_str(i) + " is not loaded (sn_layer_load)");
  }
  bool switched = false;
  if (sn_status s = apply_switch(&switched)) return s;
  streamed_ = streamed_order(active_);
  const uint32_t m = static_cast<uint32_t>(streamed_.size());
  if (m > 0 && !ring_.ensure(pool_.get(), slots_, slot_bytes_needed())) {
    return fail(SN_ERR_NO_DEVICE_ROOM, "no device room for " + std::to_string(slots_) +
                                           " staging slots of " + std::to_string(slot_bytes_needed()) +
                                           " bytes");
  }
  for (Layer& l : layers_) {
    l.stream_index = -1;
    l.acquired = l.released = false;
    l.compute_us = l.stall_us = 0.0;
  }
  for (uint32_t k = 0; k < m; ++k) {
    layers_[streamed_[k]].stream_index = static_cast<int32_t>(k);
    stage_jobs_[k].submitted = false;
  }
  t_begin_ = std::chrono::steady_clock::now();
  staging_bytes_at_begin_ = engine_->staging_bytes_total();
  bg_bytes_at_begin_ = engine_->background_bytes_total();
  next_acquire_k_ = 0;
  in_iter_ = true;
  ++iteration_;
  // Prefetch in layer order as far ahead as the free slots allow.
  for (uint32_t k = 0; k < std::min(m, ring_.slots()); ++k) submit_stage(k, nullptr);
  return SN_OK;
}

sn_status Runtime::acquire(uint32_t i, void** ptr) {
  if (!in_iter_) return fail(SN_ERR_STATE, "sn_layer_acquire outside an iteration");
  if (i >= layers_.size()) return fail(SN_ERR_INVALID_ARGUMENT, layer_str(i) + " out of range");
  Layer& l = layers_[i];
  if (l.acquired) return fail(SN_ERR_STATE, layer_str(i) + " already acquired this iteration");
  const BackendIface* be = backend_.iface;
  BackendResult r = be->event_record(backend_.ctx, l.ev_pre, SN_STREAM_COMPUTE);
  if (!r.ok()) return backend_fail(r);
  void* p = l.device;
  if (l.stream_index >= 0) {
    const uint32_t k = static_cast<uint32_t>(l.stream_index);
    if (k != next_acquire_k_) {
      return fail(SN_ERR_STATE, "streamed layers must be acquired in layer order: expected " +
                                    layer_str(streamed_[next_acquire_k_]) + ", got " + layer_str(i));
    }
    StageJob& s = stage_jobs_[k];
    if (!s.submitted) {
      return fail(SN_ERR_STATE, layer_str(i) + " cannot be staged: all " + std::to_string(ring_.slots()) +
                                    " slots are held; release " + layer_str(streamed_[k - ring_.slots()]) +
                                    " first");
    }
    const CopyJob::State st = engine_->wait(&s.job, -1.0);
    if (st != CopyJob::State::Issued) {
      return fail(SN_ERR_BACKEND, layer_str(i) + " staging copy failed: " + engine_->error(&s.job));
    }
    r = be->stream_wait(backend_.ctx, SN_STREAM_COMPUTE, s.job.done_event);
    if (!r.ok()) return backend_fail(r);
    p = ring_.slot_for_stream_index(k);
    ++next_acquire_k_;
  }
  assert(p != nullptr);
  r = be->event_record(backend_.ctx, l.ev_post, SN_STREAM_COMPUTE);
  if (!r.ok()) return backend_fail(r);
  l.acquired = true;
  *ptr = p;
  return SN_OK;
}

sn_status Runtime::release(uint32_t i) {
  if (!in_iter_) return fail(SN_ERR_STATE, "sn_layer_release outside an iteration");
  if (i >= layers_.size()) return fail(SN_ERR_INVALID_ARGUMENT, layer_str(i) + " out of range");
  Layer& l = layers_[i];
  if (!l.acquired) return fail(SN_ERR_STATE, layer_str(i) + " released without acquire");
  if (l.released) return fail(SN_ERR_STATE, layer_str(i) + " already released");
  BackendResult r = backend_.iface->event_record(backend_.ctx, l.ev_release, SN_STREAM_COMPUTE);
  if (!r.ok()) return backend_fail(r);
  l.released = true;
  if (l.stream_index >= 0) {
    const int64_t nxt = ring_.next_after_release(static_cast<uint32_t>(l.stream_index),
                                                 static_cast<uint32_t>(streamed_.size()));
    if (nxt >= 0) submit_stage(static_cast<uint32_t>(nxt), l.ev_release);
  }
  return SN_OK;
}

sn_status Runtime::iteration_end(sn_iteration_telemetry* out) {
  if (!in_iter_) return fail(SN_ERR_STATE, "sn_iteration_end without sn_iteration_begin");
  for (uint32_t i = 0; i < layers_.size(); ++i) {
    if (layers_[i].acquired && !layers_[i].released) {
      return fail(SN_ERR_STATE, layer_str(i) + " acquired but not released before sn_iteration_end");
    }
  }
  const BackendIface* be = backend_.iface;
  const uint32_t m = static_cast<uint32_t>(streamed_.size());
  // Drain staging copies (also those of layers the engine skipped) so slots are free.
  BackendResult err;
  for (uint32_t k = 0; k < m; ++k) {
    if (!stage_jobs_[k].submitted) continue;
    if (engine_->wait(&stage_jobs_[k].job, -1.0) == CopyJob::State::Issued) {
      BackendResult r = be->event_sync(backend_.ctx, stage_jobs_[k].job.done_event);
      if (!r.ok() && err.ok()) err = r;
    } else if (err.ok()) {
      err = BackendResult::Err(SN_ERR_BACKEND, engine_->error(&stage_jobs_[k].job));
    }
  }
  BackendResult r = be->stream_sync(backend_.ctx, SN_STREAM_COMPUTE);
  if (!r.ok() && err.ok()) err = r;
  in_iter_ = false;
  const double wall_us =
      std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t_begin_).count();

  double stall = 0.0, compute = 0.0, busy_us = 0.0;
  for (uint32_t i = 0; i < layers_.size(); ++i) {
    Layer& l = layers_[i];
    tele_compute_[i] = tele_stall_[i] = 0.0;
    if (!l.acquired) continue;
    l.compute_us = std::max(0.0, be->event_elapsed_ms(backend_.ctx, l.ev_post, l.ev_release) * 1e3);
    if (l.stream_index >= 0) {
      const CopyJob& job = stage_jobs_[static_cast<uint32_t>(l.stream_index)].job;
      l.stall_us = std::max(0.0, be->event_elapsed_ms(backend_.ctx, l.ev_pre, job.done_event) * 1e3);
    }
    tele_compute_[i] = l.compute_us;
    tele_stall_[i] = l.stall_us;
    stall += l.stall_us;
    compute += l.compute_us;
  }
  for (uint32_t k = 0; k < m; ++k) {
    const StageJob& s = stage_jobs_[k];
    if (s.submitted && s.job.state == CopyJob::State::Issued) {
      busy_us += std::max(0.0, be->event_elapsed_ms(backend_.ctx, s.job.start_event, s.job.done_event) * 1e3);
    }
  }
  const uint64_t copied = engine_->staging_bytes_total() - staging_bytes_at_begin_;
  const uint64_t bg_copied = engine_->background_bytes_total() - bg_bytes_at_begin_;
  const double bw = (copied > 0 && busy_us > 0) ? static_cast<double>(copied) / (busy_us * 1e-6) : 0.0;
  if (bw > 0) bw_stats_.add(bw);
  const uint32_t used_interval = active_interval_;

  bool switched = false;
  sn_status sw = apply_switch(&switched);  // pending releases requested during the iteration
  if (out != nullptr) {
    std::memset(out, 0, sizeof(*out));
    out->iteration = iteration_;
    out->interval = used_interval;
    out->offloaded_layers = m;
    out->staging_slots = ring_.ready() ? ring_.slots() : slots_;
    out->switch_pending = active_ != target_ ? 1 : 0;
    out->wall_us = wall_us;
    out->stall_us = stall;
    out->compute_us = compute;
    out->bytes_copied = copied;
    out->background_bytes_copied = bg_copied;
    out->copy_busy_us = busy_us;
    out->bandwidth_bytes_per_s = bw;
    out->bandwidth_ewma = bw_stats_.ewma();
    out->bandwidth_p10 = bw_stats_.p10();
    out->bandwidth_budget = engine_->bandwidth();
    const DevicePoolStats ps = pool_->stats();
    out->device_budget_bytes = ps.budget;
    out->device_used_bytes = ps.used;
    out->device_weights_bytes = ps.by_tag[static_cast<int>(PoolTag::Weights)];
    out->device_staging_bytes = ps.by_tag[static_cast<int>(PoolTag::Staging)];
    out->device_kv_bytes = ps.by_tag[static_cast<int>(PoolTag::Kv)];
    out->device_scratch_bytes = ps.by_tag[static_cast<int>(PoolTag::Scratch)];
    out->host_used_bytes = host_->used();
    out->n_layers = static_cast<uint32_t>(layers_.size());
    out->layer_compute_us = tele_compute_.data();
    out->layer_stall_us = tele_stall_.data();
  }
  if (!err.ok()) return backend_fail(err);
  return sw;
}

sn_status Runtime::pool_stats(sn_pool_stats* out) const {
  const DevicePoolStats ps = pool_->stats();
  std::memset(out, 0, sizeof(*out));
  out->budget_bytes = ps.budget;
  out->used_bytes = ps.used;
  out->free_bytes = ps.budget - ps.used;
  out->largest_free_bytes = ps.largest_free;
  out->weights_bytes = ps.by_tag[static_cast<int>(PoolTag::Weights)];
  out->staging_bytes = ps.by_tag[static_cast<int>(PoolTag::Staging)];
  out->kv_bytes = ps.by_tag[static_cast<int>(PoolTag::Kv)];
  out->scratch_bytes = ps.by_tag[static_cast<int>(PoolTag::Scratch)];
  out->kv_block_bytes = st_kv_block_bytes_;
  out->kv_blocks_used = st_kv_used_;
  out->staging_slots = st_slots_;
  out->host_limit_bytes = st_host_limit_;
  out->host_used_bytes = st_host_used_;
  return SN_OK;
}

sn_status Runtime::kv_free_for(const uint32_t* layers, uint32_t n, uint64_t* bytes) const {
  if (sn_status s = require_declared("sn_pool_kv_free_for")) return s;
  const uint32_t L = static_cast<uint32_t>(layers_.size());
  std::string err = validate_set(layers, n, L, nullptr, nullptr);
  if (!err.empty()) return fail(SN_ERR_INVALID_ARGUMENT, "offload set: " + err);
  const LayerMask set = to_mask(layers, n, L);
  uint64_t need = 0;
  for (uint32_t i = 0; i < L; ++i) {
    if (!set[i]) need += DevicePool::aligned(layer_bytes_[i]);
  }
  if (n > 0) {
    LayerMask both = host_mask_;
    for (uint32_t i = 0; i < L; ++i) both[i] = both[i] | set[i];
    need += DevicePool::aligned(max_bytes(layer_bytes_, both)) * slots_;
  }
  const DevicePoolStats ps = pool_->stats();
  need += ps.by_tag[static_cast<int>(PoolTag::Scratch)] + ps.by_tag[static_cast<int>(PoolTag::Kv)];
  *bytes = ps.budget > need ? ps.budget - need : 0;
  return SN_OK;
}

sn_status Runtime::set_budget(uint64_t bytes) {
  if (!pool_->set_budget(bytes)) {
    const DevicePoolStats ps = pool_->stats();
    return fail(SN_ERR_INVALID_ARGUMENT, "device budget " + std::to_string(bytes) +
                                             " must be between bytes in use (" + std::to_string(ps.used) +
                                             ") and the reserved capacity (" + std::to_string(ps.capacity) + ")");
  }
  return SN_OK;
}

sn_status Runtime::kv_configure(uint64_t block_bytes) {
  if (block_bytes == 0) return fail(SN_ERR_INVALID_ARGUMENT, "KV block size must be > 0");
  if (kv_used_ > 0) return fail(SN_ERR_STATE, "KV block size cannot change while blocks are allocated");
  kv_block_bytes_ = block_bytes;
  kv_blocks_.clear();
  kv_free_ids_.clear();
  refresh_state();
  return SN_OK;
}

sn_status Runtime::kv_alloc(uint32_t count, uint32_t* ids) {
  if (kv_block_bytes_ == 0) return fail(SN_ERR_STATE, "sn_kv_alloc needs sn_kv_configure first");
  if (count == 0) return SN_OK;
  if (ids == nullptr) return fail(SN_ERR_INVALID_ARGUMENT, "ids is null");
  std::vector<void*> got;
  if (!pool_->alloc_many(count, kv_block_bytes_, PoolTag::Kv, &got)) {
    return fail(SN_ERR_NO_DEVICE_ROOM, "no device room for " + std::to_string(count) + " KV blocks of " +
                                           std::to_string(kv_block_bytes_) + " bytes");
  }
  for (uint32_t c = 0; c < count; ++c) {
    uint32_t id;
    if (!kv_free_ids_.empty()) {
      id = kv_free_ids_.back();
      kv_free_ids_.pop_back();
    } else {
      id = static_cast<uint32_t>(kv_blocks_.size());
      kv_blocks_.push_back(nullptr);
    }
    kv_blocks_[id] = got[c];
    ids[c] = id;
  }
  kv_used_ += count;
  refresh_state();
  return SN_OK;
}

sn_status Runtime::kv_free(const uint32_t* ids, uint32_t count) {
  if (count == 0) return SN_OK;
  if (ids == nullptr) return fail(SN_ERR_INVALID_ARGUMENT, "ids is null");
  std::vector<uint8_t> seen(kv_blocks_.size(), 0);
  for (uint32_t c = 0; c < count; ++c) {
    const uint32_t id = ids[c];
    if (id >= kv_blocks_.size() || kv_blocks_[id] == nullptr) {
      return fail(SN_ERR_INVALID_ARGUMENT, "KV block " + std::to_string(id) + " is not allocated");
    }
    if (seen[id]) return fail(SN_ERR_INVALID_ARGUMENT, "KV block " + std::to_string(id) + " listed twice");
    seen[id] = 1;
  }
  for (uint32_t c = 0; c < count; ++c) {
    const bool ok = pool_->free(kv_blocks_[ids[c]], PoolTag::Kv);
    assert(ok);
    (void)ok;
    kv_blocks_[ids[c]] = nullptr;
    kv_free_ids_.push_back(ids[c]);
  }
  kv_used_ -= count;
  refresh_state();
  return SN_OK;
}

sn_status Runtime::kv_ptr(uint32_t id, void** ptr) const {
  if (id >= kv_blocks_.size() || kv_blocks_[id] == nullptr) {
    return fail(SN_ERR_INVALID_ARGUMENT, "KV block " + std::to_string(id) + " is not allocated");
  }
  *ptr = kv_blocks_[id];
  return SN_OK;
}

sn_status Runtime::device_alloc(uint64_t bytes, void** ptr) {
  if (bytes == 0) return fail(SN_ERR_INVALID_ARGUMENT, "device allocation of 0 bytes");
  if (!pool_->alloc(bytes, PoolTag::Scratch, ptr)) {
    return fail(SN_ERR_NO_DEVICE_ROOM, "no device room for " + std::to_string(bytes) + " scratch bytes");
  }
  return SN_OK;
}

sn_status Runtime::device_free(void* ptr) {
  if (!pool_->free(ptr, PoolTag::Scratch)) {
    return fail(SN_ERR_INVALID_ARGUMENT, "pointer was not returned by sn_device_alloc");
  }
  return SN_OK;
}

bool Runtime::in_arena(const void* p, uint64_t bytes) const {
  const char* base = static_cast<const char*>(pool_->base());
  const uint64_t cap = pool_->stats().capacity;
  const char* c = static_cast<const char*>(p);
  return c >= base && bytes <= cap && static_cast<uint64_t>(c - base) <= cap - bytes;
}

sn_status Runtime::upload(void* dst, const void* src, uint64_t bytes) {
  if (dst == nullptr || src == nullptr) return fail(SN_ERR_INVALID_ARGUMENT, "null pointer");
  if (!in_arena(dst, bytes)) return fail(SN_ERR_INVALID_ARGUMENT, "destination is not inside the device pool");
  BackendResult r = backend_.iface->copy_h2d(backend_.ctx, SN_STREAM_COMPUTE, dst, src, bytes);
  if (r.ok()) r = backend_.iface->stream_sync(backend_.ctx, SN_STREAM_COMPUTE);
  return r.ok() ? SN_OK : backend_fail(r);
}

sn_status Runtime::download(void* dst, const void* src, uint64_t bytes) {
  if (dst == nullptr || src == nullptr) return fail(SN_ERR_INVALID_ARGUMENT, "null pointer");
  if (!in_arena(src, bytes)) return fail(SN_ERR_INVALID_ARGUMENT, "source is not inside the device pool");
  BackendResult r = backend_.iface->copy_d2h(backend_.ctx, SN_STREAM_COMPUTE, dst, src, bytes);
  if (r.ok()) r = backend_.iface->stream_sync(backend_.ctx, SN_STREAM_COMPUTE);
  return r.ok() ? SN_OK : backend_fail(r);
}

void* Runtime::compute_stream() const { return backend_.iface->native_stream(backend_.ctx, SN_STREAM_COMPUTE); }

sn_status Runtime::synchronize() {
  BackendResult r = backend_.iface->stream_sync(backend_.ctx, SN_STREAM_COMPUTE);
  return r.ok() ? SN_OK : backend_fail(r);
}

sn_status Runtime::set_bandwidth(double bytes_per_s, uint64_t burst_bytes) {
  if (!(bytes_per_s >= 0.0) || !std::isfinite(bytes_per_s)) {
    return fail(SN_ERR_INVALID_ARGUMENT, "bandwidth must be a finite number >= 0 (0 = unlimited)");
  }
  engine_->set_bandwidth(bytes_per_s, burst_bytes);
  return SN_OK;
}

}  // namespace sn

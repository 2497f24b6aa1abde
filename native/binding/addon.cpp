// Node-API binding of the offload runtime (node-addon-api). A thin layer: argument conversion,
// errors as JS Errors with `code` (SN_ERR_*) and `message`, and long work (create, layer load,
// iterations, switch waits) on libuv worker threads through AsyncWorker + Promise.
// One mutex per runtime serializes native calls; a call that finds it held by a running async
// operation fails fast with SN_ERR_STATE instead of blocking the event loop.
#include <napi.h>

#include <cstring>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "selectn/runtime.h"
#ifdef SELECTN_WITH_ENGINE
#include "engine-binding.h"
#endif

namespace {

Napi::Error make_error(Napi::Env env, const std::string& code, const std::string& message) {
  Napi::Error e = Napi::Error::New(env, message);
  e.Set("code", Napi::String::New(env, code));
  return e;
}

[[noreturn]] void throw_status(Napi::Env env, sn_status s) {
  throw make_error(env, sn_status_name(s), sn_last_error());
}

[[noreturn]] void throw_arg(Napi::Env env, const std::string& message) {
  throw make_error(env, "SN_ERR_INVALID_ARGUMENT", message);
}

double get_number(Napi::Env env, const Napi::Object& o, const char* key, double fallback, double lo) {
  Napi::Value v = o.Get(key);
  if (v.IsUndefined()) return fallback;
  if (!v.IsNumber()) throw_arg(env, std::string(key) + " must be a number");
  const double d = v.As<Napi::Number>().DoubleValue();
  if (!(d >= lo) || d > 9.007199254740991e15) throw_arg(env, std::string(key) + " out of range");
  return d;
}

uint32_t to_u32(Napi::Env env, const Napi::Value& v, const char* what) {
  if (!v.IsNumber()) throw_arg(env, std::string(what) + " must be a number");
  const double d = v.As<Napi::Number>().DoubleValue();
  if (!(d >= 0) || d > 4294967295.0 || d != static_cast<double>(static_cast<uint32_t>(d))) {
    throw_arg(env, std::string(what) + " must be an integer in [0, 2^32)");
  }
  return static_cast<uint32_t>(d);
}

uint64_t to_u64(Napi::Env env, const Napi::Value& v, const char* what) {
  if (!v.IsNumber()) throw_arg(env, std::string(what) + " must be a number");
  const double d = v.As<Napi::Number>().DoubleValue();
  if (!(d >= 0) || d > 9.007199254740991e15 || d != static_cast<double>(static_cast<uint64_t>(d))) {
    throw_arg(env, std::string(what) + " must be a non-negative safe integer");
  }
  return static_cast<uint64_t>(d);
}

std::vector<uint32_t> to_u32_list(Napi::Env env, const Napi::Value& v, const char* what) {
  if (!v.IsArray()) throw_arg(env, std::string(what) + " must be an array of layer indices");
  Napi::Array a = v.As<Napi::Array>();
  std::vector<uint32_t> out(a.Length());
  for (uint32_t i = 0; i < a.Length(); ++i) out[i] = to_u32(env, a.Get(i), what);
  return out;
}

Napi::Object telemetry_object(Napi::Env env, const sn_iteration_telemetry& t, const std::vector<double>& compute,
                              const std::vector<double>& stall) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("iteration", static_cast<double>(t.iteration));
  o.Set("interval", t.interval);
  o.Set("offloadedLayers", t.offloaded_layers);
  o.Set("stagingSlots", t.staging_slots);
  o.Set("switchPending", t.switch_pending != 0);
  o.Set("wallUs", t.wall_us);
  o.Set("stallUs", t.stall_us);
  o.Set("computeUs", t.compute_us);
  o.Set("bytesCopied", static_cast<double>(t.bytes_copied));
  o.Set("backgroundBytesCopied", static_cast<double>(t.background_bytes_copied));
  o.Set("copyBusyUs", t.copy_busy_us);
  o.Set("bandwidthBytesPerS", t.bandwidth_bytes_per_s);
  o.Set("bandwidthEwma", t.bandwidth_ewma);
  o.Set("bandwidthP10", t.bandwidth_p10);
  o.Set("bandwidthBudget", t.bandwidth_budget);
  o.Set("deviceBudgetBytes", static_cast<double>(t.device_budget_bytes));
  o.Set("deviceUsedBytes", static_cast<double>(t.device_used_bytes));
  o.Set("deviceWeightsBytes", static_cast<double>(t.device_weights_bytes));
  o.Set("deviceStagingBytes", static_cast<double>(t.device_staging_bytes));
  o.Set("deviceKvBytes", static_cast<double>(t.device_kv_bytes));
  o.Set("deviceScratchBytes", static_cast<double>(t.device_scratch_bytes));
  o.Set("hostUsedBytes", static_cast<double>(t.host_used_bytes));
  Napi::Array c = Napi::Array::New(env, compute.size()), s = Napi::Array::New(env, stall.size());
  for (uint32_t i = 0; i < compute.size(); ++i) {
    c.Set(i, compute[i]);
    s.Set(i, stall[i]);
  }
  o.Set("layerComputeUs", c);
  o.Set("layerStallUs", s);
  return o;
}

struct Shared {
  sn_runtime* rt = nullptr;
  uint32_t layers = 0;  // set by declareLayers
  std::mutex mu;
  ~Shared() { sn_runtime_destroy(rt); }
};

// Runs `work` (returns a status) on a worker thread holding the runtime lock; resolves with
// `result(env)` or rejects with {code, message}.
class Task : public Napi::AsyncWorker {
 public:
  Task(Napi::Env env, std::shared_ptr<Shared> sh, std::function<sn_status(std::string*)> work,
       std::function<Napi::Value(Napi::Env)> result)
      : Napi::AsyncWorker(env), deferred_(Napi::Promise::Deferred::New(env)), sh_(std::move(sh)),
        work_(std::move(work)), result_(std::move(result)) {}
  Napi::Promise promise() { return deferred_.Promise(); }
  void Execute() override {
    std::lock_guard<std::mutex> lock(sh_->mu);
    status_ = work_(&message_);
    if (status_ != SN_OK && message_.empty()) message_ = sn_last_error();
  }
  void OnOK() override {
    Napi::Env env = Env();
    Napi::HandleScope scope(env);
    if (status_ != SN_OK) {
      deferred_.Reject(make_error(env, sn_status_name(status_), message_).Value());
      return;
    }
    try {
      deferred_.Resolve(result_ ? result_(env) : env.Undefined());
    } catch (const Napi::Error& e) {
      deferred_.Reject(e.Value());
    }
  }
  void OnError(const Napi::Error& e) override { deferred_.Reject(e.Value()); }

 private:
  Napi::Promise::Deferred deferred_;
  std::shared_ptr<Shared> sh_;
  std::function<sn_status(std::string*)> work_;
  std::function<Napi::Value(Napi::Env)> result_;
  sn_status status_ = SN_OK;
  std::string message_;
};

class Runtime : public Napi::ObjectWrap<Runtime> {
 public:
  static Napi::Function Init(Napi::Env env) {
    return DefineClass(env, "Runtime",
                       {
                           InstanceMethod<&Runtime::Info>("info"),
                           InstanceMethod<&Runtime::DeclareLayers>("declareLayers"),
                           InstanceMethod<&Runtime::HostSet>("setHostSet"),
                           InstanceMethod<&Runtime::HostLimit>("setHostLimit"),
                           InstanceMethod<&Runtime::LoadLayer>("loadLayer"),
                           InstanceMethod<&Runtime::OffloadSet>("setOffloadSet"),
                           InstanceMethod<&Runtime::SwitchState>("switchState"),
                           InstanceMethod<&Runtime::SwitchPoll>("switchPoll"),
                           InstanceMethod<&Runtime::SwitchWait>("switchWait"),
                           InstanceMethod<&Runtime::SetSlots>("setStagingSlots"),
                           InstanceMethod<&Runtime::RunIteration>("runIteration"),
                           InstanceMethod<&Runtime::PoolStats>("poolStats"),
                           InstanceMethod<&Runtime::KvFreeFor>("kvBytesFreeFor"),
                           InstanceMethod<&Runtime::SetBudget>("setDeviceBudget"),
                           InstanceMethod<&Runtime::KvConfigure>("kvConfigure"),
                           InstanceMethod<&Runtime::KvAlloc>("kvAlloc"),
                           InstanceMethod<&Runtime::KvFree>("kvFree"),
                           InstanceMethod<&Runtime::Bandwidth>("setBandwidth"),
                           InstanceMethod<&Runtime::Close>("close"),
                       });
  }

  // new Runtime(handle) is internal: created by create() with a ready sn_runtime.
  explicit Runtime(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Runtime>(info) {
    if (info.Length() != 1 || !info[0].IsExternal()) {
      throw make_error(info.Env(), "SN_ERR_INVALID_ARGUMENT", "use createRuntime(config)");
    }
    sh_ = *info[0].As<Napi::External<std::shared_ptr<Shared>>>().Data();
  }
  // For the engine binding (engine-binding.h): the shared runtime state.
  std::shared_ptr<Shared> shared() const { return sh_; }

 private:
  Shared& locked(Napi::Env env, std::unique_lock<std::mutex>* lock) {
    if (!sh_ || sh_->rt == nullptr) throw make_error(env, "SN_ERR_STATE", "runtime is closed");
    *lock = std::unique_lock<std::mutex>(sh_->mu, std::try_to_lock);
    if (!lock->owns_lock()) {
      throw make_error(env, "SN_ERR_STATE", "runtime is busy with an asynchronous operation; await it first");
    }
    return *sh_;
  }
  void open(Napi::Env env) {
    if (!sh_ || sh_->rt == nullptr) throw make_error(env, "SN_ERR_STATE", "runtime is closed");
  }
  Napi::Value run(Napi::Env env, std::function<sn_status(std::string*)> work, std::function<Napi::Value(Napi::Env)> result) {
    open(env);
    auto* t = new Task(env, sh_, std::move(work), std::move(result));
    Napi::Promise p = t->promise();
    t->Queue();
    return p;
  }

  Napi::Value Info(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    std::unique_lock<std::mutex> lock;
    Shared& s = locked(env, &lock);
    sn_runtime_info ri;
    if (sn_status st = sn_runtime_info_get(s.rt, &ri)) throw_status(env, st);
    Napi::Object o = Napi::Object::New(env);
    o.Set("backend", ri.backend_name);
    o.Set("device", ri.device_name);
    o.Set("deviceCapacityBytes", static_cast<double>(ri.device_capacity_bytes));
    return o;
  }

  Napi::Value DeclareLayers(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!info[0].IsArray()) throw_arg(env, "layerBytes must be an array of byte counts");
    Napi::Array a = info[0].As<Napi::Array>();
    std::vector<uint64_t> bytes(a.Length());
    for (uint32_t i = 0; i < a.Length(); ++i) bytes[i] = to_u64(env, a.Get(i), "layerBytes[i]");
    std::unique_lock<std::mutex> lock;
    Shared& s = locked(env, &lock);
    if (sn_status st = sn_layers_declare(s.rt, static_cast<uint32_t>(bytes.size()), bytes.data())) throw_status(env, st);
    s.layers = static_cast<uint32_t>(bytes.size());
    return env.Undefined();
  }

  Napi::Value HostSet(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    auto layers = std::make_shared<std::vector<uint32_t>>(to_u32_list(env, info[0], "hostSet"));
    sn_runtime* rt = sh_ ? sh_->rt : nullptr;
    return run(env, [rt, layers](std::string*) { return sn_host_set(rt, layers->data(), static_cast<uint32_t>(layers->size())); },
               nullptr);
  }

  Napi::Value HostLimit(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    const uint64_t bytes = to_u64(env, info[0], "bytes");
    std::unique_lock<std::mutex> lock;
    Shared& s = locked(env, &lock);
    if (sn_status st = sn_host_pool_set_limit(s.rt, bytes)) throw_status(env, st);
    return env.Undefined();
  }

  Napi::Value LoadLayer(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    const uint32_t layer = to_u32(env, info[0], "layer");
    if (!info[1].IsTypedArray() && !info[1].IsBuffer()) throw_arg(env, "data must be a Buffer or Uint8Array");
    Napi::Uint8Array data = info[1].As<Napi::Uint8Array>();
    // Keep the bytes alive until the worker is done.
    auto ref = std::make_shared<Napi::Reference<Napi::Uint8Array>>(Napi::Persistent(data));
    const void* ptr = data.Data();
    const uint64_t size = data.ByteLength();
    sn_runtime* rt = sh_ ? sh_->rt : nullptr;
    return run(env, [rt, layer, ptr, size](std::string*) { return sn_layer_load(rt, layer, ptr, size); },
               [ref](Napi::Env e) {
                 ref->Reset();
                 return e.Undefined();
               });
  }

  Napi::Value OffloadSet(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    std::vector<uint32_t> layers = to_u32_list(env, info[0], "offloadSet");
    const uint32_t interval = to_u32(env, info[1], "interval");
    std::unique_lock<std::mutex> lock;
    Shared& s = locked(env, &lock);
    if (sn_status st = sn_offload_set(s.rt, layers.data(), static_cast<uint32_t>(layers.size()), interval)) {
      throw_status(env, st);
    }
    return env.Undefined();
  }

  Napi::Value SwitchState(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    open(env);
    sn_switch_state ss;
    if (sn_status st = sn_switch_state_get(sh_->rt, &ss)) throw_status(env, st);
    Napi::Object o = Napi::Object::New(env);
    o.Set("activeInterval", ss.active_interval);
    o.Set("targetInterval", ss.target_interval);
    o.Set("pending", ss.pending != 0);
    o.Set("layersCopying", ss.layers_copying);
    o.Set("layersBlocked", ss.layers_blocked);
    o.Set("activeOffloaded", ss.active_offloaded);
    o.Set("bytesRemaining", static_cast<double>(ss.bytes_remaining));
    return o;
  }

  Napi::Value SwitchPoll(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    std::unique_lock<std::mutex> lock;
    Shared& s = locked(env, &lock);
    int switched = 0;
    if (sn_status st = sn_switch_poll(s.rt, &switched)) throw_status(env, st);
    return Napi::Boolean::New(env, switched != 0);
  }

  Napi::Value SwitchWait(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    const uint32_t timeout = to_u32(env, info[0], "timeoutMs");
    sn_runtime* rt = sh_ ? sh_->rt : nullptr;
    return run(env, [rt, timeout](std::string*) { return sn_switch_wait(rt, timeout); }, nullptr);
  }

  Napi::Value SetSlots(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    const uint32_t slots = to_u32(env, info[0], "slots");
    std::unique_lock<std::mutex> lock;
    Shared& s = locked(env, &lock);
    if (sn_status st = sn_staging_set_slots(s.rt, slots)) throw_status(env, st);
    return env.Undefined();
  }

  // One pass over every layer with no compute (acquire, release): exercises staging, switching
  // and telemetry from JavaScript (profiling the copy path, tests). Resolves with telemetry.
  Napi::Value RunIteration(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    struct Out {
      sn_iteration_telemetry t{};
      std::vector<double> compute, stall;
    };
    auto out = std::make_shared<Out>();
    open(env);
    sn_runtime* rt = sh_->rt;
    const uint32_t layers = sh_->layers;
    return run(
        env,
        [rt, out, layers](std::string* msg) -> sn_status {
          if (sn_status st = sn_iteration_begin(rt)) return st;
          for (uint32_t i = 0; i < layers; ++i) {
            void* w = nullptr;
            sn_status st = sn_layer_acquire(rt, i, &w);
            if (st == SN_OK) st = sn_layer_release(rt, i);
            if (st != SN_OK) {
              *msg = sn_last_error();
              sn_iteration_end(rt, nullptr);  // close the iteration; report the first error
              return st;
            }
          }
          if (sn_status st = sn_iteration_end(rt, &out->t)) return st;
          out->compute.assign(out->t.layer_compute_us, out->t.layer_compute_us + out->t.n_layers);
          out->stall.assign(out->t.layer_stall_us, out->t.layer_stall_us + out->t.n_layers);
          return SN_OK;
        },
        [out](Napi::Env e) -> Napi::Value { return telemetry_object(e, out->t, out->compute, out->stall); });
  }

  Napi::Value PoolStats(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    open(env);
    sn_pool_stats ps;
    if (sn_status st = sn_pool_stats_get(sh_->rt, &ps)) throw_status(env, st);
    Napi::Object o = Napi::Object::New(env);
    o.Set("budgetBytes", static_cast<double>(ps.budget_bytes));
    o.Set("usedBytes", static_cast<double>(ps.used_bytes));
    o.Set("freeBytes", static_cast<double>(ps.free_bytes));
    o.Set("largestFreeBytes", static_cast<double>(ps.largest_free_bytes));
    o.Set("weightsBytes", static_cast<double>(ps.weights_bytes));
    o.Set("stagingBytes", static_cast<double>(ps.staging_bytes));
    o.Set("kvBytes", static_cast<double>(ps.kv_bytes));
    o.Set("scratchBytes", static_cast<double>(ps.scratch_bytes));
    o.Set("kvBlockBytes", static_cast<double>(ps.kv_block_bytes));
    o.Set("kvBlocksUsed", ps.kv_blocks_used);
    o.Set("stagingSlots", ps.staging_slots);
    o.Set("hostLimitBytes", static_cast<double>(ps.host_limit_bytes));
    o.Set("hostUsedBytes", static_cast<double>(ps.host_used_bytes));
    return o;
  }

  Napi::Value KvFreeFor(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    std::vector<uint32_t> layers = to_u32_list(env, info[0], "offloadSet");
    std::unique_lock<std::mutex> lock;
    Shared& s = locked(env, &lock);
    uint64_t bytes = 0;
    if (sn_status st = sn_pool_kv_free_for(s.rt, layers.data(), static_cast<uint32_t>(layers.size()), &bytes)) {
      throw_status(env, st);
    }
    return Napi::Number::New(env, static_cast<double>(bytes));
  }

  Napi::Value SetBudget(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    const uint64_t bytes = to_u64(env, info[0], "bytes");
    std::unique_lock<std::mutex> lock;
    Shared& s = locked(env, &lock);
    if (sn_status st = sn_device_budget_set(s.rt, bytes)) throw_status(env, st);
    return env.Undefined();
  }

  Napi::Value KvConfigure(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    const uint64_t bytes = to_u64(env, info[0], "blockBytes");
    std::unique_lock<std::mutex> lock;
    Shared& s = locked(env, &lock);
    if (sn_status st = sn_kv_configure(s.rt, bytes)) throw_status(env, st);
    return env.Undefined();
  }

  Napi::Value KvAlloc(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    const uint32_t count = to_u32(env, info[0], "count");
    std::unique_lock<std::mutex> lock;
    Shared& s = locked(env, &lock);
    std::vector<uint32_t> ids(count);
    if (sn_status st = sn_kv_alloc(s.rt, count, ids.data())) throw_status(env, st);
    Napi::Array a = Napi::Array::New(env, count);
    for (uint32_t i = 0; i < count; ++i) a.Set(i, ids[i]);
    return a;
  }

  Napi::Value KvFree(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    std::vector<uint32_t> ids = to_u32_list(env, info[0], "blockIds");
    std::unique_lock<std::mutex> lock;
    Shared& s = locked(env, &lock);
    if (sn_status st = sn_kv_free(s.rt, ids.data(), static_cast<uint32_t>(ids.size()))) throw_status(env, st);
    return env.Undefined();
  }

  Napi::Value Bandwidth(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!info[0].IsNumber()) throw_arg(env, "bytesPerS must be a number");
    const double rate = info[0].As<Napi::Number>().DoubleValue();
    const uint64_t burst = info.Length() > 1 && !info[1].IsUndefined() ? to_u64(env, info[1], "burstBytes") : 0;
    open(env);
    if (sn_status st = sn_bandwidth_set(sh_->rt, rate, burst)) throw_status(env, st);
    return env.Undefined();
  }

  // Frees the runtime once no async operation holds it (the last reference does the destroy).
  Napi::Value Close(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    std::unique_lock<std::mutex> lock;
    Shared& s = locked(env, &lock);
    sn_runtime_destroy(s.rt);
    s.rt = nullptr;
    return env.Undefined();
  }

  std::shared_ptr<Shared> sh_;
};

Napi::FunctionReference* g_ctor = nullptr;

Napi::Value CreateRuntime(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsObject()) throw_arg(env, "config must be an object");
  Napi::Object o = info[0].As<Napi::Object>();
  sn_runtime_config cfg;
  sn_runtime_config_default(&cfg);
  Napi::Value backend = o.Get("backend");
  if (!backend.IsUndefined()) {
    const std::string b = backend.IsString() ? backend.As<Napi::String>().Utf8Value() : "";
    if (b == "cpu") {
      cfg.backend = SN_BACKEND_CPU;
    } else if (b == "cuda") {
      cfg.backend = SN_BACKEND_CUDA;
    } else {
      throw_arg(env, "backend must be \"cpu\" or \"cuda\"");
    }
  }
  cfg.device_index = static_cast<int32_t>(get_number(env, o, "deviceIndex", 0, 0));
  cfg.device_budget_bytes = static_cast<uint64_t>(get_number(env, o, "deviceBudgetBytes", 0, 0));
  cfg.host_pool_limit_bytes = static_cast<uint64_t>(get_number(env, o, "hostPoolLimitBytes", 0, 0));
  cfg.staging_slots = static_cast<uint32_t>(get_number(env, o, "stagingSlots", 2, 0));
  cfg.copy_chunk_bytes = static_cast<uint64_t>(get_number(env, o, "copyChunkBytes", 4 << 20, 1));
  cfg.bandwidth_bytes_per_s = get_number(env, o, "bandwidthBytesPerS", 0, 0);
  cfg.bandwidth_burst_bytes = static_cast<uint64_t>(get_number(env, o, "bandwidthBurstBytes", 0, 0));
  cfg.lock_host_memory = o.Get("lockHostMemory").ToBoolean().Value() ? 1 : 0;
  cfg.telemetry_window = static_cast<uint32_t>(get_number(env, o, "telemetryWindow", 64, 1));
  auto sh = std::make_shared<Shared>();
  auto* task = new Task(
      env, sh, [sh, cfg](std::string*) { return sn_runtime_create(&cfg, &sh->rt); },
      [sh](Napi::Env e) -> Napi::Value {
        auto holder = sh;
        return g_ctor->New({Napi::External<std::shared_ptr<Shared>>::New(e, &holder)});
      });
  Napi::Promise p = task->promise();
  task->Queue();
  return p;
}

Napi::Value BackendCompiled(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const std::string b = info[0].IsString() ? info[0].As<Napi::String>().Utf8Value() : "";
  if (b == "cpu") return Napi::Boolean::New(env, sn_backend_compiled(SN_BACKEND_CPU) != 0);
  if (b == "cuda") return Napi::Boolean::New(env, sn_backend_compiled(SN_BACKEND_CUDA) != 0);
  throw_arg(env, "backend must be \"cpu\" or \"cuda\"");
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  Napi::Function ctor = Runtime::Init(env);
  g_ctor = new Napi::FunctionReference(Napi::Persistent(ctor));
  exports.Set("Runtime", ctor);
  exports.Set("createRuntime", Napi::Function::New(env, CreateRuntime));
  exports.Set("backendCompiled", Napi::Function::New(env, BackendCompiled));
#ifdef SELECTN_WITH_ENGINE
  sn::binding::init_engine(env, exports);
#endif
  return exports;
}

}  // namespace

#ifdef SELECTN_WITH_ENGINE
bool sn::binding::unwrap_runtime(const Napi::Value& v, RuntimeRef* out) {
  if (!v.IsObject() || !g_ctor || !v.As<Napi::Object>().InstanceOf(g_ctor->Value())) return false;
  std::shared_ptr<Shared> sh = Runtime::Unwrap(v.As<Napi::Object>())->shared();
  if (!sh) return false;
  out->rt = &sh->rt;
  out->mu = &sh->mu;
  out->owner = sh;
  return true;
}
#endif

NODE_API_MODULE(selectn, Init)

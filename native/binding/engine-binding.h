// Seam between the runtime addon (addon.cpp) and the engine's binding (engine-binding.cc).
#ifndef SELECTN_BINDING_ENGINE_BINDING_H
#define SELECTN_BINDING_ENGINE_BINDING_H

#include <memory>
#include <mutex>
#include <napi.h>

#include "selectn/runtime.h"

namespace sn::binding {

// A runtime as the engine binding sees it: the slot holding the live sn_runtime* (nullptr once
// closed), the lock that serializes native calls on it, and an owner reference keeping both alive.
struct RuntimeRef {
  std::shared_ptr<void> owner;
  sn_runtime* const* rt = nullptr;
  std::mutex* mu = nullptr;
};

// Implemented in addon.cpp: the RuntimeRef of a Runtime object; false if `v` is not one.
bool unwrap_runtime(const Napi::Value& v, RuntimeRef* out);
// Implemented in engine-binding.cc: adds loadModel and sample to the module's exports.
void init_engine(Napi::Env env, Napi::Object exports);

}  // namespace sn::binding

#endif  // SELECTN_BINDING_ENGINE_BINDING_H

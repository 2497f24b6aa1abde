// The model engine: a checkpoint loaded onto a runtime, and one forward step over a batch of
// sequences with paged KV. Decoder layer weights are placed through the runtime (resident,
// or in the pinned host pool and streamed into staging slots); everything else the engine
// allocates from the runtime's device pool.
#ifndef SELECTN_ENGINE_ENGINE_H
#define SELECTN_ENGINE_ENGINE_H

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "batch.h"
#include "config.h"
#include "layout.h"
#include "models/model.h"
#include "ops.h"
#include "selectn/runtime.h"

namespace sn::engine {

struct EngineOptions {
  int32_t block_size = 16;        // tokens per KV block
  int32_t threads = 0;            // CPU GEMM threads (0 = OpenBLAS default)
  int32_t scratch_tokens = 256;   // initial activation capacity; grows on demand
  // Stored weight dtype: "auto" (the checkpoint's), "float32", "float16" or "bfloat16".
  std::string dtype = "auto";
  // Placement applied at load. host_set: layers that may ever be offloaded (default: all);
  // offload_set: initially offloaded layers (subset of host_set); interval: its N label.
  std::vector<uint32_t> host_set;
  bool host_set_given = false;
  std::vector<uint32_t> offload_set;
  uint32_t interval = 0;
};

class Engine {
 public:
  // Loads and validates <dir> and places its weights on `rt` (not owned; must outlive the
  // engine; no layers declared on it yet). Throws EngineError.
  static std::unique_ptr<Engine> load(const std::string& dir, sn_runtime* rt, const EngineOptions& opt);
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  const ModelConfig& config() const { return config_; }
  const KvGeometry& kv() const { return kv_; }
  const LayerLayout& layer_layout() const { return layout_; }
  sn_runtime* runtime() const { return rt_; }
  // Forgets the runtime without freeing (call only if the runtime was already destroyed, taking
  // the engine's device allocations with it).
  void detach() { rt_ = nullptr; }

  // Rows of logits step() writes for this batch: per sequence n_tokens if all_logits, else 1.
  static int logit_rows(const SeqStep* seqs, int n);
  // Validates the batch (throws EngineError naming the sequence and problem), then runs one
  // iteration on the runtime: embeddings, every layer (acquire / compute / release), final norm
  // and lm_head for the requested rows. logits: host buffer of logit_rows() * vocab floats,
  // in sequence order. telemetry may be null.
  void step(const SeqStep* seqs, int n, float* logits, sn_iteration_telemetry* telemetry);

 private:
  Engine() = default;
  void* alloc_device(uint64_t bytes);
  void upload_global(const Checkpoint& ck, const ParamSpec& spec, Weight* out);
  void ensure_scratch(int tokens, int logit_rows);
  void validate(const SeqStep* seqs, int n) const;
  void build_meta(const SeqStep* seqs, int n);

  sn_runtime* rt_ = nullptr;
  bool on_host_ = true;  // CPU backend: device pointers are host-addressable
  ModelConfig config_;
  LayerLayout layout_{};
  KvGeometry kv_;
  std::unique_ptr<Ops> ops_;
  std::unique_ptr<Model> model_;
  GlobalWeights globals_;
  std::vector<void*> device_allocs_;  // globals, freed in the destructor
  void* scratch_ = nullptr;
  int scratch_tokens_ = 0, scratch_logit_rows_ = 0;
  Activations act_;
  float* logits_dev_ = nullptr;
  // Step metadata (host copies; on CUDA uploaded into meta_dev_).
  std::vector<int32_t> ints_;
  std::vector<float*> block_ptrs_;
  void* meta_dev_ = nullptr;
  uint64_t meta_dev_bytes_ = 0;
  BatchView view_;
};

}  // namespace sn::engine

#endif  // SELECTN_ENGINE_ENGINE_H

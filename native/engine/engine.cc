#include "engine.h"

#include <algorithm>
#include <cassert>
#include <cstring>

#include "checkpoint.h"
#include "errors.h"
#include "rope-freqs.h"

namespace sn::engine {

namespace {

// Ends the runtime iteration on every exit path of a step, releasing layers left acquired.
struct IterationGuard {
  sn_runtime* rt;
  int acquired = -1;  // layer acquired but not yet released
  bool open = true;
  sn_iteration_telemetry* tel = nullptr;
  ~IterationGuard() {
    if (acquired >= 0) sn_layer_release(rt, uint32_t(acquired));
    if (open) sn_iteration_end(rt, tel);
  }
};

}  // namespace

std::unique_ptr<Engine> Engine::load(const std::string& dir, sn_runtime* rt, const EngineOptions& opt) {
  if (!rt) throw EngineError("Engine::load: runtime is null");
  if (opt.block_size <= 0 || opt.block_size > 4096) throw EngineError("block_size must be in 1..4096");
  std::unique_ptr<Checkpoint> ck = Checkpoint::open(dir);
  const DType stored = validate_checkpoint(*ck);
  DType dtype;
  if (!weight_dtype_from_request(opt.dtype, stored, &dtype))
    throw EngineError("dtype '" + opt.dtype + "' is not one of auto, float32, float16, bfloat16");
  std::unique_ptr<Engine> e(new Engine());
  e->rt_ = rt;
  e->config_ = ck->config();
  const ModelConfig& c = e->config_;
  sn_runtime_info info{};
  check_rt(sn_runtime_info_get(rt, &info), "runtime info");
  e->on_host_ = info.backend == SN_BACKEND_CPU;
  e->ops_ = e->on_host_ ? make_cpu_ops(opt.threads) : make_cuda_ops(sn_compute_stream(rt));
  if (!e->ops_) throw EngineError("the runtime uses the CUDA backend but the engine was built without CUDA");
  // The CUDA kernels compute fp32 weights only (yet): auto widens a half checkpoint there, as
  // before, and says so in the model info; an explicit half dtype is refused.
  if (!e->on_host_ && dtype != DType::F32) {
    if (opt.dtype != "auto")
      throw EngineError(std::string("dtype ") + torch_dtype_name(dtype) +
                        ": the CUDA backend runs float32 weights only; use dtype float32 or auto");
    dtype = DType::F32;
  }
  e->layout_ = make_layer_layout(c, dtype);
  e->kv_ = KvGeometry{int32_t(c.n_layers), int32_t(c.n_kv_heads), int32_t(c.head_dim), opt.block_size};
  e->model_ = c.arch == Arch::Llama ? make_llama(c, e->layout_, e->kv_) : make_opt(c, e->layout_, e->kv_);

  // Layers: declare, choose placement, then stream each blob in (one layer in host memory at a time).
  const uint32_t L = uint32_t(c.n_layers);
  std::vector<uint64_t> bytes(L, e->layout_.bytes());
  check_rt(sn_layers_declare(rt, L, bytes.data()), "declare layers");
  std::vector<uint32_t> host = opt.host_set;
  if (!opt.host_set_given) {
    host.resize(L);
    for (uint32_t i = 0; i < L; ++i) host[i] = i;
  }
  check_rt(sn_host_set(rt, host.data(), uint32_t(host.size())), "host set");
  check_rt(sn_offload_set(rt, opt.offload_set.data(), uint32_t(opt.offload_set.size()), opt.interval),
           "offload set");
  std::vector<unsigned char> blob(e->layout_.bytes());
  for (uint32_t i = 0; i < L; ++i) {
    fill_layer_blob(*ck, e->layout_, i, blob.data());
    check_rt(sn_layer_load(rt, i, blob.data(), e->layout_.bytes()), "load layer");
  }
  check_rt(sn_switch_wait(rt, 600000), "initial placement");

  for (const ParamSpec& spec : global_param_specs(c)) {
    Weight* slot = nullptr;
    switch (spec.id) {
      case kEmbed: slot = &e->globals_.embed; break;
      case kPosEmbed: slot = &e->globals_.pos_embed; break;
      case kFinalNorm: slot = &e->globals_.final_norm; break;
      case kFinalNormBias: slot = &e->globals_.final_norm_bias; break;
      case kLmHead: slot = &e->globals_.lm_head; break;
      default: assert(false);
    }
    e->upload_global(*ck, spec, slot);
  }
  if (c.tie_word_embeddings) e->globals_.lm_head = e->globals_.embed;
  if (c.arch == Arch::Llama) {
    const std::vector<float> f = rope_inv_freq(c.rope, int(c.rotary_dim));
    void* p = e->alloc_device(f.size() * sizeof(float));
    check_rt(sn_device_upload(rt, p, f.data(), f.size() * sizeof(float)), "upload rope frequencies");
    e->globals_.inv_freq = static_cast<const float*>(p);
  }
  check_rt(sn_kv_configure(rt, e->kv_.block_bytes()), "configure KV blocks");
  e->ensure_scratch(std::max(1, opt.scratch_tokens), 1);
  return e;
}

Engine::~Engine() {
  if (!rt_) return;
  if (scratch_) sn_device_free(rt_, scratch_);
  if (meta_dev_) sn_device_free(rt_, meta_dev_);
  for (void* p : device_allocs_) sn_device_free(rt_, p);
}

void* Engine::alloc_device(uint64_t bytes) {
  void* p = nullptr;
  check_rt(sn_device_alloc(rt_, std::max<uint64_t>(bytes, 64), &p), "device allocation");
  device_allocs_.push_back(p);
  return p;
}

void Engine::upload_global(const Checkpoint& ck, const ParamSpec& spec, Weight* out) {
  const TensorRef& t = ck.require(spec.name, spec.shape);
  const DType dtype = layout_.dtype;
  std::vector<unsigned char> host(t.info->numel() * dtype_size(dtype));
  Checkpoint::read_as(t, dtype, host.data());
  void* p = alloc_device(host.size());
  check_rt(sn_device_upload(rt_, p, host.data(), host.size()), "upload global weights");
  *out = Weight{p, dtype};
}

void Engine::ensure_scratch(int tokens, int rows) {
  if (tokens <= scratch_tokens_ && rows <= scratch_logit_rows_) return;
  tokens = std::max(tokens, scratch_tokens_);
  rows = std::max(rows, scratch_logit_rows_);
  const ModelConfig& c = config_;
  const uint64_t D = uint64_t(c.hidden_size), Q = uint64_t(c.n_heads * c.head_dim);
  const uint64_t KV = uint64_t(c.n_kv_heads * c.head_dim), F = uint64_t(c.ffn_size), V = uint64_t(c.vocab_size);
  auto pad = [](uint64_t n) { return (n + 63) / 64 * 64; };  // floats; keeps 256-byte alignment
  const uint64_t T = uint64_t(tokens);
  const uint64_t sizes[] = {pad(T * D), pad(T * D), pad(T * D), pad(T * Q), pad(T * Q),
                            pad(T * KV), pad(T * KV), pad(T * F), pad(T * F), pad(uint64_t(rows) * V)};
  uint64_t total = 0;
  for (uint64_t s : sizes) total += s;
  void* p = nullptr;
  if (scratch_) {
    sn_device_free(rt_, scratch_);
    scratch_ = nullptr;
    scratch_tokens_ = scratch_logit_rows_ = 0;
  }
  check_rt(sn_device_alloc(rt_, total * sizeof(float), &p), "activation scratch");
  scratch_ = p;
  float* at = static_cast<float*>(p);
  float** slots[] = {&act_.x, &act_.xn, &act_.tmp, &act_.q, &act_.attn, &act_.k, &act_.v, &act_.gate, &act_.up, &logits_dev_};
  for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); ++i) {
    *slots[i] = at;
    at += sizes[i];
  }
  act_.capacity = tokens;
  scratch_tokens_ = tokens;
  scratch_logit_rows_ = rows;
}

int Engine::logit_rows(const SeqStep* seqs, int n) {
  int rows = 0;
  for (int i = 0; i < n; ++i) rows += seqs[i].all_logits ? seqs[i].n_tokens : 1;
  return rows;
}

void Engine::validate(const SeqStep* seqs, int n) const {
  if (n <= 0) throw EngineError("step: the batch has no sequences");
  for (int s = 0; s < n; ++s) {
    const SeqStep& q = seqs[s];
    const std::string who = "step: sequence " + std::to_string(s) + ": ";
    if (q.n_tokens <= 0 || !q.tokens) throw EngineError(who + "no tokens");
    if (q.n_past < 0) throw EngineError(who + "n_past is negative");
    const int64_t end = int64_t(q.n_past) + q.n_tokens;
    if (end > config_.max_positions)
      throw EngineError(who + "context " + std::to_string(end) + " exceeds max_position_embeddings " +
                        std::to_string(config_.max_positions));
    if (int64_t(q.n_blocks) * kv_.block_size < end || (q.n_blocks > 0 && !q.block_ids))
      throw EngineError(who + "block table of " + std::to_string(q.n_blocks) + " blocks of " +
                        std::to_string(kv_.block_size) + " tokens cannot hold " + std::to_string(end) + " positions");
    // Released leading blocks (sliding window): only wholly before the first new token's window.
    const int64_t window = config_.sliding_window;
    const int64_t first_read = window > 0 ? std::max<int64_t>(0, q.n_past - window + 1) : 0;
    const int need = int((end + kv_.block_size - 1) / kv_.block_size);
    for (int b = 0; b < need; ++b) {
      if (q.block_ids[b] != SN_KV_BLOCK_RELEASED) continue;
      if (int64_t(b + 1) * kv_.block_size > first_read)
        throw EngineError(who + "block " + std::to_string(b) + " of the block table is released but holds positions " +
                          std::to_string(int64_t(b) * kv_.block_size) + ".." +
                          std::to_string(int64_t(b + 1) * kv_.block_size - 1) +
                          (window > 0 ? ", inside the sliding window from position " + std::to_string(first_read)
                                      : " and the model has no sliding window"));
    }
    for (int t = 0; t < q.n_tokens; ++t)
      if (q.tokens[t] < 0 || q.tokens[t] >= config_.vocab_size)
        throw EngineError(who + "token " + std::to_string(q.tokens[t]) + " outside the vocabulary of " +
                          std::to_string(config_.vocab_size));
  }
}

void Engine::build_meta(const SeqStep* seqs, int n) {
  int T = 0, max_blocks = 0;
  for (int s = 0; s < n; ++s) {
    T += seqs[s].n_tokens;
    const int need = (seqs[s].n_past + seqs[s].n_tokens + kv_.block_size - 1) / kv_.block_size;
    max_blocks = std::max(max_blocks, need);
  }
  const int R = logit_rows(seqs, n);
  ints_.assign(size_t(4 * T + R), 0);  // token_ids | positions | token_seq | (pad) | logit_rows
  int32_t* ids = ints_.data();
  int32_t* pos = ids + T;
  int32_t* seq = pos + T;
  int32_t* rows = seq + T + T;
  block_ptrs_.assign(size_t(n) * size_t(max_blocks), nullptr);
  int t = 0, r = 0;
  for (int s = 0; s < n; ++s) {
    const SeqStep& q = seqs[s];
    const int need = (q.n_past + q.n_tokens + kv_.block_size - 1) / kv_.block_size;
    for (int b = 0; b < need; ++b) {
      if (q.block_ids[b] == SN_KV_BLOCK_RELEASED) continue;  // before the window (validate): never read
      void* p = nullptr;
      if (sn_kv_block_ptr(rt_, q.block_ids[b], &p) != SN_OK)
        throw EngineError("step: sequence " + std::to_string(s) + ": block id " + std::to_string(q.block_ids[b]) +
                          ": " + sn_last_error());
      block_ptrs_[size_t(s) * max_blocks + b] = static_cast<float*>(p);
    }
    for (int i = 0; i < q.n_tokens; ++i, ++t) {
      ids[t] = q.tokens[i];
      pos[t] = q.n_past + i;
      seq[t] = s;
      if (q.all_logits || i == q.n_tokens - 1) rows[r++] = t;
    }
  }
  assert(t == T && r == R);
  view_ = BatchView{};
  view_.n_tokens = T;
  view_.n_seqs = n;
  view_.max_blocks = max_blocks;
  view_.n_logits = R;
  for (int s = 0; s < n; ++s) view_.max_ctx = std::max(view_.max_ctx, seqs[s].n_past + seqs[s].n_tokens);
  if (on_host_) {
    view_.token_ids = ids;
    view_.positions = pos;
    view_.token_seq = seq;
    view_.logit_rows = rows;
    view_.block_ptrs = block_ptrs_.data();
    return;
  }
  const uint64_t ptr_bytes = block_ptrs_.size() * sizeof(float*);
  const uint64_t int_bytes = (ints_.size() * sizeof(int32_t) + 15) / 16 * 16;
  if (int_bytes + ptr_bytes > meta_dev_bytes_) {
    if (meta_dev_) sn_device_free(rt_, meta_dev_);
    meta_dev_ = nullptr;
    meta_dev_bytes_ = std::max<uint64_t>(2 * (int_bytes + ptr_bytes), 4096);
    check_rt(sn_device_alloc(rt_, meta_dev_bytes_, &meta_dev_), "step metadata");
  }
  auto* base = static_cast<unsigned char*>(meta_dev_);
  check_rt(sn_device_upload(rt_, base, ints_.data(), ints_.size() * sizeof(int32_t)), "upload step metadata");
  if (ptr_bytes) check_rt(sn_device_upload(rt_, base + int_bytes, block_ptrs_.data(), ptr_bytes), "upload block table");
  const auto* dints = reinterpret_cast<const int32_t*>(base);
  view_.token_ids = dints;
  view_.positions = dints + T;
  view_.token_seq = dints + 2 * T;
  view_.logit_rows = dints + 4 * T;
  view_.block_ptrs = reinterpret_cast<float* const*>(base + int_bytes);
}

void Engine::step(const SeqStep* seqs, int n, float* logits, sn_iteration_telemetry* telemetry) {
  validate(seqs, n);
  int T = 0;
  for (int s = 0; s < n; ++s) T += seqs[s].n_tokens;
  const int R = logit_rows(seqs, n);
  ensure_scratch(T, R);
  build_meta(seqs, n);
  const int D = int(config_.hidden_size), V = int(config_.vocab_size);

  check_rt(sn_iteration_begin(rt_), "iteration begin");
  IterationGuard guard{rt_};
  guard.tel = telemetry;
  model_->embed(*ops_, globals_, view_, act_);
  for (uint32_t l = 0; l < uint32_t(config_.n_layers); ++l) {
    void* w = nullptr;
    check_rt(sn_layer_acquire(rt_, l, &w), "acquire layer");
    guard.acquired = int(l);
    model_->layer(*ops_, w, int(l), view_, act_);
    guard.acquired = -1;
    check_rt(sn_layer_release(rt_, l), "release layer");
  }
  ops_->gather_rows(act_.xn, act_.x, view_.logit_rows, R, D);
  model_->final_norm(*ops_, globals_, act_.xn, R);
  ops_->linear(logits_dev_, act_.xn, globals_.lm_head, Weight{}, R, D, V);
  guard.open = false;
  check_rt(sn_iteration_end(rt_, telemetry), "iteration end");
  check_rt(sn_device_download(rt_, logits, logits_dev_, uint64_t(R) * V * sizeof(float)), "download logits");
}

}  // namespace sn::engine

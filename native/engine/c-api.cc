// C surface of the engine: wraps Engine and sample_token, turning EngineError into a status and
// the runtime's thread-local last-error message.
#include <cstring>
#include <new>

#include "../runtime/errors.h"
#include "engine.h"
#include "errors.h"
#include "sampling.h"
#include "selectn/engine.h"

struct sn_model {
  std::unique_ptr<sn::engine::Engine> engine;
};

namespace {

template <typename F>
sn_status guarded(F&& f) {
  try {
    f();
    sn::clear_error();
    return SN_OK;
  } catch (const sn::engine::EngineError& e) {
    return sn::fail(SN_ERR_INVALID_ARGUMENT, e.what());
  } catch (const std::bad_alloc&) {
    return sn::fail(SN_ERR_OUT_OF_HOST_MEMORY, "engine: out of host memory");
  } catch (const std::exception& e) {
    return sn::fail(SN_ERR_BACKEND, std::string("engine: ") + e.what());
  }
}

}  // namespace

extern "C" {

void sn_model_options_default(sn_model_options* o) {
  std::memset(o, 0, sizeof(*o));
  o->block_size = 16;
  o->scratch_tokens = 256;
}

sn_status sn_model_load(const char* dir, sn_runtime* rt, const sn_model_options* o, sn_model** out) {
  if (!dir || !rt || !out) return sn::fail(SN_ERR_INVALID_ARGUMENT, "sn_model_load: null argument");
  *out = nullptr;
  return guarded([&] {
    sn_model_options d;
    sn_model_options_default(&d);
    if (!o) o = &d;
    sn::engine::EngineOptions eo;
    eo.block_size = o->block_size;
    eo.threads = o->threads;
    eo.scratch_tokens = o->scratch_tokens;
    if (o->host_set) {
      eo.host_set.assign(o->host_set, o->host_set + o->n_host_set);
      eo.host_set_given = true;
    }
    if (o->offload_set) eo.offload_set.assign(o->offload_set, o->offload_set + o->n_offload_set);
    eo.interval = o->interval;
    if (o->dtype) eo.dtype = o->dtype;
    auto m = std::make_unique<sn_model>();
    m->engine = sn::engine::Engine::load(dir, rt, eo);
    *out = m.release();
  });
}

void sn_model_free(sn_model* m) { delete m; }

sn_status sn_model_info_get(const sn_model* m, sn_model_info* out) {
  if (!m || !out) return sn::fail(SN_ERR_INVALID_ARGUMENT, "sn_model_info_get: null argument");
  const sn::engine::ModelConfig& c = m->engine->config();
  std::memset(out, 0, sizeof(*out));
  std::strncpy(out->arch, c.arch == sn::engine::Arch::Llama ? "llama" : "opt", sizeof(out->arch) - 1);
  std::strncpy(out->model_type, c.model_type.c_str(), sizeof(out->model_type) - 1);
  out->vocab_size = c.vocab_size;
  out->hidden_size = c.hidden_size;
  out->n_layers = c.n_layers;
  out->n_heads = c.n_heads;
  out->n_kv_heads = c.n_kv_heads;
  out->head_dim = c.head_dim;
  out->ffn_size = c.ffn_size;
  out->max_positions = c.max_positions;
  out->block_size = m->engine->kv().block_size;
  out->kv_block_bytes = m->engine->kv().block_bytes();
  out->layer_bytes = m->engine->layer_layout().bytes();
  std::strncpy(out->dtype, sn::engine::torch_dtype_name(m->engine->layer_layout().dtype), sizeof(out->dtype) - 1);
  out->bos_token_id = c.bos_token_id;
  out->sliding_window = c.sliding_window;
  for (size_t i = 0; i < c.eos_token_ids.size() && i < 8; ++i) out->eos_token_ids[out->n_eos++] = c.eos_token_ids[i];
  return SN_OK;
}

int32_t sn_model_logit_rows(const sn_seq_step* seqs, int32_t n) {
  return seqs ? sn::engine::Engine::logit_rows(seqs, n) : 0;
}

sn_status sn_model_step(sn_model* m, const sn_seq_step* seqs, int32_t n, float* logits,
                        sn_iteration_telemetry* telemetry) {
  if (!m || !seqs || !logits) return sn::fail(SN_ERR_INVALID_ARGUMENT, "sn_model_step: null argument");
  return guarded([&] { m->engine->step(seqs, n, logits, telemetry); });
}

void sn_sampling_params_default(sn_sampling_params* p) {
  std::memset(p, 0, sizeof(*p));
  p->temperature = 1.0f;
  p->top_p = 1.0f;
  p->repetition_penalty = 1.0f;
}

sn_status sn_sample(const float* logits, int32_t vocab, const sn_sampling_params* p, const int32_t* prompt,
                    int32_t n_prompt, const int32_t* output, int32_t n_output, uint64_t step,
                    sn_sample_result* out) {
  if (!logits || !p || !out) return sn::fail(SN_ERR_INVALID_ARGUMENT, "sn_sample: null argument");
  return guarded([&] {
    sn::engine::SamplingParams sp;
    sp.temperature = p->temperature;
    sp.top_k = p->top_k;
    sp.top_p = p->top_p;
    sp.min_p = p->min_p;
    sp.repetition_penalty = p->repetition_penalty;
    sp.presence_penalty = p->presence_penalty;
    sp.frequency_penalty = p->frequency_penalty;
    sp.seed = p->seed;
    sp.top_logprobs = p->top_logprobs;
    const sn::engine::SampleResult r = sn::engine::sample_token(logits, vocab, sp, prompt, n_prompt, output,
                                                                n_output, step);
    std::memset(out, 0, sizeof(*out));
    out->token = r.token;
    out->logprob = r.logprob;
    out->n_top = int32_t(r.top.size());
    for (size_t i = 0; i < r.top.size(); ++i) {
      out->top_tokens[i] = r.top[i].first;
      out->top_logprobs[i] = r.top[i].second;
    }
  });
}

}  // extern "C"

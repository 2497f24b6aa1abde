// Node-API binding of the model engine: loadModel(runtime, dir, options) -> Model with info(),
// step(seqs) and close(); sample(logits, params, prompt, output, step). Loading and steps run on
// libuv worker threads holding the runtime's lock; inputs are copied before the hop.
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "engine-binding.h"
#include "engine.h"
#include "errors.h"
#include "sampling.h"
#include "selectn/engine.h"

namespace sn::binding {
namespace {

Napi::Error error(Napi::Env env, const char* code, const std::string& message) {
  Napi::Error e = Napi::Error::New(env, message);
  e.Set("code", Napi::String::New(env, code));
  return e;
}

[[noreturn]] void throw_arg(Napi::Env env, const std::string& m) { throw error(env, "SN_ERR_INVALID_ARGUMENT", m); }

double num(Napi::Env env, const Napi::Object& o, const char* k, double dflt) {
  Napi::Value v = o.Get(k);
  if (v.IsUndefined()) return dflt;
  if (!v.IsNumber()) throw_arg(env, std::string(k) + " must be a number");
  return v.As<Napi::Number>().DoubleValue();
}

std::vector<uint32_t> u32_list(Napi::Env env, const Napi::Value& v, const char* what) {
  std::vector<uint32_t> out;
  if (v.IsUndefined()) return out;
  if (!v.IsArray()) throw_arg(env, std::string(what) + " must be an array of layer indices");
  Napi::Array a = v.As<Napi::Array>();
  for (uint32_t i = 0; i < a.Length(); ++i) {
    Napi::Value x = a.Get(i);
    if (!x.IsNumber() || x.As<Napi::Number>().DoubleValue() < 0) throw_arg(env, std::string(what) + " entries must be >= 0");
    out.push_back(x.As<Napi::Number>().Uint32Value());
  }
  return out;
}

Napi::Object telemetry_object(Napi::Env env, const sn_iteration_telemetry& t, const std::vector<double>& layer_us,
                              const std::vector<double>& stall_us) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("iteration", double(t.iteration));
  o.Set("interval", t.interval);
  o.Set("offloadedLayers", t.offloaded_layers);
  o.Set("wallUs", t.wall_us);
  o.Set("stallUs", t.stall_us);
  o.Set("computeUs", t.compute_us);
  o.Set("bytesCopied", double(t.bytes_copied));
  o.Set("bandwidthBytesPerS", t.bandwidth_bytes_per_s);
  o.Set("bandwidthEwma", t.bandwidth_ewma);
  o.Set("switchPending", t.switch_pending != 0);
  Napi::Array c = Napi::Array::New(env, layer_us.size()), s = Napi::Array::New(env, stall_us.size());
  for (uint32_t i = 0; i < layer_us.size(); ++i) {
    c.Set(i, layer_us[i]);
    s.Set(i, stall_us[i]);
  }
  o.Set("layerComputeUs", c);
  o.Set("layerStallUs", s);
  return o;
}

// Work on a worker thread under the runtime lock; resolves with result(env) or rejects {code, message}.
class Job : public Napi::AsyncWorker {
 public:
  Job(Napi::Env env, RuntimeRef ref, std::function<void(sn_runtime*)> work, std::function<Napi::Value(Napi::Env)> result)
      : Napi::AsyncWorker(env), d_(Napi::Promise::Deferred::New(env)), ref_(std::move(ref)), work_(std::move(work)),
        result_(std::move(result)) {}
  Napi::Promise promise() { return d_.Promise(); }
  void Execute() override {
    std::lock_guard<std::mutex> lock(*ref_.mu);
    if (*ref_.rt == nullptr) {
      code_ = "SN_ERR_STATE";
      message_ = "runtime is closed";
      return;
    }
    try {
      work_(*ref_.rt);
    } catch (const engine::EngineError& e) {
      code_ = "SN_ERR_INVALID_ARGUMENT";
      message_ = e.what();
    } catch (const std::exception& e) {
      code_ = "SN_ERR_BACKEND";
      message_ = e.what();
    }
  }
  void OnOK() override {
    Napi::Env env = Env();
    Napi::HandleScope scope(env);
    if (!code_.empty()) {
      d_.Reject(error(env, code_.c_str(), message_).Value());
      return;
    }
    try {
      d_.Resolve(result_(env));
    } catch (const Napi::Error& e) {
      d_.Reject(e.Value());
    }
  }
  void OnError(const Napi::Error& e) override { d_.Reject(e.Value()); }

 private:
  Napi::Promise::Deferred d_;
  RuntimeRef ref_;
  std::function<void(sn_runtime*)> work_;
  std::function<Napi::Value(Napi::Env)> result_;
  std::string code_, message_;
};

// The engine and the runtime it lives on; shared by the Model object and in-flight jobs.
struct ModelState {
  RuntimeRef ref;
  std::unique_ptr<engine::Engine> engine;
  ~ModelState() {
    if (!engine) return;
    std::lock_guard<std::mutex> lock(*ref.mu);
    if (*ref.rt == engine->runtime()) {
      engine.reset();  // frees its device memory on the live runtime
    } else {
      engine->detach();  // runtime already closed: its pools are gone
      engine.reset();
    }
  }
};

Napi::FunctionReference* g_model_ctor = nullptr;

class Model : public Napi::ObjectWrap<Model> {
 public:
  static Napi::Function Init(Napi::Env env) {
    return DefineClass(env, "Model",
                       {InstanceMethod<&Model::Info>("info"), InstanceMethod<&Model::Step>("step"),
                        InstanceMethod<&Model::Close>("close")});
  }
  explicit Model(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Model>(info) {
    if (info.Length() != 1 || !info[0].IsExternal()) throw_arg(info.Env(), "use loadModel(runtime, dir, options)");
    st_ = *info[0].As<Napi::External<std::shared_ptr<ModelState>>>().Data();
  }

 private:
  std::shared_ptr<ModelState> live(Napi::Env env) {
    if (!st_ || !st_->engine) throw error(env, "SN_ERR_STATE", "model is closed");
    return st_;
  }

  Napi::Value Info(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    auto st = live(env);
    const engine::ModelConfig& c = st->engine->config();
    Napi::Object o = Napi::Object::New(env);
    o.Set("arch", c.arch == engine::Arch::Llama ? "llama" : "opt");
    o.Set("modelType", c.model_type);
    o.Set("vocabSize", double(c.vocab_size));
    o.Set("hiddenSize", double(c.hidden_size));
    o.Set("layers", double(c.n_layers));
    o.Set("heads", double(c.n_heads));
    o.Set("kvHeads", double(c.n_kv_heads));
    o.Set("headDim", double(c.head_dim));
    o.Set("ffnSize", double(c.ffn_size));
    o.Set("maxPositions", double(c.max_positions));
    o.Set("blockSize", st->engine->kv().block_size);
    o.Set("kvBlockBytes", double(st->engine->kv().block_bytes()));
    o.Set("layerBytes", double(st->engine->layer_layout().bytes()));
    o.Set("dtype", engine::torch_dtype_name(st->engine->layer_layout().dtype));
    o.Set("bosTokenId", double(c.bos_token_id));
    o.Set("slidingWindow", double(c.sliding_window));
    Napi::Array eos = Napi::Array::New(env, c.eos_token_ids.size());
    for (uint32_t i = 0; i < c.eos_token_ids.size(); ++i) eos.Set(i, double(c.eos_token_ids[i]));
    o.Set("eosTokenIds", eos);
    return o;
  }

  // step([{tokens: Int32Array, nPast, blockIds: Uint32Array, allLogits}]) ->
  //   Promise<{logits: Float32Array (rows * vocab), rows, telemetry}>
  Napi::Value Step(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    auto st = live(env);
    if (!info[0].IsArray()) throw_arg(env, "step expects an array of sequences");
    Napi::Array a = info[0].As<Napi::Array>();
    struct Owned {
      std::vector<int32_t> tokens;
      std::vector<uint32_t> blocks;
      int32_t n_past = 0;
      bool all = false;
    };
    auto seqs = std::make_shared<std::vector<Owned>>(a.Length());
    for (uint32_t i = 0; i < a.Length(); ++i) {
      if (!a.Get(i).IsObject()) throw_arg(env, "sequence " + std::to_string(i) + " is not an object");
      Napi::Object s = a.Get(i).As<Napi::Object>();
      Napi::Value t = s.Get("tokens"), b = s.Get("blockIds");
      if (!t.IsTypedArray() || t.As<Napi::TypedArray>().TypedArrayType() != napi_int32_array)
        throw_arg(env, "sequence " + std::to_string(i) + ": tokens must be an Int32Array");
      if (!b.IsTypedArray() || b.As<Napi::TypedArray>().TypedArrayType() != napi_uint32_array)
        throw_arg(env, "sequence " + std::to_string(i) + ": blockIds must be a Uint32Array");
      Napi::Int32Array ti = t.As<Napi::Int32Array>();
      Napi::Uint32Array bi = b.As<Napi::Uint32Array>();
      Owned& o = (*seqs)[i];
      o.tokens.assign(ti.Data(), ti.Data() + ti.ElementLength());
      o.blocks.assign(bi.Data(), bi.Data() + bi.ElementLength());
      o.n_past = int32_t(num(env, s, "nPast", 0));
      o.all = s.Get("allLogits").ToBoolean().Value();
    }
    struct Out {
      std::vector<float> logits;
      int rows = 0;
      sn_iteration_telemetry tel{};
      std::vector<double> layer_us, stall_us;
    };
    auto out = std::make_shared<Out>();
    const int V = int(st->engine->config().vocab_size);
    auto* job = new Job(
        env, st->ref,
        [st, seqs, out, V](sn_runtime*) {
          std::vector<sn_seq_step> steps;
          for (const Owned& o : *seqs)
            steps.push_back(sn_seq_step{o.tokens.data(), int32_t(o.tokens.size()), o.n_past, o.blocks.data(),
                                        int32_t(o.blocks.size()), o.all ? 1 : 0});
          out->rows = engine::Engine::logit_rows(steps.data(), int(steps.size()));
          out->logits.resize(size_t(out->rows) * size_t(V));
          st->engine->step(steps.data(), int(steps.size()), out->logits.data(), &out->tel);
          out->layer_us.assign(out->tel.layer_compute_us, out->tel.layer_compute_us + out->tel.n_layers);
          out->stall_us.assign(out->tel.layer_stall_us, out->tel.layer_stall_us + out->tel.n_layers);
        },
        [out](Napi::Env e) -> Napi::Value {
          Napi::Float32Array logits = Napi::Float32Array::New(e, out->logits.size());
          std::memcpy(logits.Data(), out->logits.data(), out->logits.size() * sizeof(float));
          Napi::Object r = Napi::Object::New(e);
          r.Set("logits", logits);
          r.Set("rows", out->rows);
          r.Set("telemetry", telemetry_object(e, out->tel, out->layer_us, out->stall_us));
          return r;
        });
    Napi::Promise p = job->promise();
    job->Queue();
    return p;
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    st_.reset();  // the engine is freed when no job holds it any more
    return info.Env().Undefined();
  }

  std::shared_ptr<ModelState> st_;
};

// loadModel(runtime, dir, {blockSize, threads, scratchTokens, hostSet, offloadSet, interval, dtype})
Napi::Value LoadModel(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  RuntimeRef ref;
  if (!unwrap_runtime(info[0], &ref)) throw_arg(env, "loadModel: first argument must be a Runtime");
  if (!info[1].IsString()) throw_arg(env, "loadModel: dir must be a string");
  const std::string dir = info[1].As<Napi::String>().Utf8Value();
  Napi::Object o = info[2].IsObject() ? info[2].As<Napi::Object>() : Napi::Object::New(env);
  engine::EngineOptions eo;
  eo.block_size = int32_t(num(env, o, "blockSize", 16));
  eo.threads = int32_t(num(env, o, "threads", 0));
  eo.scratch_tokens = int32_t(num(env, o, "scratchTokens", 256));
  if (!o.Get("hostSet").IsUndefined()) {
    eo.host_set = u32_list(env, o.Get("hostSet"), "hostSet");
    eo.host_set_given = true;
  }
  eo.offload_set = u32_list(env, o.Get("offloadSet"), "offloadSet");
  eo.interval = uint32_t(num(env, o, "interval", 0));
  if (!o.Get("dtype").IsUndefined()) {
    if (!o.Get("dtype").IsString()) throw_arg(env, "loadModel: dtype must be a string");
    eo.dtype = o.Get("dtype").As<Napi::String>().Utf8Value();
  }
  auto st = std::make_shared<ModelState>();
  st->ref = ref;
  auto* job = new Job(
      env, ref, [st, dir, eo](sn_runtime* rt) { st->engine = engine::Engine::load(dir, rt, eo); },
      [st](Napi::Env e) -> Napi::Value {
        return g_model_ctor->New({Napi::External<std::shared_ptr<ModelState>>::New(
            e, new std::shared_ptr<ModelState>(st),
            [](Napi::Env, std::shared_ptr<ModelState>* p) { delete p; })});
      });
  Napi::Promise p = job->promise();
  job->Queue();
  return p;
}

// sample(logits: Float32Array (one row), params, prompt: Int32Array, output: Int32Array, step)
Napi::Value Sample(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsTypedArray() || info[0].As<Napi::TypedArray>().TypedArrayType() != napi_float32_array)
    throw_arg(env, "sample: logits must be a Float32Array");
  Napi::Float32Array l = info[0].As<Napi::Float32Array>();
  Napi::Object p = info[1].IsObject() ? info[1].As<Napi::Object>() : Napi::Object::New(env);
  auto ints = [&](int i, const char* what) {
    std::vector<int32_t> v;
    if (info[i].IsUndefined()) return v;
    if (!info[i].IsTypedArray() || info[i].As<Napi::TypedArray>().TypedArrayType() != napi_int32_array)
      throw_arg(env, std::string("sample: ") + what + " must be an Int32Array");
    Napi::Int32Array a = info[i].As<Napi::Int32Array>();
    v.assign(a.Data(), a.Data() + a.ElementLength());
    return v;
  };
  const std::vector<int32_t> prompt = ints(2, "prompt"), output = ints(3, "output");
  const double step = info[4].IsNumber() ? info[4].As<Napi::Number>().DoubleValue() : 0;
  engine::SamplingParams sp;
  sp.temperature = float(num(env, p, "temperature", 1));
  sp.top_k = int32_t(num(env, p, "topK", 0));
  sp.top_p = float(num(env, p, "topP", 1));
  sp.min_p = float(num(env, p, "minP", 0));
  sp.repetition_penalty = float(num(env, p, "repetitionPenalty", 1));
  sp.presence_penalty = float(num(env, p, "presencePenalty", 0));
  sp.frequency_penalty = float(num(env, p, "frequencyPenalty", 0));
  sp.seed = uint64_t(num(env, p, "seed", 0));
  sp.top_logprobs = int32_t(num(env, p, "topLogprobs", 0));
  engine::SampleResult r;
  try {
    r = engine::sample_token(l.Data(), int32_t(l.ElementLength()), sp, prompt.data(), int32_t(prompt.size()),
                             output.data(), int32_t(output.size()), uint64_t(step));
  } catch (const engine::EngineError& e) {
    throw_arg(env, e.what());
  }
  Napi::Object o = Napi::Object::New(env);
  o.Set("token", r.token);
  o.Set("logprob", r.logprob);
  Napi::Array top = Napi::Array::New(env, r.top.size());
  for (uint32_t i = 0; i < r.top.size(); ++i) {
    Napi::Object t = Napi::Object::New(env);
    t.Set("token", r.top[i].first);
    t.Set("logprob", r.top[i].second);
    top.Set(i, t);
  }
  o.Set("top", top);
  return o;
}

}  // namespace

void init_engine(Napi::Env env, Napi::Object exports) {
  Napi::Function ctor = Model::Init(env);
  g_model_ctor = new Napi::FunctionReference(Napi::Persistent(ctor));
  exports.Set("Model", ctor);
  exports.Set("loadModel", Napi::Function::New(env, LoadModel));
  exports.Set("sample", Napi::Function::New(env, Sample));
}

}  // namespace sn::binding

#include "config.h"

#include <nlohmann/json.hpp>

#include "errors.h"

namespace sn::engine {

using nlohmann::json;

namespace {

struct Reader {
  const json& j;
  std::string source;

  [[noreturn]] void fail(const std::string& field, const std::string& what) const {
    throw EngineError(source + ": field '" + field + "' " + what);
  }
  bool has(const char* k) const { return j.contains(k) && !j[k].is_null(); }
  int64_t integer(const char* k) const {
    if (!has(k)) fail(k, "is missing");
    if (!j[k].is_number_integer()) fail(k, "must be an integer");
    const int64_t v = j[k].get<int64_t>();
    if (v <= 0) fail(k, "must be positive, got " + std::to_string(v));
    return v;
  }
  int64_t integer_or(const char* k, int64_t dflt) const { return has(k) ? integer(k) : dflt; }
  double number_or(const char* k, double dflt) const {
    if (!has(k)) return dflt;
    if (!j[k].is_number()) fail(k, "must be a number");
    return j[k].get<double>();
  }
  bool boolean_or(const char* k, bool dflt) const {
    if (!has(k)) return dflt;
    if (!j[k].is_boolean()) fail(k, "must be true or false");
    return j[k].get<bool>();
  }
  std::string string_or(const char* k, const std::string& dflt) const {
    if (!has(k)) return dflt;
    if (!j[k].is_string()) fail(k, "must be a string");
    return j[k].get<std::string>();
  }
};

double rope_number(const Reader& r, const json& obj, const char* field, const char* key, double dflt) {
  if (!obj.contains(key) || obj[key].is_null()) return dflt;
  if (!obj[key].is_number()) r.fail(std::string(field) + "." + key, "must be a number");
  return obj[key].get<double>();
}

void parse_rope(const Reader& r, ModelConfig* c) {
  c->rope.theta = r.number_or("rope_theta", 10000.0);
  // transformers >= 5 writes rope_parameters (with rope_theta inside); older files rope_scaling.
  const char* field = r.has("rope_parameters") ? "rope_parameters" : "rope_scaling";
  if (!r.has(field)) return;
  const json& s = r.j[field];
  if (!s.is_object()) r.fail(field, "must be an object");
  c->rope.theta = rope_number(r, s, field, "rope_theta", c->rope.theta);
  std::string type = "default";
  for (const char* k : {"rope_type", "type"}) {
    if (s.contains(k) && s[k].is_string()) {
      type = s[k].get<std::string>();
      break;
    }
  }
  if (type == "default") {
    c->rope.type = RopeType::Default;
  } else if (type == "linear") {
    c->rope.type = RopeType::Linear;
    c->rope.factor = rope_number(r, s, field, "factor", 0);
    if (!(c->rope.factor >= 1.0)) r.fail(std::string(field) + ".factor", "must be >= 1 for linear scaling");
  } else if (type == "llama3") {
    c->rope.type = RopeType::Llama3;
    c->rope.factor = rope_number(r, s, field, "factor", 0);
    c->rope.low_freq_factor = rope_number(r, s, field, "low_freq_factor", 0);
    c->rope.high_freq_factor = rope_number(r, s, field, "high_freq_factor", 0);
    c->rope.original_max_positions = rope_number(r, s, field, "original_max_position_embeddings", 0);
    if (!(c->rope.factor > 0) || !(c->rope.low_freq_factor > 0) ||
        !(c->rope.high_freq_factor > c->rope.low_freq_factor) || !(c->rope.original_max_positions > 0))
      r.fail(field, "llama3 scaling needs factor > 0, 0 < low_freq_factor < high_freq_factor and "
                    "original_max_position_embeddings > 0");
  } else {
    r.fail(std::string(field) + ".rope_type", "'" + type + "' is not supported (default, linear, llama3)");
  }
  if (!(c->rope.theta > 0)) r.fail("rope_theta", "must be positive");
}

void parse_eos(const Reader& r, ModelConfig* c) {
  if (!r.has("eos_token_id")) return;
  const json& e = r.j["eos_token_id"];
  if (e.is_number_integer()) {
    c->eos_token_ids.push_back(e.get<int64_t>());
  } else if (e.is_array()) {
    for (const json& v : e) {
      if (!v.is_number_integer()) r.fail("eos_token_id", "must hold integers");
      c->eos_token_ids.push_back(v.get<int64_t>());
    }
  } else {
    r.fail("eos_token_id", "must be an integer or a list of integers");
  }
}

// Mistral and Phi-3 attend over the last sliding_window positions when it is shorter than the
// context; Qwen2/Qwen3 window only the layers from max_window_layers on (use_sliding_window),
// which the engine does not run. Llama has no window.
void parse_sliding_window(const Reader& r, ModelConfig* c) {
  const bool honoured = c->model_type == "mistral" || c->model_type == "phi3";
  const bool qwen = c->model_type == "qwen2" || c->model_type == "qwen3";
  if (qwen && r.boolean_or("use_sliding_window", false))
    r.fail("use_sliding_window", "true (windows on the layers from max_window_layers on) is not supported");
  if (honoured && r.has("sliding_window")) {
    const int64_t w = r.integer("sliding_window");
    if (w < c->max_positions) c->sliding_window = w;
  }
  if (!r.has("layer_types")) return;
  const json& types = r.j["layer_types"];
  if (!types.is_array()) r.fail("layer_types", "must be a list");
  for (const json& t : types) {
    const std::string v = t.is_string() ? t.get<std::string>() : t.dump();
    const bool full = v == "full_attention";
    if (full && c->sliding_window == 0) continue;
    if (v == "sliding_attention" && c->sliding_window > 0) continue;
    r.fail("layer_types", "entry '" + v + "' is not supported (" +
                              (c->sliding_window > 0 ? "every layer must be sliding_attention"
                                                     : "every layer must be full_attention") + ")");
  }
}

// Phi-3 (and Phi-4-mini) rotate only the first partial_rotary_factor of each head.
void parse_rotary_dim(const Reader& r, ModelConfig* c) {
  double factor = r.number_or("partial_rotary_factor", 1.0);
  if (r.has("rope_parameters") && r.j["rope_parameters"].is_object())
    factor = rope_number(r, r.j["rope_parameters"], "rope_parameters", "partial_rotary_factor", factor);
  if (!(factor > 0 && factor <= 1)) r.fail("partial_rotary_factor", "must be in (0, 1], got " + std::to_string(factor));
  c->rotary_dim = int64_t(double(c->head_dim) * factor);
  if (c->rotary_dim < 2 || c->rotary_dim % 2 != 0)
    r.fail("partial_rotary_factor", std::to_string(factor) + " gives an odd or empty rotary width " +
                                        std::to_string(c->rotary_dim) + " of head_dim " + std::to_string(c->head_dim));
}

// Settings no family runs: quantized weights and mixture-of-experts layers.
void refuse_unsupported(const Reader& r) {
  if (r.has("quantization_config")) {
    const json& q = r.j["quantization_config"];
    const std::string what = q.is_object() && q.contains("quant_method") ? "quant_method " + q["quant_method"].dump()
                                                                        : q.dump().substr(0, 60);
    r.fail("quantization_config", "(" + what + "): quantized weights are not supported");
  }
  for (const char* k : {"num_local_experts", "num_experts", "n_routed_experts"}) {
    if (r.has(k) && r.j[k].is_number() && r.j[k].get<double>() > 0)
      r.fail(k, "= " + r.j[k].dump() + ": mixture-of-experts layers are not supported");
  }
}

void parse_llama(const Reader& r, ModelConfig* c) {
  c->arch = Arch::Llama;
  c->hidden_size = r.integer("hidden_size");
  c->n_layers = r.integer("num_hidden_layers");
  c->n_heads = r.integer("num_attention_heads");
  c->n_kv_heads = r.integer_or("num_key_value_heads", c->n_heads);
  c->ffn_size = r.integer("intermediate_size");
  c->max_positions = r.integer_or("max_position_embeddings", 2048);
  c->norm_eps = r.number_or("rms_norm_eps", 1e-6);
  c->head_dim = r.integer_or("head_dim", 0);
  if (c->head_dim == 0) {
    if (c->hidden_size % c->n_heads != 0)
      r.fail("hidden_size", "is not divisible by num_attention_heads");
    c->head_dim = c->hidden_size / c->n_heads;
  }
  if (c->head_dim % 2 != 0) r.fail("head_dim", "must be even for RoPE");
  if (c->n_heads % c->n_kv_heads != 0)
    r.fail("num_key_value_heads", "must divide num_attention_heads");
  const std::string act = r.string_or("hidden_act", "silu");
  if (act != "silu" && act != "swish") r.fail("hidden_act", "'" + act + "' is not supported (silu)");
  const bool attn_bias = r.boolean_or("attention_bias", false);
  c->qkv_bias = attn_bias || c->model_type == "qwen2";
  c->o_bias = attn_bias;
  c->mlp_bias = r.boolean_or("mlp_bias", false);
  c->qk_norm = c->model_type == "qwen3";
  c->fused_projections = c->model_type == "phi3";
  if (c->fused_projections && (attn_bias || c->mlp_bias))
    r.fail(attn_bias ? "attention_bias" : "mlp_bias", "true is not supported for phi3 (fused projections)");
  c->tie_word_embeddings = r.boolean_or("tie_word_embeddings", false);
  parse_sliding_window(r, c);
  if (r.integer_or("pretraining_tp", 1) != 1) r.fail("pretraining_tp", "must be 1");
  parse_rope(r, c);
  parse_rotary_dim(r, c);
}

void parse_opt(const Reader& r, ModelConfig* c) {
  c->arch = Arch::Opt;
  c->hidden_size = r.integer("hidden_size");
  c->n_layers = r.integer("num_hidden_layers");
  c->n_heads = r.integer("num_attention_heads");
  c->n_kv_heads = c->n_heads;
  c->ffn_size = r.integer("ffn_dim");
  c->max_positions = r.integer("max_position_embeddings");
  c->norm_eps = 1e-5;
  if (c->hidden_size % c->n_heads != 0) r.fail("hidden_size", "is not divisible by num_attention_heads");
  c->head_dim = c->hidden_size / c->n_heads;
  c->norm_before = r.boolean_or("do_layer_norm_before", true);
  c->position_offset = 2;
  c->tie_word_embeddings = r.boolean_or("tie_word_embeddings", true);
  if (r.integer_or("word_embed_proj_dim", c->hidden_size) != c->hidden_size)
    r.fail("word_embed_proj_dim", "!= hidden_size (project_in/out) is not supported");
  if (!r.boolean_or("enable_bias", true)) r.fail("enable_bias", "false is not supported");
  if (!r.boolean_or("layer_norm_elementwise_affine", true))
    r.fail("layer_norm_elementwise_affine", "false is not supported");
  const std::string act = r.string_or("activation_function", "relu");
  if (act != "relu") r.fail("activation_function", "'" + act + "' is not supported (relu)");
  if (r.boolean_or("_remove_final_layer_norm", false))
    r.fail("_remove_final_layer_norm", "true is not supported");
}

}  // namespace

ModelConfig parse_model_config(const std::string& text, const std::string& source) {
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) throw EngineError(source + ": not valid JSON");
  if (!j.is_object()) throw EngineError(source + ": not a JSON object");
  Reader r{j, source};
  ModelConfig c;
  c.model_type = r.string_or("model_type", "");
  if (c.model_type == "llama" || c.model_type == "mistral" || c.model_type == "qwen2" || c.model_type == "qwen3" ||
      c.model_type == "phi3") {
    refuse_unsupported(r);
    parse_llama(r, &c);
  } else if (c.model_type == "opt") {
    refuse_unsupported(r);
    parse_opt(r, &c);
  } else {
    r.fail("model_type", "'" + c.model_type + "' is not supported (llama, mistral, qwen2, qwen3, phi3, opt)");
  }
  c.vocab_size = r.integer("vocab_size");
  c.dtype = r.string_or("dtype", r.string_or("torch_dtype", ""));
  if (r.has("bos_token_id") && j["bos_token_id"].is_number_integer()) c.bos_token_id = j["bos_token_id"].get<int64_t>();
  parse_eos(r, &c);
  if (c.hidden_size > (1 << 16) || c.ffn_size > (1 << 18) || c.n_layers > 1024 || c.vocab_size > (1 << 22) ||
      c.n_heads > 1024 || c.max_positions > (1 << 24))
    throw EngineError(source + ": dimensions out of the supported range");
  return c;
}

}  // namespace sn::engine

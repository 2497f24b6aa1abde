#include "layout.h"

#include <cassert>
#include <cstring>

#include "errors.h"

namespace sn::engine {

std::string layer_tensor_name(const std::string& pattern, int64_t layer) {
  std::string s = pattern;
  const size_t p = s.find("{i}");
  assert(p != std::string::npos);
  return s.replace(p, 3, std::to_string(layer));
}

std::vector<ParamSpec> layer_param_specs(const ModelConfig& c) {
  const int64_t D = c.hidden_size, F = c.ffn_size;
  const int64_t q = c.n_heads * c.head_dim, kv = c.n_kv_heads * c.head_dim;
  std::vector<ParamSpec> s;
  if (c.arch == Arch::Llama) {
    const std::string p = "model.layers.{i}.";
    s.push_back({kAttnNorm, p + "input_layernorm.weight", {D}});
    if (c.fused_projections) {
      s.push_back({kWqkv, p + "self_attn.qkv_proj.weight", {q + 2 * kv, D}});
    } else {
      s.push_back({kWq, p + "self_attn.q_proj.weight", {q, D}});
      s.push_back({kWk, p + "self_attn.k_proj.weight", {kv, D}});
      s.push_back({kWv, p + "self_attn.v_proj.weight", {kv, D}});
    }
    if (c.qk_norm) {
      s.push_back({kQNorm, p + "self_attn.q_norm.weight", {c.head_dim}});
      s.push_back({kKNorm, p + "self_attn.k_norm.weight", {c.head_dim}});
    }
    s.push_back({kWo, p + "self_attn.o_proj.weight", {D, q}});
    if (c.qkv_bias) {
      s.push_back({kBq, p + "self_attn.q_proj.bias", {q}});
      s.push_back({kBk, p + "self_attn.k_proj.bias", {kv}});
      s.push_back({kBv, p + "self_attn.v_proj.bias", {kv}});
    }
    if (c.o_bias) s.push_back({kBo, p + "self_attn.o_proj.bias", {D}});
    s.push_back({kMlpNorm, p + "post_attention_layernorm.weight", {D}});
    if (c.fused_projections) {
      s.push_back({kWgateUp, p + "mlp.gate_up_proj.weight", {2 * F, D}});
    } else {
      s.push_back({kWgate, p + "mlp.gate_proj.weight", {F, D}});
      s.push_back({kWup, p + "mlp.up_proj.weight", {F, D}});
    }
    s.push_back({kWdown, p + "mlp.down_proj.weight", {D, F}});
    if (c.mlp_bias) {
      s.push_back({kBgate, p + "mlp.gate_proj.bias", {F}});
      s.push_back({kBup, p + "mlp.up_proj.bias", {F}});
      s.push_back({kBdown, p + "mlp.down_proj.bias", {D}});
    }
  } else {
    const std::string p = "model.decoder.layers.{i}.";
    s.push_back({kAttnNorm, p + "self_attn_layer_norm.weight", {D}});
    s.push_back({kAttnNormBias, p + "self_attn_layer_norm.bias", {D}});
    s.push_back({kWq, p + "self_attn.q_proj.weight", {D, D}});
    s.push_back({kBq, p + "self_attn.q_proj.bias", {D}});
    s.push_back({kWk, p + "self_attn.k_proj.weight", {D, D}});
    s.push_back({kBk, p + "self_attn.k_proj.bias", {D}});
    s.push_back({kWv, p + "self_attn.v_proj.weight", {D, D}});
    s.push_back({kBv, p + "self_attn.v_proj.bias", {D}});
    s.push_back({kWo, p + "self_attn.out_proj.weight", {D, D}});
    s.push_back({kBo, p + "self_attn.out_proj.bias", {D}});
    s.push_back({kMlpNorm, p + "final_layer_norm.weight", {D}});
    s.push_back({kMlpNormBias, p + "final_layer_norm.bias", {D}});
    s.push_back({kWup, p + "fc1.weight", {F, D}});
    s.push_back({kBup, p + "fc1.bias", {F}});
    s.push_back({kWdown, p + "fc2.weight", {D, F}});
    s.push_back({kBdown, p + "fc2.bias", {D}});
  }
  return s;
}

std::vector<ParamSpec> global_param_specs(const ModelConfig& c) {
  const int64_t D = c.hidden_size, V = c.vocab_size;
  std::vector<ParamSpec> s;
  if (c.arch == Arch::Llama) {
    s.push_back({kEmbed, "model.embed_tokens.weight", {V, D}});
    s.push_back({kFinalNorm, "model.norm.weight", {D}});
  } else {
    s.push_back({kEmbed, "model.decoder.embed_tokens.weight", {V, D}});
    s.push_back({kPosEmbed, "model.decoder.embed_positions.weight", {c.max_positions + c.position_offset, D}});
    if (c.norm_before) {  // post-LN OPT (opt-350m) has no final LayerNorm
      s.push_back({kFinalNorm, "model.decoder.final_layer_norm.weight", {D}});
      s.push_back({kFinalNormBias, "model.decoder.final_layer_norm.bias", {D}});
    }
  }
  if (!c.tie_word_embeddings) s.push_back({kLmHead, "lm_head.weight", {V, D}});
  return s;
}

namespace {

// A fused weight [a; b; ...] is its parts stacked by rows, so each part is a contiguous [out, in]
// matrix inside it: the separate projections point into the fused tensor, nothing is copied.
void alias_fused(const ModelConfig& c, LayerLayout* l) {
  const int64_t D = c.hidden_size, F = c.ffn_size;
  const int64_t q = c.n_heads * c.head_dim, kv = c.n_kv_heads * c.head_dim;
  if (l->offset[kWqkv] >= 0) {
    l->offset[kWq] = l->offset[kWqkv];
    l->offset[kWk] = l->offset[kWqkv] + q * D;
    l->offset[kWv] = l->offset[kWqkv] + (q + kv) * D;
  }
  if (l->offset[kWgateUp] >= 0) {
    l->offset[kWgate] = l->offset[kWgateUp];
    l->offset[kWup] = l->offset[kWgateUp] + F * D;
  }
}

}  // namespace

LayerLayout make_layer_layout(const ModelConfig& c, DType dtype) {
  LayerLayout l;
  l.dtype = dtype;
  for (int64_t& o : l.offset) o = -1;
  // Tensors back to back, no padding: the blob is exactly the layer's parameters times the
  // element size, the figure the planner computes from config.json alone (decoderLayerBytes).
  // Real models' shapes keep every tensor 64-byte aligned anyway.
  uint64_t at = 0;
  for (const ParamSpec& p : layer_param_specs(c)) {
    uint64_t n = 1;
    for (int64_t d : p.shape) n *= uint64_t(d);
    l.offset[p.id] = int64_t(at);
    at += n;
  }
  l.elements = at;
  alias_fused(c, &l);
  return l;
}

DType validate_checkpoint(const Checkpoint& ck) {
  const ModelConfig& c = ck.config();
  std::string first;
  DType dtype = DType::F32;
  auto check = [&](const std::string& name, const std::vector<int64_t>& shape) {
    const TensorRef& t = ck.require(name, shape);
    if (first.empty()) {
      first = name;
      dtype = t.info->dtype;
    } else if (t.info->dtype != dtype) {
      throw EngineError("tensor '" + name + "' in " + t.file->path() + ": dtype " + dtype_name(t.info->dtype) +
                        " differs from '" + first + "' (" + dtype_name(dtype) +
                        "); checkpoints mixing weight dtypes are not supported");
    }
  };
  for (const ParamSpec& p : global_param_specs(c)) check(p.name, p.shape);
  for (int64_t i = 0; i < c.n_layers; ++i)
    for (const ParamSpec& p : layer_param_specs(c)) check(layer_tensor_name(p.name, i), p.shape);
  // A layer beyond num_hidden_layers means config and weights disagree.
  const std::string extra = layer_tensor_name(layer_param_specs(c)[0].name, c.n_layers);
  if (ck.find(extra))
    throw EngineError("tensor '" + extra + "' exists but config.json has num_hidden_layers=" +
                      std::to_string(c.n_layers));
  return dtype;
}

void fill_layer_blob(const Checkpoint& ck, const LayerLayout& layout, int64_t layer, void* blob) {
  std::memset(blob, 0, layout.bytes());
  auto* base = static_cast<unsigned char*>(blob);
  for (const ParamSpec& p : layer_param_specs(ck.config())) {
    const TensorRef& t = ck.require(layer_tensor_name(p.name, layer), p.shape);
    Checkpoint::read_as(t, layout.dtype, base + uint64_t(layout.offset[p.id]) * dtype_size(layout.dtype));
  }
}

}  // namespace sn::engine

// Model configuration from a Hugging Face config.json: the fields the engine needs, normalised
// across Llama / Mistral / Qwen2 / Qwen3 / Phi-3 (Llama-shaped) and OPT, with rope scaling resolved.
#ifndef SELECTN_ENGINE_CONFIG_H
#define SELECTN_ENGINE_CONFIG_H

#include <cstdint>
#include <string>
#include <vector>

namespace sn::engine {

enum class Arch { Llama, Opt };
enum class RopeType { Default, Linear, Llama3 };

struct RopeConfig {
  RopeType type = RopeType::Default;
  double theta = 10000.0;
  double factor = 1.0;             // linear and llama3
  double low_freq_factor = 1.0;    // llama3
  double high_freq_factor = 4.0;   // llama3
  double original_max_positions = 8192;  // llama3
};

struct ModelConfig {
  Arch arch = Arch::Llama;
  std::string model_type;  // as written: llama, mistral, qwen2, qwen3, phi3, opt
  int64_t vocab_size = 0;
  int64_t hidden_size = 0;   // D
  int64_t n_layers = 0;      // L
  int64_t n_heads = 0;       // Hq
  int64_t n_kv_heads = 0;    // Hkv (== Hq for OPT)
  int64_t head_dim = 0;      // hd
  int64_t ffn_size = 0;      // intermediate_size (Llama) or ffn_dim (OPT)
  int64_t max_positions = 0;
  double norm_eps = 1e-5;
  bool tie_word_embeddings = false;
  // Llama family
  RopeConfig rope;
  bool qkv_bias = false;  // attention_bias (Llama) or always (Qwen2)
  bool o_bias = false;    // attention_bias (Llama)
  bool mlp_bias = false;
  bool qk_norm = false;          // per-head RMSNorm of q and k before RoPE (Qwen3)
  bool fused_projections = false;  // qkv_proj and gate_up_proj (Phi-3)
  int64_t rotary_dim = 0;        // leading dims of each head RoPE rotates (partial_rotary_factor)
  int64_t sliding_window = 0;    // positions a query attends to at most; 0 = all (Mistral, Phi-3)
  // OPT
  bool norm_before = true;        // do_layer_norm_before
  int64_t position_offset = 0;    // 2 for OPT's learned positions
  std::vector<int64_t> eos_token_ids;
  int64_t bos_token_id = -1;
  std::string dtype;  // "float32" | "float16" | "bfloat16" | "" (from dtype / torch_dtype)
};

// Parses config.json text; `source` names the file in errors. Throws EngineError naming the field
// for missing, mistyped, inconsistent or unsupported settings.
ModelConfig parse_model_config(const std::string& text, const std::string& source);

}  // namespace sn::engine

#endif  // SELECTN_ENGINE_CONFIG_H

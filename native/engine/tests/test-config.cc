#include <gtest/gtest.h>

#include "config.h"
#include "errors.h"
#include "rope-freqs.h"

namespace sn::engine {
namespace {

std::string err(const std::string& json) {
  try {
    parse_model_config(json, "config.json");
  } catch (const EngineError& e) {
    return e.what();
  }
  return "";
}

const char* kLlama = R"({"model_type":"llama","hidden_size":64,"num_hidden_layers":2,"num_attention_heads":4,
  "num_key_value_heads":2,"intermediate_size":128,"vocab_size":100,"rope_theta":500000.0,
  "rope_scaling":{"rope_type":"llama3","factor":8.0,"low_freq_factor":1.0,"high_freq_factor":4.0,
  "original_max_position_embeddings":8192},"eos_token_id":[5,7]})";

TEST(Config, ParsesLlama3WithOldStyleRopeScaling) {
  const ModelConfig c = parse_model_config(kLlama, "config.json");
  EXPECT_EQ(c.arch, Arch::Llama);
  EXPECT_EQ(c.head_dim, 16);
  EXPECT_EQ(c.n_kv_heads, 2);
  EXPECT_EQ(c.rope.type, RopeType::Llama3);
  EXPECT_DOUBLE_EQ(c.rope.theta, 500000.0);
  EXPECT_EQ(c.eos_token_ids, (std::vector<int64_t>{5, 7}));
  EXPECT_FALSE(c.tie_word_embeddings);
}

TEST(Config, Qwen2ImpliesQkvBias) {
  const ModelConfig c = parse_model_config(R"({"model_type":"qwen2","hidden_size":32,"num_hidden_layers":1,
    "num_attention_heads":2,"intermediate_size":64,"vocab_size":10,"tie_word_embeddings":true})", "c");
  EXPECT_TRUE(c.qkv_bias);
  EXPECT_FALSE(c.o_bias);
  EXPECT_TRUE(c.tie_word_embeddings);
}

TEST(Config, NamesTheBadField) {
  EXPECT_NE(err(R"({"model_type":"gpt2"})").find("'model_type'"), std::string::npos);
  EXPECT_NE(err(R"({"model_type":"llama","hidden_size":64})").find("'num_hidden_layers' is missing"), std::string::npos);
  EXPECT_NE(err(R"({"model_type":"llama","hidden_size":"x"})").find("'hidden_size' must be an integer"), std::string::npos);
  std::string bad = kLlama;
  bad.replace(bad.find("llama3"), 6, "yarn");
  EXPECT_NE(err(bad).find("rope_type"), std::string::npos) << err(bad);
  EXPECT_NE(err(R"({"model_type":"opt","hidden_size":64,"num_hidden_layers":1,"num_attention_heads":4,
    "ffn_dim":8,"max_position_embeddings":8,"vocab_size":10,"word_embed_proj_dim":32})").find("word_embed_proj_dim"),
            std::string::npos);
  EXPECT_NE(err("nope").find("not valid JSON"), std::string::npos);
}

TEST(Config, Qwen3HasPerHeadQkNormAndExplicitHeadDim) {
  const ModelConfig c = parse_model_config(R"({"model_type":"qwen3","hidden_size":64,"num_hidden_layers":1,
    "num_attention_heads":4,"num_key_value_heads":2,"head_dim":32,"intermediate_size":64,"vocab_size":10,
    "use_sliding_window":false,"sliding_window":null,"layer_types":["full_attention"]})", "c");
  EXPECT_TRUE(c.qk_norm);
  EXPECT_FALSE(c.qkv_bias);
  EXPECT_EQ(c.head_dim, 32);
  EXPECT_EQ(c.rotary_dim, 32);
  EXPECT_EQ(c.sliding_window, 0);
}

TEST(Config, MistralAndPhi3HonourTheSlidingWindow) {
  const ModelConfig m = parse_model_config(R"({"model_type":"mistral","hidden_size":64,"num_hidden_layers":1,
    "num_attention_heads":4,"intermediate_size":64,"vocab_size":10,"max_position_embeddings":32768,
    "sliding_window":4096})", "c");
  EXPECT_EQ(m.sliding_window, 4096);
  // A window no shorter than the context is no window.
  const ModelConfig wide = parse_model_config(R"({"model_type":"mistral","hidden_size":64,"num_hidden_layers":1,
    "num_attention_heads":4,"intermediate_size":64,"vocab_size":10,"max_position_embeddings":4096,
    "sliding_window":4096})", "c");
  EXPECT_EQ(wide.sliding_window, 0);
  const ModelConfig p = parse_model_config(R"({"model_type":"phi3","hidden_size":64,"num_hidden_layers":1,
    "num_attention_heads":4,"intermediate_size":64,"vocab_size":10,"max_position_embeddings":4096,
    "sliding_window":2047,"rope_parameters":{"rope_type":"default","rope_theta":10000.0,
    "partial_rotary_factor":0.5}})", "c");
  EXPECT_EQ(p.sliding_window, 2047);
  EXPECT_TRUE(p.fused_projections);
  EXPECT_EQ(p.rotary_dim, 8);
}

TEST(Config, RefusesWhatNoFamilyRunsNamingFieldAndValue) {
  const std::string head = R"({"model_type":"qwen2","hidden_size":32,"num_hidden_layers":1,
    "num_attention_heads":2,"intermediate_size":64,"vocab_size":10,)";
  auto refusal = [&](const std::string& tail) { return err(head + tail + "}"); };
  EXPECT_NE(refusal(R"("quantization_config":{"quant_method":"gptq","bits":4})")
                .find("'quantization_config' (quant_method \"gptq\")"), std::string::npos);
  EXPECT_NE(refusal(R"("num_experts":64)").find("'num_experts' = 64"), std::string::npos);
  EXPECT_NE(refusal(R"("num_local_experts":8)").find("'num_local_experts' = 8"), std::string::npos);
  EXPECT_NE(refusal(R"("use_sliding_window":true,"sliding_window":4096)").find("'use_sliding_window' true"),
            std::string::npos);
  EXPECT_NE(refusal(R"("layer_types":["sliding_attention"])").find("'layer_types' entry 'sliding_attention'"),
            std::string::npos);
  EXPECT_NE(refusal(R"("rope_scaling":{"type":"yarn","factor":4.0})").find("'yarn' is not supported"),
            std::string::npos);
  const std::string phi = R"({"model_type":"phi3","hidden_size":64,"num_hidden_layers":1,
    "num_attention_heads":4,"intermediate_size":64,"vocab_size":10,)";
  EXPECT_NE(err(phi + R"("rope_scaling":{"type":"longrope","short_factor":[1],"long_factor":[1]}})")
                .find("'rope_scaling.rope_type' 'longrope' is not supported"),
            std::string::npos)
      << err(phi + R"("rope_scaling":{"type":"longrope"}})");
  EXPECT_NE(err(phi + R"("partial_rotary_factor":0.1})").find("'partial_rotary_factor'"), std::string::npos);
  for (const std::string& e : {refusal(R"("num_experts":64)"), refusal(R"("use_sliding_window":true)")})
    EXPECT_EQ(e.find('\n'), std::string::npos) << e;
}

TEST(RopeFreqs, Llama3ScalingKeepsHighAndScalesLowFrequencies) {
  RopeConfig r;
  r.theta = 10000;
  r.type = RopeType::Llama3;
  r.factor = 8;
  r.low_freq_factor = 1;
  r.high_freq_factor = 4;
  r.original_max_positions = 64;
  const auto f = rope_inv_freq(r, 16);
  RopeConfig plain;
  const auto g = rope_inv_freq(plain, 16);
  EXPECT_FLOAT_EQ(f[0], g[0]);          // wavelength 2*pi < 16: unchanged
  EXPECT_FLOAT_EQ(f[7], g[7] / 8.0f);   // wavelength ~ 2*pi*3162 > 64: divided by factor
  EXPECT_GT(f[1], g[1] / 8.0f);         // medium band (wavelength ~20): interpolated
  EXPECT_LT(f[1], g[1]);
  RopeConfig lin;
  lin.type = RopeType::Linear;
  lin.factor = 2;
  EXPECT_FLOAT_EQ(rope_inv_freq(lin, 16)[5], g[5] / 2.0f);
}

}  // namespace
}  // namespace sn::engine

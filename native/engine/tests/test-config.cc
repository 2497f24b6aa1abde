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

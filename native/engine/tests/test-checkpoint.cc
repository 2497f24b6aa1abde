// Loading fixture folders, and clear errors for corrupt, truncated or mismatched checkpoints.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "checkpoint.h"
#include "errors.h"
#include "golden.h"
#include "layout.h"

namespace sn::engine {
namespace {

std::string slurp(const std::string& p) {
  std::ifstream f(p, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}
void spit(const std::string& p, const std::string& s) { std::ofstream(p, std::ios::binary) << s; }

// A scratch copy of a fixture folder the test may damage.
std::string copy_fixture(const std::string& name) {
  char tmpl[] = "/tmp/selectn-engine-test-XXXXXX";
  const std::string dir = mkdtemp(tmpl);
  for (const char* f : {"config.json", "model.safetensors"}) spit(dir + "/" + f, slurp(test::fixture(name) + "/" + f));
  return dir;
}

std::string load_error(const std::string& dir) {
  try {
    auto ck = Checkpoint::open(dir);
    validate_checkpoint(*ck);
  } catch (const EngineError& e) {
    return e.what();
  }
  return "";
}

TEST(Checkpoint, OpensSingleAndShardedFolders) {
  auto a = Checkpoint::open(test::fixture("tiny-llama"));
  validate_checkpoint(*a);
  EXPECT_EQ(a->config().n_layers, 4);
  auto b = Checkpoint::open(test::fixture("tiny-llama-tied-bf16"));
  validate_checkpoint(*b);
  EXPECT_TRUE(b->config().tie_word_embeddings);
  EXPECT_EQ(b->find("model.layers.0.mlp.up_proj.weight")->info->dtype, DType::BF16);
  auto c = Checkpoint::open(test::fixture("tiny-opt"));
  validate_checkpoint(*c);
  EXPECT_EQ(c->config().arch, Arch::Opt);
}

TEST(Checkpoint, TruncatedFileNamesTheTensor) {
  const std::string dir = copy_fixture("tiny-llama");
  std::string w = slurp(dir + "/model.safetensors");
  spit(dir + "/model.safetensors", w.substr(0, w.size() - 100));
  const std::string e = load_error(dir);
  EXPECT_NE(e.find("tensor '"), std::string::npos) << e;
  EXPECT_NE(e.find("truncated"), std::string::npos) << e;
}

TEST(Checkpoint, ConfigMismatchNamesTheTensorAndShapes) {
  const std::string dir = copy_fixture("tiny-llama");
  std::string cfg = slurp(dir + "/config.json");
  cfg.replace(cfg.find("\"intermediate_size\": 160"), 24, "\"intermediate_size\": 128");
  spit(dir + "/config.json", cfg);
  const std::string e = load_error(dir);
  EXPECT_NE(e.find("mlp.gate_proj.weight"), std::string::npos) << e;
  EXPECT_NE(e.find("expected [128, 64]"), std::string::npos) << e;
}

TEST(Checkpoint, MissingLayerAndExtraLayerAreErrors) {
  const std::string dir = copy_fixture("tiny-llama");
  std::string cfg = slurp(dir + "/config.json");
  const std::string orig = cfg;
  cfg.replace(cfg.find("\"num_hidden_layers\": 4"), 22, "\"num_hidden_layers\": 5");
  spit(dir + "/config.json", cfg);
  EXPECT_NE(load_error(dir).find("model.layers.4."), std::string::npos) << load_error(dir);
  cfg = orig;
  cfg.replace(cfg.find("\"num_hidden_layers\": 4"), 22, "\"num_hidden_layers\": 3");
  spit(dir + "/config.json", cfg);
  EXPECT_NE(load_error(dir).find("num_hidden_layers=3"), std::string::npos) << load_error(dir);
}

TEST(Checkpoint, CorruptHeaderJson) {
  const std::string dir = copy_fixture("tiny-opt");
  std::string w = slurp(dir + "/model.safetensors");
  w[8] = '#';  // the header's opening brace
  spit(dir + "/model.safetensors", w);
  EXPECT_NE(load_error(dir).find("not valid JSON"), std::string::npos) << load_error(dir);
}

TEST(Checkpoint, LayerBlobHoldsTheConvertedWeights) {
  auto ck = Checkpoint::open(test::fixture("tiny-opt"));
  const LayerLayout l = make_layer_layout(ck->config());
  std::vector<float> blob(l.floats);
  fill_layer_blob(*ck, l, 2, blob.data());
  const TensorRef* t = ck->find("model.decoder.layers.2.fc1.bias");
  std::vector<float> bias(t->info->numel());
  Checkpoint::read_f32(*t, bias.data());
  for (size_t i = 0; i < bias.size(); ++i) EXPECT_EQ(blob[size_t(l.offset[kBup]) + i], bias[i]);
  for (int p = 0; p < kLayerParamCount; ++p) EXPECT_EQ(l.offset[p] % 16, (l.offset[p] < 0 ? l.offset[p] % 16 : 0));
}

}  // namespace
}  // namespace sn::engine

// Loading fixture folders, and clear errors for corrupt, truncated or mismatched checkpoints.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "checkpoint.h"
#include "engine.h"
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
  const LayerLayout l = make_layer_layout(ck->config(), DType::F32);
  std::vector<float> blob(l.elements);
  fill_layer_blob(*ck, l, 2, blob.data());
  const TensorRef* t = ck->find("model.decoder.layers.2.fc1.bias");
  std::vector<float> bias(t->info->numel());
  Checkpoint::read_f32(*t, bias.data());
  for (size_t i = 0; i < bias.size(); ++i) EXPECT_EQ(blob[size_t(l.offset[kBup]) + i], bias[i]);
}

// A bf16 blob is half the bytes and holds the weights rounded to bf16.
TEST(Checkpoint, Bf16LayerBlobHalvesTheBytes) {
  auto ck = Checkpoint::open(test::fixture("tiny-opt"));
  const LayerLayout f = make_layer_layout(ck->config(), DType::F32);
  const LayerLayout h = make_layer_layout(ck->config(), DType::BF16);
  EXPECT_EQ(h.bytes() * 2, f.bytes());
  std::vector<uint16_t> blob(h.elements);
  fill_layer_blob(*ck, h, 1, blob.data());
  const TensorRef* t = ck->find("model.decoder.layers.1.fc1.bias");
  std::vector<float> bias(t->info->numel());
  Checkpoint::read_f32(*t, bias.data());
  for (size_t i = 0; i < bias.size(); ++i) EXPECT_EQ(blob[size_t(h.offset[kBup]) + i], f32_to_bf16(bias[i]));
}

// Rewrites <dir>/model.safetensors (an fp32 file) with tensor `name` stored as `dtype` ("F16":
// converted; "F8_E4M3": one byte per element, contents irrelevant to a load that must refuse it).
void retype_tensor(const std::string& dir, const std::string& name, const std::string& dtype) {
  const std::string file = slurp(dir + "/model.safetensors");
  uint64_t n = 0;
  std::memcpy(&n, file.data(), 8);
  nlohmann::json h = nlohmann::json::parse(file.substr(8, n));
  const std::string data = file.substr(8 + n);
  std::string out;
  for (auto& kv : h.items()) {
    if (kv.key() == "__metadata__") continue;
    auto& t = kv.value();
    const uint64_t b = t["data_offsets"][0], e = t["data_offsets"][1];
    std::string bytes = data.substr(b, e - b);
    if (kv.key() == name) {
      const size_t count = bytes.size() / 4;
      std::string conv(count * (dtype == "F16" ? 2 : 1), '\0');
      if (dtype == "F16") convert_from_f32(DType::F16, reinterpret_cast<const float*>(bytes.data()), count, &conv[0]);
      bytes = conv;
      t["dtype"] = dtype;
    }
    t["data_offsets"] = {out.size(), out.size() + bytes.size()};
    out += bytes;
  }
  const std::string header = h.dump();
  std::string len(8, '\0');
  const uint64_t hl = header.size();
  std::memcpy(&len[0], &hl, 8);
  spit(dir + "/model.safetensors", len + header + out);
}

TEST(Checkpoint, RefusesFp8AndMixedDtypesNamingTheTensor) {
  const std::string t = "model.layers.1.mlp.up_proj.weight";
  std::string dir = copy_fixture("tiny-llama");
  retype_tensor(dir, t, "F8_E4M3");
  std::string e = load_error(dir);
  EXPECT_NE(e.find("'" + t + "'"), std::string::npos) << e;
  EXPECT_NE(e.find("F8_E4M3"), std::string::npos) << e;
  dir = copy_fixture("tiny-llama");
  retype_tensor(dir, t, "F16");
  e = load_error(dir);
  EXPECT_NE(e.find("'" + t + "'"), std::string::npos) << e;
  EXPECT_NE(e.find("dtype F16 differs"), std::string::npos) << e;
  EXPECT_EQ(e.find('\n'), std::string::npos) << e;
}

// A refused checkpoint leaves nothing on the runtime: the same runtime then loads a good one.
TEST(Checkpoint, RefusedLoadLeavesTheRuntimeEmpty) {
  const std::string dir = copy_fixture("tiny-llama");
  retype_tensor(dir, "model.layers.3.self_attn.o_proj.weight", "F8_E4M3");
  test::RuntimePtr rt = test::make_cpu_runtime();
  EngineOptions o;
  EXPECT_THROW(Engine::load(dir, rt.get(), o), EngineError);
  sn_pool_stats st{};
  ASSERT_EQ(sn_pool_stats_get(rt.get(), &st), SN_OK);
  EXPECT_EQ(st.used_bytes, 0u);
  EXPECT_EQ(st.host_used_bytes, 0u);
  auto e = Engine::load(test::fixture("tiny-llama"), rt.get(), o);
  EXPECT_EQ(e->layer_layout().dtype, DType::F32);
  o.dtype = "fp8";
  auto rt2 = test::make_cpu_runtime();
  try {
    Engine::load(test::fixture("tiny-llama"), rt2.get(), o);
    ADD_FAILURE() << "expected a refusal";
  } catch (const EngineError& err) {
    EXPECT_NE(std::string(err.what()).find("dtype 'fp8'"), std::string::npos) << err.what();
  }
}

// --dtype stores the weights in the requested width: bf16 halves the layer bytes.
TEST(Checkpoint, RequestedDtypeSetsTheStoredLayerBytes) {
  test::RuntimePtr a = test::make_cpu_runtime(), b = test::make_cpu_runtime();
  EngineOptions o;
  auto f32 = Engine::load(test::fixture("tiny-llama"), a.get(), o);
  o.dtype = "bfloat16";
  auto bf = Engine::load(test::fixture("tiny-llama"), b.get(), o);
  EXPECT_EQ(bf->layer_layout().dtype, DType::BF16);
  EXPECT_EQ(bf->layer_layout().bytes() * 2, f32->layer_layout().bytes());
}

}  // namespace
}  // namespace sn::engine

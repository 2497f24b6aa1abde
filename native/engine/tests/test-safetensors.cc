#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "errors.h"
#include "safetensors.h"

namespace sn::engine {
namespace {

std::vector<uint8_t> file_of(const std::string& header, size_t data_bytes) {
  std::vector<uint8_t> f(8 + header.size() + data_bytes, 0);
  uint64_t n = header.size();
  for (int i = 0; i < 8; ++i) f[size_t(i)] = uint8_t(n >> (8 * i));
  std::memcpy(f.data() + 8, header.data(), header.size());
  return f;
}

std::string error_of(const std::vector<uint8_t>& f) {
  try {
    parse_safetensors(f.data(), f.size(), "t.safetensors");
  } catch (const EngineError& e) {
    return e.what();
  }
  return "";
}

const std::string kGood =
    R"({"__metadata__":{"format":"pt"},"b":{"dtype":"F16","shape":[2],"data_offsets":[24,28]},)"
    R"("a":{"dtype":"F32","shape":[2,3],"data_offsets":[0,24]}})";

TEST(Safetensors, ParsesAValidHeaderSortedByOffset) {
  const auto f = file_of(kGood, 28);
  const SafetensorsHeader h = parse_safetensors(f.data(), f.size(), "t");
  ASSERT_EQ(h.tensors.size(), 2u);
  EXPECT_EQ(h.tensors[0].name, "a");
  EXPECT_EQ(h.tensors[0].shape, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(h.tensors[1].dtype, DType::F16);
  EXPECT_EQ(h.metadata.at("format"), "pt");
  EXPECT_EQ(h.data_offset, 8 + kGood.size());
  ASSERT_NE(h.find("b"), nullptr);
}

TEST(Safetensors, RejectsTruncatedFilesNamingTheTensor) {
  auto f = file_of(kGood, 28);
  f.resize(f.size() - 3);
  const std::string e = error_of(f);
  EXPECT_NE(e.find("tensor 'b'"), std::string::npos) << e;
  EXPECT_NE(e.find("truncated"), std::string::npos) << e;
}

TEST(Safetensors, RejectsEachKindOfCorruption) {
  struct Case {
    std::string header;
    size_t data;
    std::string expect;
  };
  const Case cases[] = {
      {R"({"a":{"dtype":"F99","shape":[1],"data_offsets":[0,4]}})", 4, "unknown dtype 'F99'"},
      {R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}})", 4, "byte length 4 != 2 elements"},
      {R"({"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}})", 4, "non-negative"},
      {R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[4,0]}})", 4, "begin > end"},
      {R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[2,6]}})", 6, "overlaps"},
      {R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})", 8, "gap of 4 bytes"},
      {R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})", 8, "trailing bytes"},
      {R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4],"x":1}})", 4, "unknown field 'x'"},
      {R"({"a":{"dtype":"F32","shape":[4294967296,4294967296,4294967296],"data_offsets":[0,4]}})", 4, "overflow"},
      {R"({"a":[1,2]})", 0, "not an object"},
      {R"({"a":)", 0, "not valid JSON"},
      {R"([1])", 0, "not a JSON object"},
      {R"({"__metadata__":{"k":1}})", 0, "__metadata__ value 'k'"},
  };
  for (const Case& c : cases) {
    const std::string e = error_of(file_of(c.header, c.data));
    EXPECT_NE(e.find(c.expect), std::string::npos) << c.header << " -> '" << e << "'";
  }
}

TEST(Safetensors, RejectsBadLengthPrefix) {
  std::vector<uint8_t> tiny = {1, 2, 3};
  EXPECT_NE(error_of(tiny).find("shorter than the 8-byte"), std::string::npos);
  auto f = file_of("{}", 0);
  f[0] = 200;  // header length past the end
  EXPECT_NE(error_of(f).find("runs past the end"), std::string::npos);
  f[0] = 0;
  f[7] = 1;  // 2^56 bytes
  EXPECT_NE(error_of(f).find("exceeds 100 MiB"), std::string::npos);
}

TEST(Safetensors, OpenReportsMissingFiles) {
  EXPECT_THROW(SafetensorsFile::open("/nonexistent/x.safetensors"), EngineError);
}

}  // namespace
}  // namespace sn::engine

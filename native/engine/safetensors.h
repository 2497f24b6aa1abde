// Safetensors: header parsing with full validation, and a memory-mapped file of tensors.
// Format: u64 little-endian header length N, N bytes of JSON {name: {dtype, shape, data_offsets},
// "__metadata__": {str: str}}, then the data buffer; offsets are relative to the buffer start.
#ifndef SELECTN_ENGINE_SAFETENSORS_H
#define SELECTN_ENGINE_SAFETENSORS_H

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "dtype.h"

namespace sn::engine {

struct TensorInfo {
  std::string name;
  DType dtype = DType::F32;
  std::vector<int64_t> shape;  // row-major, outermost first
  uint64_t begin = 0;          // byte offsets into the data buffer, [begin, end)
  uint64_t end = 0;
  uint64_t numel() const;
};

struct SafetensorsHeader {
  std::vector<TensorInfo> tensors;  // sorted by begin offset
  std::map<std::string, std::string> metadata;
  uint64_t data_offset = 0;  // 8 + header length: where the data buffer starts in the file
  const TensorInfo* find(const std::string& name) const;
};

// Largest header accepted (the reference implementation's limit).
constexpr uint64_t kMaxHeaderBytes = 100ull << 20;

// Validates and parses a whole file image of `size` bytes: the length prefix, the JSON, every
// entry's dtype, shape (non-negative, product without overflow), offsets (begin <= end, inside the
// file, end - begin == numel * dtype size) and that the entries tile the data buffer exactly with
// no overlap and no gap. Throws EngineError naming `source` and the offending tensor.
SafetensorsHeader parse_safetensors(const uint8_t* data, size_t size, const std::string& source);

// A read-only mapping of one .safetensors file with its validated header.
class SafetensorsFile {
 public:
  // Throws EngineError if the file cannot be opened or mapped, or fails validation.
  static std::unique_ptr<SafetensorsFile> open(const std::string& path);
  ~SafetensorsFile();
  SafetensorsFile(const SafetensorsFile&) = delete;
  SafetensorsFile& operator=(const SafetensorsFile&) = delete;

  const SafetensorsHeader& header() const { return header_; }
  const std::string& path() const { return path_; }
  // Start of the tensor's bytes in the mapping (any alignment; copy or convert before use).
  const uint8_t* data(const TensorInfo& t) const { return base_ + header_.data_offset + t.begin; }

 private:
  SafetensorsFile() = default;
  std::string path_;
  const uint8_t* base_ = nullptr;
  size_t size_ = 0;
  SafetensorsHeader header_;
};

}  // namespace sn::engine

#endif  // SELECTN_ENGINE_SAFETENSORS_H

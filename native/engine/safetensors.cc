#include "safetensors.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <nlohmann/json.hpp>

#include "errors.h"

namespace sn::engine {

using nlohmann::json;

uint64_t TensorInfo::numel() const {
  uint64_t n = 1;
  for (int64_t d : shape) n *= uint64_t(d);
  return n;
}

const TensorInfo* SafetensorsHeader::find(const std::string& name) const {
  for (const TensorInfo& t : tensors)
    if (t.name == name) return &t;
  return nullptr;
}

namespace {

[[noreturn]] void bad(const std::string& source, const std::string& what) {
  throw EngineError("safetensors " + source + ": " + what);
}

[[noreturn]] void bad_tensor(const std::string& source, const std::string& name,
                             const std::string& what) {
  bad(source, "tensor '" + name + "': " + what);
}

TensorInfo parse_entry(const std::string& source, const std::string& name, const json& v,
                       uint64_t buffer_size) {
  TensorInfo t;
  t.name = name;
  if (!v.is_object()) bad_tensor(source, name, "entry is not an object");
  for (const auto& kv : v.items()) {
    if (kv.key() != "dtype" && kv.key() != "shape" && kv.key() != "data_offsets")
      bad_tensor(source, name, "unknown field '" + kv.key() + "'");
  }
  auto it = v.find("dtype");
  if (it == v.end() || !it->is_string()) bad_tensor(source, name, "missing or non-string dtype");
  if (!dtype_from_name(it->get<std::string>(), &t.dtype))
    bad_tensor(source, name, "unknown dtype '" + it->get<std::string>() + "'");
  it = v.find("shape");
  if (it == v.end() || !it->is_array()) bad_tensor(source, name, "missing or non-array shape");
  if (it->size() > 8) bad_tensor(source, name, "shape has more than 8 dimensions");
  uint64_t numel = 1;
  for (const json& d : *it) {
    if (!d.is_number_unsigned()) bad_tensor(source, name, "shape entry is not a non-negative integer");
    const uint64_t dim = d.get<uint64_t>();
    if (dim > (uint64_t(1) << 48)) bad_tensor(source, name, "shape entry too large");
    if (dim != 0 && numel > UINT64_MAX / dim) bad_tensor(source, name, "shape product overflows");
    numel *= dim;
    t.shape.push_back(int64_t(dim));
  }
  it = v.find("data_offsets");
  if (it == v.end() || !it->is_array() || it->size() != 2)
    bad_tensor(source, name, "data_offsets must be an array of two integers");
  if (!(*it)[0].is_number_unsigned() || !(*it)[1].is_number_unsigned())
    bad_tensor(source, name, "data_offsets must be non-negative integers");
  t.begin = (*it)[0].get<uint64_t>();
  t.end = (*it)[1].get<uint64_t>();
  if (t.begin > t.end) bad_tensor(source, name, "data_offsets begin > end");
  if (t.end > buffer_size)
    bad_tensor(source, name,
               "data_offsets end " + std::to_string(t.end) + " past the data buffer of " +
                   std::to_string(buffer_size) + " bytes (file truncated?)");
  const uint64_t esize = dtype_size(t.dtype);
  if (numel > UINT64_MAX / esize) bad_tensor(source, name, "byte size overflows");
  if (t.end - t.begin != numel * esize)
    bad_tensor(source, name,
               "byte length " + std::to_string(t.end - t.begin) + " != " + std::to_string(numel) +
                   " elements x " + std::to_string(esize) + " bytes (" + dtype_name(t.dtype) + ")");
  return t;
}

}  // namespace

SafetensorsHeader parse_safetensors(const uint8_t* data, size_t size, const std::string& source) {
  if (size < 8) bad(source, "file of " + std::to_string(size) + " bytes is shorter than the 8-byte header length");
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | data[i];
  if (n > kMaxHeaderBytes) bad(source, "header length " + std::to_string(n) + " exceeds 100 MiB");
  if (n > size - 8)
    bad(source, "header length " + std::to_string(n) + " runs past the end of the file (" +
                    std::to_string(size) + " bytes; truncated?)");
  const char* begin = reinterpret_cast<const char*>(data + 8);
  json doc = json::parse(begin, begin + n, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) bad(source, "header is not valid JSON");
  if (!doc.is_object()) bad(source, "header is not a JSON object");
  SafetensorsHeader h;
  h.data_offset = 8 + n;
  const uint64_t buffer_size = size - h.data_offset;
  for (const auto& kv : doc.items()) {
    if (kv.key() == "__metadata__") {
      if (!kv.value().is_object()) bad(source, "__metadata__ is not an object");
      for (const auto& m : kv.value().items()) {
        if (!m.value().is_string()) bad(source, "__metadata__ value '" + m.key() + "' is not a string");
        h.metadata[m.key()] = m.value().get<std::string>();
      }
      continue;
    }
    h.tensors.push_back(parse_entry(source, kv.key(), kv.value(), buffer_size));
  }
  std::sort(h.tensors.begin(), h.tensors.end(), [](const TensorInfo& a, const TensorInfo& b) {
    return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
  });
  uint64_t expect = 0;
  for (const TensorInfo& t : h.tensors) {
    if (t.begin < expect) bad_tensor(source, t.name, "data overlaps the previous tensor");
    if (t.begin > expect)
      bad_tensor(source, t.name, "gap of " + std::to_string(t.begin - expect) + " bytes before its data");
    expect = t.end;
  }
  if (expect != buffer_size)
    bad(source, "data buffer is " + std::to_string(buffer_size) + " bytes but tensors cover " +
                    std::to_string(expect) + " (trailing bytes or truncation)");
  return h;
}

std::unique_ptr<SafetensorsFile> SafetensorsFile::open(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw EngineError("cannot open " + path + ": " + std::strerror(errno));
  struct stat st {};
  if (fstat(fd, &st) != 0) {
    const int e = errno;
    ::close(fd);
    throw EngineError("cannot stat " + path + ": " + std::strerror(e));
  }
  std::unique_ptr<SafetensorsFile> f(new SafetensorsFile());
  f->path_ = path;
  f->size_ = size_t(st.st_size);
  if (f->size_ > 0) {
    void* p = mmap(nullptr, f->size_, PROT_READ, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED) {
      const int e = errno;
      ::close(fd);
      throw EngineError("cannot mmap " + path + ": " + std::strerror(e));
    }
    f->base_ = static_cast<const uint8_t*>(p);
  }
  ::close(fd);
  static const uint8_t empty[1] = {0};
  f->header_ = parse_safetensors(f->base_ ? f->base_ : empty, f->size_, path);
  return f;
}

SafetensorsFile::~SafetensorsFile() {
  if (base_) munmap(const_cast<uint8_t*>(base_), size_);
}

}  // namespace sn::engine

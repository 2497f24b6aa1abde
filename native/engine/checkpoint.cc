#include "checkpoint.h"

#include <dirent.h>

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "errors.h"

namespace sn::engine {

using nlohmann::json;

std::string shape_string(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

namespace {

bool read_text(const std::string& path, std::string* out) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return false;
  std::ostringstream ss;
  ss << f.rdbuf();
  *out = ss.str();
  return true;
}

bool exists(const std::string& path) {
  std::ifstream f(path);
  return bool(f);
}

std::vector<std::string> list_safetensors(const std::string& dir) {
  std::vector<std::string> out;
  DIR* d = opendir(dir.c_str());
  if (!d) throw EngineError("cannot read model folder " + dir);
  while (dirent* e = readdir(d)) {
    const std::string n = e->d_name;
    if (n.size() > 12 && n.compare(n.size() - 12, 12, ".safetensors") == 0) out.push_back(n);
  }
  closedir(d);
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

std::unique_ptr<Checkpoint> Checkpoint::open(const std::string& dir) {
  std::unique_ptr<Checkpoint> c(new Checkpoint());
  c->dir_ = dir;
  std::string text;
  const std::string cfg_path = dir + "/config.json";
  if (!read_text(cfg_path, &text)) throw EngineError("cannot read " + cfg_path);
  c->config_ = parse_model_config(text, cfg_path);

  const std::string index_path = dir + "/model.safetensors.index.json";
  std::map<std::string, std::string> weight_map;  // tensor -> file (index only)
  std::vector<std::string> names;
  if (read_text(index_path, &text)) {
    json j = json::parse(text, nullptr, false);
    if (j.is_discarded() || !j.is_object() || !j.contains("weight_map") || !j["weight_map"].is_object())
      throw EngineError(index_path + ": not JSON with a weight_map object");
    std::set<std::string> files;
    for (const auto& kv : j["weight_map"].items()) {
      if (!kv.value().is_string()) throw EngineError(index_path + ": weight_map['" + kv.key() + "'] is not a string");
      const std::string f = kv.value().get<std::string>();
      if (f.find('/') != std::string::npos || f == "." || f == "..")
        throw EngineError(index_path + ": weight_map['" + kv.key() + "'] names a path outside the folder");
      weight_map[kv.key()] = f;
      files.insert(f);
    }
    names.assign(files.begin(), files.end());
  } else if (exists(dir + "/model.safetensors")) {
    names = {"model.safetensors"};
  } else {
    names = list_safetensors(dir);
  }
  if (names.empty()) throw EngineError(dir + ": no .safetensors files");
  for (const std::string& n : names) {
    c->files_.push_back(SafetensorsFile::open(dir + "/" + n));
    const SafetensorsFile* f = c->files_.back().get();
    for (const TensorInfo& t : f->header().tensors) {
      if (!weight_map.empty()) {
        auto it = weight_map.find(t.name);
        if (it == weight_map.end() || it->second != n) continue;  // the index says it lives elsewhere
      }
      if (c->tensors_.count(t.name)) throw EngineError("tensor '" + t.name + "' appears in two files (" + n + ")");
      c->tensors_[t.name] = TensorRef{f, &t};
    }
  }
  for (const auto& kv : weight_map) {
    if (!c->tensors_.count(kv.first))
      throw EngineError(index_path + ": tensor '" + kv.first + "' is not in " + kv.second);
  }
  return c;
}

const TensorRef* Checkpoint::find(const std::string& name) const {
  auto it = tensors_.find(name);
  if (it != tensors_.end()) return &it->second;
  if (name.rfind("model.", 0) == 0) {
    it = tensors_.find(name.substr(6));
    if (it != tensors_.end()) return &it->second;
  }
  return nullptr;
}

const TensorRef& Checkpoint::require(const std::string& name, const std::vector<int64_t>& shape) const {
  const TensorRef* t = find(name);
  if (!t) throw EngineError("tensor '" + name + "' is missing from the checkpoint in " + dir_);
  if (!dtype_is_weight(t->info->dtype))
    throw EngineError("tensor '" + name + "' in " + t->file->path() + ": dtype " + dtype_name(t->info->dtype) +
                      " is not a weight type (F32, F16, BF16)");
  if (t->info->shape != shape)
    throw EngineError("tensor '" + name + "' in " + t->file->path() + ": shape " + shape_string(t->info->shape) +
                      " does not match config.json (expected " + shape_string(shape) + ")");
  return *t;
}

void Checkpoint::read_f32(const TensorRef& t, float* dst) {
  convert_to_f32(t.info->dtype, t.file->data(*t.info), t.info->numel(), dst);
}

void Checkpoint::read_as(const TensorRef& t, DType to, void* dst) {
  convert_weights(t.info->dtype, t.file->data(*t.info), t.info->numel(), to, dst);
}

}  // namespace sn::engine

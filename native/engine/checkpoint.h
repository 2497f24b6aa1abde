// A Hugging Face model folder: config.json plus one safetensors file or shards with their index.
// Owns the mappings; resolves tensor names; checks every tensor the model needs against config.
#ifndef SELECTN_ENGINE_CHECKPOINT_H
#define SELECTN_ENGINE_CHECKPOINT_H

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "config.h"
#include "safetensors.h"

namespace sn::engine {

struct TensorRef {
  const SafetensorsFile* file = nullptr;
  const TensorInfo* info = nullptr;
};

class Checkpoint {
 public:
  // Reads <dir>/config.json and the safetensors files: model.safetensors.index.json if present
  // (every mapped tensor must be in the file it names), else model.safetensors, else every
  // *.safetensors in the folder. Throws EngineError on any problem.
  static std::unique_ptr<Checkpoint> open(const std::string& dir);

  const ModelConfig& config() const { return config_; }
  const std::string& dir() const { return dir_; }
  // Finds `name`, also without a leading "model." (older OPT checkpoints). nullptr if absent.
  const TensorRef* find(const std::string& name) const;
  // Finds a tensor that must be there with this shape and a float dtype; throws naming it.
  const TensorRef& require(const std::string& name, const std::vector<int64_t>& shape) const;
  // Converts the tensor to fp32 into dst (numel floats).
  static void read_f32(const TensorRef& t, float* dst);
  // Converts the tensor to weight dtype `to` into dst (numel elements; a copy when it matches).
  static void read_as(const TensorRef& t, DType to, void* dst);
  size_t tensor_count() const { return tensors_.size(); }

 private:
  std::string dir_;
  ModelConfig config_;
  std::vector<std::unique_ptr<SafetensorsFile>> files_;
  std::map<std::string, TensorRef> tensors_;
};

std::string shape_string(const std::vector<int64_t>& shape);

}  // namespace sn::engine

#endif  // SELECTN_ENGINE_CHECKPOINT_H

// Where each weight lives. A decoder layer's weights are one contiguous blob in the stored dtype
// (the unit the runtime places, copies and stages); global weights (embeddings, final norm,
// lm_head) stay resident. Parameter names follow Hugging Face; shapes come from config.json.
#ifndef SELECTN_ENGINE_LAYOUT_H
#define SELECTN_ENGINE_LAYOUT_H

#include <cstdint>
#include <string>
#include <vector>

#include "checkpoint.h"
#include "config.h"

namespace sn::engine {

// Per-layer parameters. Llama: attn_norm = input_layernorm, mlp_norm = post_attention_layernorm,
// gate/up/down = mlp.*_proj. OPT: attn_norm = self_attn_layer_norm, mlp_norm = final_layer_norm,
// up = fc1, down = fc2 (no gate). Linear weights are [out, in] row-major as in torch.
enum LayerParam : int {
  kAttnNorm, kAttnNormBias,
  kWq, kBq, kWk, kBk, kWv, kBv, kWo, kBo,
  kMlpNorm, kMlpNormBias,
  kWgate, kBgate, kWup, kBup, kWdown, kBdown,
  kQNorm, kKNorm,    // Qwen3: self_attn.q_norm / k_norm, [head_dim] each
  kWqkv, kWgateUp,   // Phi-3: fused [q; k; v] and [gate; up]; kWq..kWv, kWgate, kWup point into them
  kLayerParamCount
};

struct ParamSpec {
  int id;               // LayerParam or GlobalParam
  std::string name;     // full tensor name; for layers with "{i}" standing for the index
  std::vector<int64_t> shape;
};

struct LayerLayout {
  DType dtype = DType::F32;          // every tensor of the blob is stored in this dtype
  int64_t offset[kLayerParamCount];  // in elements from the blob start; -1 = absent
  uint64_t elements = 0;             // blob size in elements (the layer's parameter count)
  // Stored bytes of one decoder layer: the one figure the runtime, the planner's description
  // (src/planner/model.ts decoderLayerBytes) and the telemetry use.
  uint64_t bytes() const { return elements * dtype_size(dtype); }
};

enum GlobalParam : int { kEmbed, kPosEmbed, kFinalNorm, kFinalNormBias, kLmHead, kGlobalParamCount };

std::vector<ParamSpec> layer_param_specs(const ModelConfig& c);
std::vector<ParamSpec> global_param_specs(const ModelConfig& c);  // lm_head absent when tied
LayerLayout make_layer_layout(const ModelConfig& c, DType dtype);
std::string layer_tensor_name(const std::string& pattern, int64_t layer);

// Validates every tensor the model needs (names, shapes, dtypes) before anything is copied, so a
// bad checkpoint fails fast with the tensor's name; returns the checkpoint's one weight dtype
// (a checkpoint mixing float dtypes is refused, naming the first tensor that differs). Throws
// EngineError.
DType validate_checkpoint(const Checkpoint& ck);
// Fills blob (layout.bytes() bytes) with layer `layer`'s weights converted to layout.dtype.
void fill_layer_blob(const Checkpoint& ck, const LayerLayout& layout, int64_t layer, void* blob);

}  // namespace sn::engine

#endif  // SELECTN_ENGINE_LAYOUT_H

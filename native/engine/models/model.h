// A decoder architecture: how a step embeds tokens, runs one decoder layer from its weight blob,
// and normalises the final hidden states. One file per architecture (llama.cc, opt.cc).
#ifndef SELECTN_ENGINE_MODEL_H
#define SELECTN_ENGINE_MODEL_H

#include <memory>

#include "../batch.h"
#include "../config.h"
#include "../layout.h"
#include "../ops.h"

namespace sn::engine {

// Resident (never offloaded) weights, device pointers in the stored dtype; empty where the model
// has none.
struct GlobalWeights {
  Weight embed;                     // [V, D]
  Weight pos_embed;                 // [max_positions + offset, D] (OPT)
  Weight final_norm;                // [D]
  Weight final_norm_bias;           // [D] (OPT)
  Weight lm_head;                   // [V, D] (== embed when tied)
  const float* inv_freq = nullptr;  // [head_dim / 2] fp32 (Llama)
};

// Per-step scratch for up to `capacity` tokens, device pointers. Shapes per token row:
// x, xn, tmp: D; q, attn: Hq*hd; k, v: Hkv*hd; gate, up: F.
struct Activations {
  int capacity = 0;
  float *x = nullptr, *xn = nullptr, *tmp = nullptr, *q = nullptr, *attn = nullptr;
  float *k = nullptr, *v = nullptr, *gate = nullptr, *up = nullptr;
};

class Model {
 public:
  virtual ~Model() = default;
  // x <- embeddings of the step's tokens (plus learned positions for OPT).
  virtual void embed(Ops& ops, const GlobalWeights& g, const BatchView& b, Activations& a) = 0;
  // x <- layer(x); reads the layer's weights from blob (LayerLayout::dtype); writes K/V into the
  // paged cache.
  virtual void layer(Ops& ops, const void* blob, int layer, const BatchView& b, Activations& a) = 0;
  // x[n, D] <- final norm of x, in place (nothing when the architecture has none).
  virtual void final_norm(Ops& ops, const GlobalWeights& g, float* x, int n) = 0;
};

std::unique_ptr<Model> make_llama(const ModelConfig& c, const LayerLayout& l, const KvGeometry& kv);
std::unique_ptr<Model> make_opt(const ModelConfig& c, const LayerLayout& l, const KvGeometry& kv);

}  // namespace sn::engine

#endif  // SELECTN_ENGINE_MODEL_H

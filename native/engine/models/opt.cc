// OPT: learned positions (offset 2), LayerNorm (pre-LN, or post-LN as in opt-350m), biased
// projections, ReLU MLP, tied embeddings.
#include <cmath>

#include "model.h"

namespace sn::engine {

namespace {

class Opt final : public Model {
 public:
  Opt(const ModelConfig& c, const LayerLayout& l, const KvGeometry& kv) : c_(c), l_(l), kv_(kv) {}

  void embed(Ops& ops, const GlobalWeights& g, const BatchView& b, Activations& a) override {
    ops.embed(a.x, g.embed, b, int(c_.hidden_size));
    ops.add_positions(a.x, g.pos_embed, b, int(c_.hidden_size), int(c_.position_offset));
  }

  void layer(Ops& ops, const void* w, int layer, const BatchView& b, Activations& a) override {
    const int n = b.n_tokens, D = int(c_.hidden_size), F = int(c_.ffn_size), hd = int(c_.head_dim);
    const int H = int(c_.n_heads);
    const float eps = float(c_.norm_eps);
    const bool pre = c_.norm_before;
    const float* h = a.x;
    if (pre) {
      ops.layernorm(a.xn, a.x, p(w, kAttnNorm), p(w, kAttnNormBias), n, D, eps);
      h = a.xn;
    }
    ops.linear(a.q, h, p(w, kWq), p(w, kBq), n, D, D);
    ops.linear(a.k, h, p(w, kWk), p(w, kBk), n, D, D);
    ops.linear(a.v, h, p(w, kWv), p(w, kBv), n, D, D);
    ops.kv_store(a.k, a.v, b, kv_, layer);
    ops.attention(a.attn, a.q, b, kv_, layer, H, float(1.0 / std::sqrt(double(hd))));
    ops.linear(a.tmp, a.attn, p(w, kWo), p(w, kBo), n, D, D);
    ops.add(a.x, a.tmp, size_t(n) * D);
    if (!pre) ops.layernorm(a.x, a.x, p(w, kAttnNorm), p(w, kAttnNormBias), n, D, eps);
    h = a.x;
    if (pre) {
      ops.layernorm(a.xn, a.x, p(w, kMlpNorm), p(w, kMlpNormBias), n, D, eps);
      h = a.xn;
    }
    ops.linear(a.up, h, p(w, kWup), p(w, kBup), n, D, F);
    ops.relu(a.up, size_t(n) * F);
    ops.linear(a.tmp, a.up, p(w, kWdown), p(w, kBdown), n, F, D);
    ops.add(a.x, a.tmp, size_t(n) * D);
    if (!pre) ops.layernorm(a.x, a.x, p(w, kMlpNorm), p(w, kMlpNormBias), n, D, eps);
  }

  void final_norm(Ops& ops, const GlobalWeights& g, float* x, int n) override {
    if (!g.final_norm) return;  // post-LN OPT ends on the last layer's norm
    ops.layernorm(x, x, g.final_norm, g.final_norm_bias, n, int(c_.hidden_size), float(c_.norm_eps));
  }

 private:
  Weight p(const void* blob, LayerParam id) const {
    return l_.offset[id] < 0 ? Weight{nullptr, l_.dtype} : Weight{blob, l_.dtype}.at(size_t(l_.offset[id]));
  }
  ModelConfig c_;
  LayerLayout l_;
  KvGeometry kv_;
};

}  // namespace

std::unique_ptr<Model> make_opt(const ModelConfig& c, const LayerLayout& l, const KvGeometry& kv) {
  return std::make_unique<Opt>(c, l, kv);
}

}  // namespace sn::engine

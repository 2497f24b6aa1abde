// Llama family (Llama 2/3, Mistral, Qwen2, Qwen3, Phi-3): RMSNorm, RoPE, grouped-query attention,
// SwiGLU MLP; per family q/k/v biases (Qwen2), per-head q/k RMSNorm (Qwen3), partial rotary and
// fused projections (Phi-3, see layout.cc), a sliding window (Mistral, Phi-3).
#include <cmath>

#include "model.h"

namespace sn::engine {

namespace {

class Llama final : public Model {
 public:
  Llama(const ModelConfig& c, const LayerLayout& l, const KvGeometry& kv) : c_(c), l_(l), kv_(kv) {}

  void embed(Ops& ops, const GlobalWeights& g, const BatchView& b, Activations& a) override {
    ops.embed(a.x, g.embed, b, int(c_.hidden_size));
    inv_freq_ = g.inv_freq;
  }

  void layer(Ops& ops, const void* w, int layer, const BatchView& b, Activations& a) override {
    const int n = b.n_tokens, D = int(c_.hidden_size), F = int(c_.ffn_size), hd = int(c_.head_dim);
    const int Hq = int(c_.n_heads), Hkv = int(c_.n_kv_heads);
    const float eps = float(c_.norm_eps);
    ops.rmsnorm(a.xn, a.x, p(w, kAttnNorm), n, D, eps);
    ops.linear(a.q, a.xn, p(w, kWq), p(w, kBq), n, D, Hq * hd);
    ops.linear(a.k, a.xn, p(w, kWk), p(w, kBk), n, D, Hkv * hd);
    ops.linear(a.v, a.xn, p(w, kWv), p(w, kBv), n, D, Hkv * hd);
    if (c_.qk_norm) {  // Qwen3: RMSNorm over each head's hd values, one weight shared by the heads
      ops.rmsnorm(a.q, a.q, p(w, kQNorm), n * Hq, hd, eps);
      ops.rmsnorm(a.k, a.k, p(w, kKNorm), n * Hkv, hd, eps);
    }
    if (c_.rotary_dim == c_.head_dim) {
      ops.rope(a.q, b, Hq, hd, inv_freq_);
      ops.rope(a.k, b, Hkv, hd, inv_freq_);
    } else {  // Phi-3 partial_rotary_factor
      ops.rope_partial(a.q, b, Hq, hd, int(c_.rotary_dim), inv_freq_);
      ops.rope_partial(a.k, b, Hkv, hd, int(c_.rotary_dim), inv_freq_);
    }
    ops.kv_store(a.k, a.v, b, kv_, layer);
    const float scale = float(1.0 / std::sqrt(double(hd)));
    if (c_.sliding_window > 0)
      ops.attention_window(a.attn, a.q, b, kv_, layer, Hq, scale, int(c_.sliding_window));
    else
      ops.attention(a.attn, a.q, b, kv_, layer, Hq, scale);
    ops.linear(a.tmp, a.attn, p(w, kWo), p(w, kBo), n, Hq * hd, D);
    ops.add(a.x, a.tmp, size_t(n) * D);
    ops.rmsnorm(a.xn, a.x, p(w, kMlpNorm), n, D, eps);
    ops.linear(a.gate, a.xn, p(w, kWgate), p(w, kBgate), n, D, F);
    ops.linear(a.up, a.xn, p(w, kWup), p(w, kBup), n, D, F);
    ops.swiglu(a.gate, a.gate, a.up, size_t(n) * F);
    ops.linear(a.tmp, a.gate, p(w, kWdown), p(w, kBdown), n, F, D);
    ops.add(a.x, a.tmp, size_t(n) * D);
  }

  void final_norm(Ops& ops, const GlobalWeights& g, float* x, int n) override {
    ops.rmsnorm(x, x, g.final_norm, n, int(c_.hidden_size), float(c_.norm_eps));
  }

 private:
  Weight p(const void* blob, LayerParam id) const {
    return l_.offset[id] < 0 ? Weight{nullptr, l_.dtype} : Weight{blob, l_.dtype}.at(size_t(l_.offset[id]));
  }
  ModelConfig c_;
  LayerLayout l_;
  KvGeometry kv_;
  const float* inv_freq_ = nullptr;
};

}  // namespace

std::unique_ptr<Model> make_llama(const ModelConfig& c, const LayerLayout& l, const KvGeometry& kv) {
  return std::make_unique<Llama>(c, l, kv);
}

}  // namespace sn::engine

// Ops on the CPU backend: the kernels in this folder plus OpenBLAS.
#include <cblas.h>

#include "../ops.h"
#include "kernels.h"

namespace sn::engine {

namespace {

class CpuOps final : public Ops {
 public:
  explicit CpuOps(int threads) : team_(threads) {}
  void embed(float* x, Weight table, const BatchView& b, int dim) override {
    cpu::embedding(x, table, b.token_ids, b.n_tokens, dim, 0, false);
  }
  void add_positions(float* x, Weight table, const BatchView& b, int dim, int offset) override {
    cpu::embedding(x, table, b.positions, b.n_tokens, dim, offset, true);
  }
  void rmsnorm(float* out, const float* x, Weight w, int n, int dim, float eps) override {
    cpu::rmsnorm(out, x, w, n, dim, eps);
  }
  void layernorm(float* out, const float* x, Weight w, Weight bias, int n, int dim,
                 float eps) override {
    cpu::layernorm(out, x, w, bias, n, dim, eps);
  }
  void linear(float* y, const float* x, Weight w, Weight bias, int n, int in, int out) override {
    cpu::linear(y, x, w, bias, n, in, out, &team_);
  }
  void rope(float* x, const BatchView& b, int heads, int head_dim, const float* inv_freq) override {
    cpu::rope(x, b.positions, b.n_tokens, heads, head_dim, inv_freq);
  }
  void kv_store(const float* k, const float* v, const BatchView& b, const KvGeometry& g, int layer) override {
    cpu::kv_store(k, v, b, g, layer);
  }
  void attention(float* out, const float* q, const BatchView& b, const KvGeometry& g, int layer, int n_heads,
                 float scale) override {
    cpu::attention(out, q, b, g, layer, n_heads, scale);
  }
  void attention_window(float* out, const float* q, const BatchView& b, const KvGeometry& g, int layer,
                        int n_heads, float scale, int window) override {
    cpu::attention_window(out, q, b, g, layer, n_heads, scale, window);
  }
  void rope_partial(float* x, const BatchView& b, int heads, int head_dim, int rotary_dim,
                    const float* inv_freq) override {
    cpu::rope_partial(x, b.positions, b.n_tokens, heads, head_dim, rotary_dim, inv_freq);
  }
  void swiglu(float* out, const float* gate, const float* up, size_t n) override { cpu::swiglu(out, gate, up, n); }
  void relu(float* x, size_t n) override { cpu::relu(x, n); }
  void add(float* x, const float* y, size_t n) override {
    for (size_t i = 0; i < n; ++i) x[i] += y[i];
  }
  void gather_rows(float* out, const float* x, const int32_t* rows, int n, int dim) override {
    cpu::embedding(out, Weight{x, DType::F32}, rows, n, dim, 0, false);
  }

 private:
  cpu::ThreadTeam team_;
};

}  // namespace

std::unique_ptr<Ops> make_cpu_ops(int threads) {
  if (threads > 0) openblas_set_num_threads(threads);
  return std::make_unique<CpuOps>(threads);
}

}  // namespace sn::engine

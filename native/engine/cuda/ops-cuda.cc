// Ops on the CUDA backend: the kernels in this folder on the runtime's compute stream, GEMMs
// through cuBLAS (fp32, no TF32, so results track the CPU reference). Weights must be stored in
// fp32 here; the engine refuses other dtypes on this backend at load.
#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <string>

#include "../errors.h"
#include "../ops.h"
#include "kernels.cuh"

namespace sn::engine {

namespace {

void check_cublas(cublasStatus_t s, const char* what) {
  if (s != CUBLAS_STATUS_SUCCESS) throw EngineError(std::string("cuBLAS ") + what + " failed: status " + std::to_string(int(s)));
}

// The fp32 view of a weight (null stays null).
const float* f32(Weight w) {
  if (w && w.dtype != DType::F32)
    throw EngineError(std::string("CUDA ops: weights stored as ") + dtype_name(w.dtype) + " (this backend runs fp32)");
  return static_cast<const float*>(w.data);
}

class CudaOps final : public Ops {
 public:
  explicit CudaOps(cudaStream_t s) : s_(s) {
    check_cublas(cublasCreate(&h_), "create");
    check_cublas(cublasSetStream(h_, s_), "set stream");
    check_cublas(cublasSetMathMode(h_, CUBLAS_PEDANTIC_MATH), "math mode");
  }
  ~CudaOps() override { cublasDestroy(h_); }

  void embed(float* x, Weight table, const BatchView& b, int dim) override {
    cuda::embedding(x, f32(table), b.token_ids, b.n_tokens, dim, 0, false, s_);
  }
  void add_positions(float* x, Weight table, const BatchView& b, int dim, int offset) override {
    cuda::embedding(x, f32(table), b.positions, b.n_tokens, dim, offset, true, s_);
  }
  void rmsnorm(float* out, const float* x, Weight w, int n, int dim, float eps) override {
    cuda::rmsnorm(out, x, f32(w), n, dim, eps, s_);
  }
  void layernorm(float* out, const float* x, Weight w, Weight bias, int n, int dim, float eps) override {
    cuda::layernorm(out, x, f32(w), f32(bias), n, dim, eps, s_);
  }
  // Row-major y[n, out] = x[n, in] . w[out, in]^T is column-major y^T = w^T' . x^T: (OP_T, OP_N).
  void linear(float* y, const float* x, Weight w, Weight bias, int n, int in, int out) override {
    const float one = 1.0f, zero = 0.0f;
    check_cublas(cublasSgemm(h_, CUBLAS_OP_T, CUBLAS_OP_N, out, n, in, &one, f32(w), in, x, in, &zero, y, out), "sgemm");
    if (bias) cuda::add_bias(y, f32(bias), n, out, s_);
  }
  void rope(float* x, const BatchView& b, int heads, int head_dim, const float* inv_freq) override {
    cuda::rope(x, b.positions, b.n_tokens, heads, head_dim, inv_freq, s_);
  }
  void kv_store(const float* k, const float* v, const BatchView& b, const KvGeometry& g, int layer) override {
    cuda::kv_store(k, v, b, g, layer, s_);
  }
  void attention(float* out, const float* q, const BatchView& b, const KvGeometry& g, int layer, int n_heads,
                 float scale) override {
    if (b.max_ctx > cuda::max_attention_context())
      throw EngineError("CUDA attention: context " + std::to_string(b.max_ctx) + " exceeds " +
                        std::to_string(cuda::max_attention_context()) + " positions");
    cuda::attention(out, q, b, g, layer, n_heads, scale, b.max_ctx, s_);
  }
  void attention_window(float* out, const float* q, const BatchView& b, const KvGeometry& g, int layer,
                        int n_heads, float scale, int window) override {
    const int ctx = std::min(b.max_ctx, window);
    if (ctx > cuda::max_attention_context())
      throw EngineError("CUDA attention: window of " + std::to_string(ctx) + " positions exceeds " +
                        std::to_string(cuda::max_attention_context()));
    cuda::attention_window(out, q, b, g, layer, n_heads, scale, window, b.max_ctx, s_);
  }
  void rope_partial(float* x, const BatchView& b, int heads, int head_dim, int rotary_dim,
                    const float* inv_freq) override {
    cuda::rope_partial(x, b.positions, b.n_tokens, heads, head_dim, rotary_dim, inv_freq, s_);
  }
  void swiglu(float* out, const float* gate, const float* up, size_t n) override { cuda::swiglu(out, gate, up, n, s_); }
  void relu(float* x, size_t n) override { cuda::relu(x, n, s_); }
  void add(float* x, const float* y, size_t n) override { cuda::add(x, y, n, s_); }
  void gather_rows(float* out, const float* x, const int32_t* rows, int n, int dim) override {
    cuda::embedding(out, x, rows, n, dim, 0, false, s_);
  }

 private:
  cudaStream_t s_;
  cublasHandle_t h_ = nullptr;
};

}  // namespace

std::unique_ptr<Ops> make_cuda_ops(void* stream) { return std::make_unique<CudaOps>(static_cast<cudaStream_t>(stream)); }

}  // namespace sn::engine

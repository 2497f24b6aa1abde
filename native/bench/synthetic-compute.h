// Synthetic layer compute for selectn-bench: a batched matrix-vector product over the layer's
// weights (viewed as a float matrix of rows x 1024), i.e. the memory-bound GEMV of a decode step
// (batch 1) turning compute-bound as the batch grows. CPU: a plain loop on the calling thread;
// CUDA: cublasSgemm on the runtime's compute stream. Time is real, never simulated.
#ifndef SELECTN_BENCH_SYNTHETIC_COMPUTE_H
#define SELECTN_BENCH_SYNTHETIC_COMPUTE_H

#include <cstdint>
#include <string>
#include <vector>

#include "selectn/runtime.h"

namespace snb {

class SyntheticCompute {
 public:
  static constexpr uint64_t kCols = 1024;
  SyntheticCompute() = default;
  ~SyntheticCompute();
  SyntheticCompute(const SyntheticCompute&) = delete;
  SyntheticCompute& operator=(const SyntheticCompute&) = delete;

  // Prepares input/output buffers for `batch` vectors and layers up to max_layer_bytes.
  // Returns an empty string or an error message.
  std::string init(sn_runtime* rt, sn_backend_kind backend, uint64_t max_layer_bytes, uint32_t batch);
  // y[batch x rows] = x[batch x cols] * W^T for W = weights (bytes / 4 / cols rows). Enqueued on
  // the compute stream for CUDA (asynchronous), finished on return for CPU.
  void run(const void* weights, uint64_t bytes);
  // A value depending on every output (prevents the CPU loop from being optimized away).
  double sink() const { return sink_; }

 private:
  sn_runtime* rt_ = nullptr;
  sn_backend_kind backend_ = SN_BACKEND_CPU;
  uint32_t batch_ = 1;
  std::vector<float> x_, y_;  // CPU buffers
  void* dx_ = nullptr;        // CUDA buffers (device pool scratch)
  void* dy_ = nullptr;
  void* cublas_ = nullptr;
  double sink_ = 0.0;
};

}  // namespace snb

#endif

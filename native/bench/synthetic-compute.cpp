#include "synthetic-compute.h"

#include <cmath>

#ifdef SELECTN_WITH_CUDA
#include <cublas_v2.h>
#include <cuda_runtime.h>
#endif

namespace snb {

SyntheticCompute::~SyntheticCompute() {
#ifdef SELECTN_WITH_CUDA
  if (cublas_ != nullptr) cublasDestroy(static_cast<cublasHandle_t>(cublas_));
#endif
  if (dx_ != nullptr) sn_device_free(rt_, dx_);
  if (dy_ != nullptr) sn_device_free(rt_, dy_);
}

std::string SyntheticCompute::init(sn_runtime* rt, sn_backend_kind backend, uint64_t max_layer_bytes,
                                   uint32_t batch) {
  rt_ = rt;
  backend_ = backend;
  batch_ = batch;
  const uint64_t rows = max_layer_bytes / sizeof(float) / kCols;
  if (rows == 0) return "layer smaller than one row of " + std::to_string(kCols) + " floats";
  x_.assign(static_cast<size_t>(batch) * kCols, 0.0f);
  for (size_t i = 0; i < x_.size(); ++i) x_[i] = static_cast<float>(std::sin(0.001 * static_cast<double>(i)));
  if (backend == SN_BACKEND_CPU) {
    y_.assign(static_cast<size_t>(batch) * rows, 0.0f);
    return std::string();
  }
#ifdef SELECTN_WITH_CUDA
  if (sn_device_alloc(rt, x_.size() * sizeof(float), &dx_) != SN_OK ||
      sn_device_alloc(rt, static_cast<uint64_t>(batch) * rows * sizeof(float), &dy_) != SN_OK) {
    return std::string("scratch allocation failed: ") + sn_last_error();
  }
  if (sn_device_upload(rt, dx_, x_.data(), x_.size() * sizeof(float)) != SN_OK) return sn_last_error();
  cublasHandle_t h = nullptr;
  if (cublasCreate(&h) != CUBLAS_STATUS_SUCCESS) return "cublasCreate failed";
  cublas_ = h;
  cublasSetStream(h, static_cast<cudaStream_t>(sn_compute_stream(rt)));
  return std::string();
#else
  return "CUDA compute requested but selectn-bench was built without CUDA";
#endif
}

void SyntheticCompute::run(const void* weights, uint64_t bytes) {
  const uint64_t rows = bytes / sizeof(float) / kCols;
  if (backend_ == SN_BACKEND_CPU) {
    const float* w = static_cast<const float*>(weights);
    for (uint64_t r = 0; r < rows; ++r) {
      const float* wr = w + r * kCols;
      for (uint32_t b = 0; b < batch_; ++b) {
        const float* xb = x_.data() + static_cast<size_t>(b) * kCols;
        float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
        for (uint64_t c = 0; c < kCols; c += 8) {
          for (int u = 0; u < 8; ++u) acc[u] += wr[c + u] * xb[c + u];
        }
        y_[b * rows + r] = ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
      }
    }
    sink_ += static_cast<double>(y_[0]) + static_cast<double>(y_[static_cast<size_t>(rows) - 1]);
    return;
  }
#ifdef SELECTN_WITH_CUDA
  // Y (rows x batch, column-major) = W^T-view: W is rows x kCols row-major = kCols x rows col-major.
  const float alpha = 1.0f, beta = 0.0f;
  cublasSgemm(static_cast<cublasHandle_t>(cublas_), CUBLAS_OP_T, CUBLAS_OP_N, static_cast<int>(rows),
              static_cast<int>(batch_), static_cast<int>(kCols), &alpha, static_cast<const float*>(weights),
              static_cast<int>(kCols), static_cast<const float*>(dx_), static_cast<int>(kCols), &beta,
              static_cast<float*>(dy_), static_cast<int>(rows));
#endif
}

}  // namespace snb

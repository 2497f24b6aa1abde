#include <cblas.h>

#include <algorithm>
#include <cstring>
#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#endif

#include "../cpu-features.h"
#include "kernels.h"

namespace sn::engine::cpu {

namespace {

// Floats in one widened panel of half-precision weight rows for the GEMM path: 4 MiB, so a
// large matrix (an lm_head) needs few BLAS calls and no full-size fp32 copy.
constexpr size_t kPanelFloats = size_t(1) << 20;
// Up to this many token rows, half-precision weights go through the fused dot loop below (one
// pass over the weights at their stored width); more rows amortise a widened panel and BLAS.
constexpr int kFusedMaxRows = 8;

// y[n, out] = x[n, in] . w[out, in]^T with fp32 w (ldy: row stride of y). One row goes through
// GEMV (decode), more through GEMM; both are OpenBLAS.
void gemm_f32(float* y, int ldy, const float* x, const float* w, int n, int in, int out) {
  if (n == 1) {
    cblas_sgemv(CblasRowMajor, CblasNoTrans, out, in, 1.0f, w, in, x, 1, 0.0f, y, 1);
  } else {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, out, in, 1.0f, x, in, w, in, 0.0f, y, ldy);
  }
}

typedef float v4f __attribute__((vector_size(16)));  // SSE width: no ABI change at baseline x86-64

// Eight stored elements widened to fp32 (written so that the compiler vectorises it).
inline void widen8(const uint16_t* w, DType d, v4f* lo, v4f* hi) {
  float f[8];
  if (d == DType::BF16) {
    for (int j = 0; j < 8; ++j) {
      const uint32_t bits = uint32_t(w[j]) << 16;
      std::memcpy(&f[j], &bits, 4);
    }
  } else {
    for (int j = 0; j < 8; ++j) f[j] = f16_to_f32_fast(w[j]);
  }
  std::memcpy(lo, f, sizeof *lo);
  std::memcpy(hi, f + 4, sizeof *hi);
}

inline float widen1(uint16_t w, DType d) { return d == DType::BF16 ? bf16_to_f32(w) : f16_to_f32_fast(w); }

// Output o of every token row: sum_i w[o, i] x[r, i], in a fixed order per (machine, shape).
// Portable form, SSE-width vectors.
void dot_rows_generic(float* y, int ldy, const float* x, const uint16_t* row, DType d, int n, int in) {
  const int vec = in / 8 * 8;
  v4f acc[kFusedMaxRows][2] = {};
  for (int i = 0; i < vec; i += 8) {
    v4f lo, hi;
    widen8(row + i, d, &lo, &hi);
    for (int r = 0; r < n; ++r) {
      v4f xl, xh;
      const float* xr = x + size_t(r) * size_t(in) + size_t(i);
      std::memcpy(&xl, xr, sizeof xl);
      std::memcpy(&xh, xr + 4, sizeof xh);
      acc[r][0] += lo * xl;
      acc[r][1] += hi * xh;
    }
  }
  for (int r = 0; r < n; ++r) {
    const v4f a = acc[r][0] + acc[r][1];
    float s = (a[0] + a[1]) + (a[2] + a[3]);
    const float* xr = x + size_t(r) * size_t(in);
    for (int i = vec; i < in; ++i) s += widen1(row[i], d) * xr[i];
    y[size_t(r) * size_t(ldy)] = s;
  }
}

#if defined(__x86_64__) && defined(__GNUC__)
// The same with AVX2 + FMA + F16C (chosen at run time): 8 widened weights per instruction pair
// (bf16: zero-extend and shift; fp16: vcvtph2ps), fused multiply-add into 8-wide accumulators.
__attribute__((target("avx2,fma,f16c"))) void dot_rows_avx2(float* y, int ldy, const float* x, const uint16_t* row,
                                                             DType d, int n, int in) {
  const int vec = in / 8 * 8;
  __m256 acc[kFusedMaxRows];
  for (int r = 0; r < n; ++r) acc[r] = _mm256_setzero_ps();
  const bool bf16 = d == DType::BF16;
  for (int i = 0; i < vec; i += 8) {
    const __m128i h = _mm_loadu_si128(reinterpret_cast<const __m128i*>(row + i));
    const __m256 w = bf16 ? _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16)) : _mm256_cvtph_ps(h);
    for (int r = 0; r < n; ++r) acc[r] = _mm256_fmadd_ps(w, _mm256_loadu_ps(x + size_t(r) * size_t(in) + size_t(i)), acc[r]);
  }
  for (int r = 0; r < n; ++r) {
    float a[8];
    _mm256_storeu_ps(a, acc[r]);
    float s = ((a[0] + a[1]) + (a[2] + a[3])) + ((a[4] + a[5]) + (a[6] + a[7]));
    const float* xr = x + size_t(r) * size_t(in);
    for (int i = vec; i < in; ++i) s += widen1(row[i], d) * xr[i];
    y[size_t(r) * size_t(ldy)] = s;
  }
}

bool have_avx2() {
  static const bool yes = x86_features().avx2 && x86_features().fma && x86_features().f16c;
  return yes;
}
#endif

// y[r, o] = sum_i w[o, i] x[r, i] for n <= kFusedMaxRows token rows: each weight row is read once,
// at its stored width, and dotted with every token row while it is in L1 (the decode case, bound
// by reading weights). Rows are split across threads; each output is summed by one thread in a
// fixed order, so results do not depend on the thread count.
void fused_half(float* y, const float* x, const uint16_t* w, DType d, int n, int in, int out, ThreadTeam* team) {
  auto* dot = dot_rows_generic;
#if defined(__x86_64__) && defined(__GNUC__)
  if (have_avx2()) dot = dot_rows_avx2;
#endif
  auto rows = [&](int begin, int end) {
    for (int o = begin; o < end; ++o) dot(y + o, out, x, w + size_t(o) * size_t(in), d, n, in);
  };
  if (team) {
    team->parallel_for(out, rows);
  } else {
    rows(0, out);
  }
}

}  // namespace

// y[n, out] = x[n, in] . w[out, in]^T + bias. fp16/bf16 weights: a few token rows (decode) take
// the fused loop, which reads the weights at their stored width; more rows (prefill) widen a
// panel of weight rows to fp32 and multiply it with BLAS, the widening amortised over the rows.
void linear(float* y, const float* x, Weight w, Weight bias, int n, int in, int out, ThreadTeam* team) {
  if (w.dtype == DType::F32) {
    gemm_f32(y, out, x, static_cast<const float*>(w.data), n, in, out);
  } else if (n <= kFusedMaxRows) {
    fused_half(y, x, static_cast<const uint16_t*>(w.data), w.dtype, n, in, out, team);
  } else {
    thread_local std::vector<float> panel;
    const int rows = int(std::max<size_t>(1, kPanelFloats / size_t(in)));
    panel.resize(size_t(std::min(rows, out)) * size_t(in));
    for (int o = 0; o < out; o += rows) {
      const int m = std::min(rows, out - o);
      convert_to_f32(w.dtype, w.at(size_t(o) * in).data, size_t(m) * in, panel.data());
      gemm_f32(y + o, out, x, panel.data(), n, in, m);
    }
  }
  if (bias) {
    std::vector<float> buf;
    const float* b = widen(bias, size_t(out), buf);
    for (int r = 0; r < n; ++r) {
      float* yr = y + size_t(r) * out;
      for (int i = 0; i < out; ++i) yr[i] += b[i];
    }
  }
}

}  // namespace sn::engine::cpu

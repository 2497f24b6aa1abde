// CPU kernels against direct definitions: paged attention vs attention over contiguous K/V with a
// shuffled block table, norms, rope, softmax.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>

#include "cpu/kernels.h"

namespace sn::engine {
namespace {

std::vector<float> randv(size_t n, std::mt19937& g) {
  std::normal_distribution<float> d(0, 1);
  std::vector<float> v(n);
  for (float& x : v) x = d(g);
  return v;
}

TEST(Kernels, PagedAttentionEqualsContiguousAttentionGqa) {
  std::mt19937 g(7);
  const int Hq = 4, Hkv = 2, hd = 8, B = 3, L = 2, layer = 1;
  const KvGeometry geo{L, Hkv, hd, B};
  const int lens[2] = {7, 11};  // two sequences, all tokens new (prefill)
  const int T = lens[0] + lens[1];
  const int max_blocks = 4;
  std::vector<int> order(8);
  std::iota(order.begin(), order.end(), 0);
  std::shuffle(order.begin(), order.end(), g);  // blocks scattered in the pool
  std::vector<float> pool(8 * geo.block_floats(), 0.0f);
  std::vector<float*> ptrs(2 * max_blocks);
  for (int i = 0; i < 8; ++i) ptrs[size_t(i)] = pool.data() + size_t(order[size_t(i)]) * geo.block_floats();
  std::vector<int32_t> pos, seq;
  for (int s = 0; s < 2; ++s)
    for (int i = 0; i < lens[s]; ++i) pos.push_back(i), seq.push_back(s);
  BatchView b;
  b.n_tokens = T;
  b.n_seqs = 2;
  b.max_blocks = max_blocks;
  b.positions = pos.data();
  b.token_seq = seq.data();
  b.block_ptrs = ptrs.data();
  const auto q = randv(size_t(T) * Hq * hd, g), k = randv(size_t(T) * Hkv * hd, g), v = randv(size_t(T) * Hkv * hd, g);
  cpu::kv_store(k.data(), v.data(), b, geo, layer);
  std::vector<float> out(q.size());
  const float scale = 0.35f;
  cpu::attention(out.data(), q.data(), b, geo, layer, Hq, scale);
  // Reference: contiguous per-sequence attention.
  int base = 0;
  for (int s = 0; s < 2; ++s) {
    for (int t = 0; t < lens[s]; ++t) {
      for (int h = 0; h < Hq; ++h) {
        const int kh = h / (Hq / Hkv);
        std::vector<double> w(static_cast<size_t>(t + 1));
        double m = -1e30, sum = 0;
        for (int p = 0; p <= t; ++p) {
          double d = 0;
          for (int i = 0; i < hd; ++i)
            d += double(q[(size_t(base + t) * Hq + h) * hd + i]) * k[(size_t(base + p) * Hkv + kh) * hd + i];
          w[size_t(p)] = d * scale;
          m = std::max(m, w[size_t(p)]);
        }
        for (double& x : w) sum += x = std::exp(x - m);
        for (int i = 0; i < hd; ++i) {
          double acc = 0;
          for (int p = 0; p <= t; ++p) acc += w[size_t(p)] / sum * v[(size_t(base + p) * Hkv + kh) * hd + i];
          EXPECT_NEAR(out[(size_t(base + t) * Hq + h) * hd + i], acc, 1e-5);
        }
      }
    }
    base += lens[s];
  }
}

TEST(Kernels, NormsMatchDefinitions) {
  const float x[4] = {1, 2, 3, 4}, w[4] = {1, 0.5f, 2, 1}, bias[4] = {0, 1, 0, -1};
  float out[4];
  cpu::rmsnorm(out, x, Weight{w}, 1, 4, 0);
  const float rms = std::sqrt((1 + 4 + 9 + 16) / 4.0f);
  EXPECT_NEAR(out[2], 3 / rms * 2, 1e-6);
  cpu::layernorm(out, x, Weight{w}, Weight{bias}, 1, 4, 0);
  const float sd = std::sqrt(1.25f);
  EXPECT_NEAR(out[0], (1 - 2.5f) / sd, 1e-6);
  EXPECT_NEAR(out[3], (4 - 2.5f) / sd - 1, 1e-6);
}

TEST(Kernels, RopeRotatesHalfSplitPairsAndPreservesNorm) {
  float x[8] = {1, 2, 3, 4, 5, 6, 7, 8};
  const float inv[4] = {1.0f, 0.1f, 0.01f, 0.001f};
  const int32_t pos[1] = {3};
  cpu::rope(x, pos, 1, 1, 8, inv);
  EXPECT_NEAR(x[0], 1 * std::cos(3.0f) - 5 * std::sin(3.0f), 1e-6);
  EXPECT_NEAR(x[4], 5 * std::cos(3.0f) + 1 * std::sin(3.0f), 1e-6);
  const int32_t zero[1] = {0};
  float y[8] = {1, 2, 3, 4, 5, 6, 7, 8};
  cpu::rope(y, zero, 1, 1, 8, inv);
  EXPECT_EQ(y[1], 2.0f);
}

TEST(Kernels, SoftmaxAndActivations) {
  float x[3] = {1000, 1000, 1000};
  cpu::softmax(x, 3);
  EXPECT_NEAR(x[1], 1.0f / 3, 1e-7);
  float g[2] = {0, 2}, u[2] = {3, 1}, o[2];
  cpu::swiglu(o, g, u, 2);
  EXPECT_EQ(o[0], 0.0f);
  EXPECT_NEAR(o[1], 2 / (1 + std::exp(-2.0f)), 1e-6);
  float r[3] = {-1, 0, 2};
  cpu::relu(r, 3);
  EXPECT_EQ(r[0], 0.0f);
  EXPECT_EQ(r[2], 2.0f);
}

TEST(Kernels, LinearGemvAndGemmAgree) {
  std::mt19937 g(3);
  const auto w = randv(6 * 5, g), x = randv(2 * 5, g), bias = randv(6, g);
  std::vector<float> y2(12), y1(6);
  cpu::linear(y2.data(), x.data(), Weight{w.data()}, Weight{bias.data()}, 2, 5, 6);
  cpu::linear(y1.data(), x.data() + 5, Weight{w.data()}, Weight{bias.data()}, 1, 5, 6);
  for (int i = 0; i < 6; ++i) {
    double ref = bias[size_t(i)];
    for (int j = 0; j < 5; ++j) ref += double(w[size_t(i * 5 + j)]) * x[size_t(5 + j)];
    EXPECT_NEAR(y2[size_t(6 + i)], ref, 1e-5);
    EXPECT_NEAR(y1[size_t(i)], ref, 1e-5);
  }
}

// Half weights: the kernels must give what fp32 kernels give on the widened weights (up to
// summation order), for the fused decode loop (n <= 8) and the widened-panel GEMM (n > 8).
TEST(Kernels, HalfWeightsComputeAsTheirWidenedFp32) {
  std::mt19937 g(5);
  const int in = 1003, out = 1100;  // in not a multiple of 8; out * in above one 4 MiB panel
  const auto wf = randv(size_t(in) * out, g), x = randv(size_t(12) * in, g), bf = randv(size_t(out), g);
  for (DType d : {DType::F16, DType::BF16}) {
    std::vector<uint16_t> w(wf.size()), bias(bf.size());
    convert_from_f32(d, wf.data(), wf.size(), w.data());
    convert_from_f32(d, bf.data(), bf.size(), bias.data());
    std::vector<float> wide(wf.size()), bwide(bf.size());
    convert_to_f32(d, w.data(), w.size(), wide.data());
    convert_to_f32(d, bias.data(), bias.size(), bwide.data());
    for (int n : {1, 3, 12}) {
      std::vector<float> y(size_t(n) * out), ref(size_t(n) * out);
      cpu::linear(y.data(), x.data(), Weight{w.data(), d}, Weight{bias.data(), d}, n, in, out);
      cpu::linear(ref.data(), x.data(), Weight{wide.data()}, Weight{bwide.data()}, n, in, out);
      for (size_t i = 0; i < y.size(); ++i) EXPECT_NEAR(y[i], ref[i], 1e-4) << dtype_name(d) << " n=" << n;
      // A thread team splits output rows only: the same bits as one thread.
      cpu::ThreadTeam team(3);
      std::vector<float> yt(y.size());
      cpu::linear(yt.data(), x.data(), Weight{w.data(), d}, Weight{bias.data(), d}, n, in, out, &team);
      EXPECT_EQ(yt, y) << dtype_name(d) << " n=" << n;
    }
    const float xs[4] = {1, 2, 3, 4};
    float a[4], b[4];
    cpu::rmsnorm(a, xs, Weight{w.data(), d}, 1, 4, 1e-6f);
    cpu::rmsnorm(b, xs, Weight{wide.data()}, 1, 4, 1e-6f);
    for (int i = 0; i < 4; ++i) EXPECT_EQ(a[i], b[i]);
    cpu::layernorm(a, xs, Weight{w.data(), d}, Weight{bias.data(), d}, 1, 4, 1e-6f);
    cpu::layernorm(b, xs, Weight{wide.data()}, Weight{bwide.data()}, 1, 4, 1e-6f);
    for (int i = 0; i < 4; ++i) EXPECT_EQ(a[i], b[i]);
    const int32_t rows[2] = {7, 2};
    std::vector<float> e(2 * size_t(in)), eref(2 * size_t(in));
    cpu::embedding(e.data(), Weight{w.data(), d}, rows, 2, in, 1, false);
    cpu::embedding(eref.data(), Weight{wide.data()}, rows, 2, in, 1, false);
    EXPECT_EQ(e, eref);
    cpu::embedding(e.data(), Weight{w.data(), d}, rows, 2, in, 0, true);
    cpu::embedding(eref.data(), Weight{wide.data()}, rows, 2, in, 0, true);
    EXPECT_EQ(e, eref);
  }
}

}  // namespace
}  // namespace sn::engine

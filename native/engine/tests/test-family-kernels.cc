// CPU kernels the model families add (issue 16) against direct definitions: sliding-window
// attention over a shuffled paged cache vs windowed attention over contiguous K/V, and partial
// rotary embedding vs rope() on the rotated slice.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
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

// Two sequences prefilled into scattered blocks; attention_window for several windows.
TEST(FamilyKernels, SlidingWindowAttentionEqualsContiguousWindowedAttention) {
  std::mt19937 g(11);
  const int Hq = 4, Hkv = 2, hd = 8, B = 3, L = 2, layer = 1;
  const KvGeometry geo{L, Hkv, hd, B};
  const int lens[2] = {7, 11};
  const int T = lens[0] + lens[1];
  const int max_blocks = 4;
  std::vector<int> order(8);
  std::iota(order.begin(), order.end(), 0);
  std::shuffle(order.begin(), order.end(), g);
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
  const float scale = 0.35f;
  std::vector<float> full(q.size()), out(q.size());
  cpu::attention(full.data(), q.data(), b, geo, layer, Hq, scale);
  // A window at least as long as every context is plain causal attention, bit for bit.
  cpu::attention_window(out.data(), q.data(), b, geo, layer, Hq, scale, 11);
  EXPECT_EQ(std::memcmp(out.data(), full.data(), out.size() * sizeof(float)), 0);
  for (const int window : {1, 2, 4, 6}) {
    cpu::attention_window(out.data(), q.data(), b, geo, layer, Hq, scale, window);
    int base = 0;
    for (int s = 0; s < 2; ++s) {
      for (int t = 0; t < lens[s]; ++t) {
        const int first = std::max(0, t - window + 1);  // transformers: kv > q - window
        for (int h = 0; h < Hq; ++h) {
          const int kh = h / (Hq / Hkv);
          std::vector<double> w;
          double m = -1e30, sum = 0;
          for (int p = first; p <= t; ++p) {
            double d = 0;
            for (int i = 0; i < hd; ++i)
              d += double(q[(size_t(base + t) * Hq + h) * hd + i]) * k[(size_t(base + p) * Hkv + kh) * hd + i];
            w.push_back(d * scale);
            m = std::max(m, w.back());
          }
          for (double& x : w) sum += x = std::exp(x - m);
          for (int i = 0; i < hd; ++i) {
            double acc = 0;
            for (int p = first; p <= t; ++p)
              acc += w[size_t(p - first)] / sum * v[(size_t(base + p) * Hkv + kh) * hd + i];
            EXPECT_NEAR(out[(size_t(base + t) * Hq + h) * hd + i], acc, 1e-5) << "window " << window;
          }
        }
      }
      base += lens[s];
    }
  }
  // Once the context outgrows the window the output differs from full attention.
  EXPECT_NE(std::memcmp(out.data(), full.data(), out.size() * sizeof(float)), 0);
}

TEST(FamilyKernels, PartialRopeRotatesTheLeadingDimsOnly) {
  std::mt19937 g(5);
  const int T = 3, H = 2, hd = 8, rd = 4;
  const int32_t pos[T] = {0, 5, 17};
  const float inv_full[hd / 2] = {1.0f, 0.3f, 0.1f, 0.01f};
  const auto x = randv(size_t(T) * H * hd, g);
  // rotary_dim == head_dim is rope() exactly.
  std::vector<float> a = x, b = x;
  cpu::rope(a.data(), pos, T, H, hd, inv_full);
  cpu::rope_partial(b.data(), pos, T, H, hd, hd, inv_full);
  EXPECT_EQ(std::memcmp(a.data(), b.data(), a.size() * sizeof(float)), 0);
  // rotary_dim 4 of 8: the first 4 dims of each head as rope() over 4-dim heads, the rest kept.
  const float inv_part[rd / 2] = {1.0f, 0.1f};
  std::vector<float> part = x, slice(size_t(T) * H * rd);
  cpu::rope_partial(part.data(), pos, T, H, hd, rd, inv_part);
  for (int r = 0; r < T * H; ++r)
    std::copy_n(x.begin() + r * hd, rd, slice.begin() + r * rd);
  cpu::rope(slice.data(), pos, T, H, rd, inv_part);
  for (int r = 0; r < T * H; ++r) {
    for (int i = 0; i < rd; ++i) EXPECT_EQ(part[size_t(r * hd + i)], slice[size_t(r * rd + i)]) << r << " " << i;
    for (int i = rd; i < hd; ++i) EXPECT_EQ(part[size_t(r * hd + i)], x[size_t(r * hd + i)]) << r << " " << i;
  }
}

}  // namespace
}  // namespace sn::engine

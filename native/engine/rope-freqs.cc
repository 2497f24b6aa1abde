#include "rope-freqs.h"

#include <cmath>

namespace sn::engine {

std::vector<float> rope_inv_freq(const RopeConfig& rope, int head_dim) {
  const int half = head_dim / 2;
  std::vector<float> f(static_cast<size_t>(half));
  for (int i = 0; i < half; ++i) {
    const float expo = float(2 * i) / float(head_dim);
    f[size_t(i)] = float(1.0 / std::pow(double(float(rope.theta)), double(expo)));
  }
  if (rope.type == RopeType::Linear) {
    for (float& v : f) v = float(v / rope.factor);
  } else if (rope.type == RopeType::Llama3) {
    const double old_ctx = rope.original_max_positions;
    const double low_wavelen = old_ctx / rope.low_freq_factor;
    const double high_wavelen = old_ctx / rope.high_freq_factor;
    for (float& v : f) {
      const double wavelen = 2.0 * M_PI / v;
      if (wavelen < high_wavelen) continue;  // high frequency: unchanged
      if (wavelen > low_wavelen) {           // low frequency: scaled down by factor
        v = float(v / rope.factor);
        continue;
      }
      const double smooth = (old_ctx / wavelen - rope.low_freq_factor) / (rope.high_freq_factor - rope.low_freq_factor);
      v = float((1.0 - smooth) * v / rope.factor + smooth * v);
    }
  }
  return f;
}

}  // namespace sn::engine

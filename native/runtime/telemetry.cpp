#include "telemetry.h"

#include <algorithm>
#include <cassert>
#include <cmath>

namespace sn {

BandwidthStats::BandwidthStats(uint32_t window, double alpha) : window_(window), alpha_(alpha) {
  assert(window_ > 0 && alpha_ > 0.0 && alpha_ <= 1.0);
  samples_.reserve(window_);
}

void BandwidthStats::add(double bytes_per_s) {
  assert(bytes_per_s > 0.0);
  ewma_ = have_ ? alpha_ * bytes_per_s + (1.0 - alpha_) * ewma_ : bytes_per_s;
  have_ = true;
  if (samples_.size() < window_) {
    samples_.push_back(bytes_per_s);
  } else {
    samples_[next_] = bytes_per_s;
  }
  next_ = (next_ + 1) % window_;
}

double BandwidthStats::p10() const {
  if (samples_.empty()) return 0.0;
  std::vector<double> sorted(samples_);
  // Nearest rank: ceil(0.10 * n), 1-based.
  size_t rank = static_cast<size_t>(std::ceil(0.10 * static_cast<double>(sorted.size())));
  rank = std::max<size_t>(rank, 1);
  std::nth_element(sorted.begin(), sorted.begin() + static_cast<long>(rank - 1), sorted.end());
  return sorted[rank - 1];
}

}  // namespace sn

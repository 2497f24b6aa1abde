// Bandwidth statistics kept across iterations: EWMA and the 10th percentile over a window.
// O(window) per iteration at most; window defaults to 64 samples.
#ifndef SELECTN_TELEMETRY_H
#define SELECTN_TELEMETRY_H

#include <cstdint>
#include <vector>

namespace sn {

class BandwidthStats {
 public:
  BandwidthStats(uint32_t window, double alpha);
  // Adds one sample (bytes per second, > 0).
  void add(double bytes_per_s);
  double ewma() const { return ewma_; }
  // 10th percentile (nearest rank) of the samples in the window; 0 when empty.
  double p10() const;
  uint32_t count() const { return static_cast<uint32_t>(samples_.size()); }

 private:
  uint32_t window_;
  double alpha_;
  double ewma_ = 0.0;
  bool have_ = false;
  std::vector<double> samples_;  // ring buffer, size <= window_
  uint32_t next_ = 0;
};

}  // namespace sn

#endif  // SELECTN_TELEMETRY_H

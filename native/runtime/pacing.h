// Token bucket that paces the copy engine to a bandwidth budget.
// Pure arithmetic on a caller-supplied clock (seconds), so it is testable without sleeping.
// The bucket may go into debt: take() always grants the bytes and returns how long the caller
// must wait before issuing them, which keeps the long-run rate at `rate` for any chunk size.
#ifndef SELECTN_PACING_H
#define SELECTN_PACING_H

#include <cstdint>

namespace sn {

class TokenBucket {
 public:
  // rate_bytes_per_s == 0 means unlimited; burst_bytes is the bucket depth (> 0).
  void configure(double rate_bytes_per_s, double burst_bytes, double now_s);
  // Consumes `bytes`; returns the seconds to wait before the copy may start (0 if none).
  double take(double bytes, double now_s);
  double rate() const { return rate_; }
  double burst() const { return burst_; }
  bool unlimited() const { return rate_ <= 0.0; }

 private:
  void refill(double now_s);
  double rate_ = 0.0;    // bytes per second
  double burst_ = 0.0;   // max tokens
  double tokens_ = 0.0;  // may be negative (debt)
  double last_s_ = 0.0;
};

}  // namespace sn

#endif  // SELECTN_PACING_H

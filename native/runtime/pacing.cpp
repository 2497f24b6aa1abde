#include "pacing.h"

#include <algorithm>
#include <cassert>

namespace sn {

void TokenBucket::configure(double rate_bytes_per_s, double burst_bytes, double now_s) {
  assert(rate_bytes_per_s >= 0.0 && burst_bytes > 0.0);
  refill(now_s);
  rate_ = rate_bytes_per_s;
  burst_ = burst_bytes;
  // Keep any debt (so a budget cut takes effect at once) but cap saved-up credit.
  tokens_ = std::min(tokens_, burst_);
  last_s_ = now_s;
}

void TokenBucket::refill(double now_s) {
  if (now_s > last_s_) {
    tokens_ = std::min(burst_, tokens_ + (now_s - last_s_) * rate_);
    last_s_ = now_s;
  }
}

double TokenBucket::take(double bytes, double now_s) {
  assert(bytes >= 0.0);
  if (unlimited()) return 0.0;
  refill(now_s);
  tokens_ -= bytes;
  return tokens_ >= 0.0 ? 0.0 : -tokens_ / rate_;
}

}  // namespace sn

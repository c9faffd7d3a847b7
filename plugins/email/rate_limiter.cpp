#include "rate_limiter.hpp"

#include <algorithm>
#include <cmath>

namespace tp_email {

TokenBucket::TokenBucket(double rate, Clock::time_point now)
    : rate_(rate), capacity_(std::max(1.0, rate)), tokens_(capacity_), last_(now) {}

TokenBucket::Clock::duration TokenBucket::take(Clock::time_point now) {
  if (rate_ <= 0) return Clock::duration::zero();
  if (now > last_) {
    const double elapsed = std::chrono::duration<double>(now - last_).count();
    tokens_ = std::min(capacity_, tokens_ + elapsed * rate_);
    last_ = now;
  }
  if (tokens_ >= 1.0) {
    tokens_ -= 1.0;
    return Clock::duration::zero();
  }
  const double wait_s = (1.0 - tokens_) / rate_;
  return std::max<Clock::duration>(std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(wait_s)),
                                   Clock::duration(1));
}

}  // namespace tp_email

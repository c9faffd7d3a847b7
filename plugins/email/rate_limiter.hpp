// A token bucket for the sending rate: `rate` messages per second on
// average, bursts of up to max(1, rate) messages. Pure (the caller passes the
// clock), so it is tested without waiting.
#ifndef TP_EMAIL_RATE_LIMITER_HPP
#define TP_EMAIL_RATE_LIMITER_HPP

#include <chrono>

namespace tp_email {

class TokenBucket {
 public:
  using Clock = std::chrono::steady_clock;

  /// rate <= 0: unlimited.
  TokenBucket(double rate, Clock::time_point now);

  /// Takes one token if there is one and returns zero; otherwise returns how
  /// long to wait before asking again (nothing is taken).
  Clock::duration take(Clock::time_point now);

 private:
  double rate_;
  double capacity_;
  double tokens_;
  Clock::time_point last_;
};

}  // namespace tp_email

#endif  // TP_EMAIL_RATE_LIMITER_HPP

// The wait of a polling source whose server fails: 1 s doubling to a
// ceiling, one warning when the failures start and one line when the server
// answers again, and a counter of the failures.
#ifndef TP_COMMON_SOURCE_BACKOFF_HPP
#define TP_COMMON_SOURCE_BACKOFF_HPP

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <string>
#include <touchpoint/plugin.hpp>

namespace tp_common {

class SourceBackoff {
 public:
  using Clock = std::chrono::steady_clock;

  /// `counter` names the failures' counter (e.g. "tryton_errors").
  SourceBackoff(std::string counter, int64_t max_backoff_ms)
      : counter_(std::move(counter)), max_backoff_ms_(max_backoff_ms) {}

  /// False while the wait after a failure lasts.
  bool ready() const { return Clock::now() >= next_attempt_; }

  void failed(const touchpoint::Host& host, const std::string& why) {
    backoff_ms_ = backoff_ms_ == 0 ? 1000 : std::min<int64_t>(backoff_ms_ * 2, max_backoff_ms_);
    next_attempt_ = Clock::now() + std::chrono::milliseconds(backoff_ms_);
    host.counter_add(counter_, "", 1);
    if (!failing_) host.warn(why + " (retrying with backoff up to " + std::to_string(max_backoff_ms_) + " ms)");
    failing_ = true;
  }

  /// `what` names the server in the line that says it answers again.
  void recovered(const touchpoint::Host& host, const std::string& what) {
    if (failing_) host.info(what + " answers again");
    failing_ = false;
    backoff_ms_ = 0;
  }

 private:
  std::string counter_;
  int64_t max_backoff_ms_;
  Clock::time_point next_attempt_{};
  int64_t backoff_ms_ = 0;
  bool failing_ = false;
};

}  // namespace tp_common

#endif  // TP_COMMON_SOURCE_BACKOFF_HPP

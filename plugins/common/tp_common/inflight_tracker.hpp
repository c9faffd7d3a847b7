#ifndef TP_COMMON_INFLIGHT_TRACKER_HPP
#define TP_COMMON_INFLIGHT_TRACKER_HPP
// Counts work a server handed to the hub whose answer has not come back yet
// (a done() callback still owed, a response not yet written). Servers share
// it with their callbacks by shared_ptr, so it outlives them, and wait for it
// to drain before their io_context goes away.

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <mutex>

namespace tp_common {

class InflightTracker {
 public:
  void acquire() {
    std::lock_guard<std::mutex> lock(mu_);
    ++count_;
  }
  /// Like acquire(), but false once stop() was called: a server that checks
  /// this before emitting cannot start new work after wait_idle() returned.
  bool try_acquire() {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return false;
    ++count_;
    return true;
  }
  void stop() {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  void release() {
    bool idle = false;
    {
      std::lock_guard<std::mutex> lock(mu_);
      idle = --count_ == 0;
    }
    if (idle) cv_.notify_all();
  }
  bool wait_idle(std::chrono::steady_clock::duration timeout) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return count_ == 0; });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  size_t count_ = 0;
  bool stopping_ = false;
};

}  // namespace tp_common

#endif  // TP_COMMON_INFLIGHT_TRACKER_HPP

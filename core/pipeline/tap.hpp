#pragma once
// Live taps on running pipelines (`touchpoint tap`, GET /v1/tap): a copy of
// each record passing one point of one pipeline goes to whoever watches.
//
// The pipeline never waits for a watcher. Each tap has a bounded buffer;
// when it is full the record is counted as dropped instead. When nobody
// watches, the cost on the record path is one relaxed atomic load per step.
// Copies are masked (e-mail addresses, phone numbers, IBANs) unless the tap
// was opened with allow_pii by an admin token.
//
// One TapHub serves the process (TapHub::process()), as the log does: the
// record path reaches it without being handed a pointer through every layer.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "record/record.hpp"

namespace touchpoint::core {

class Tap {
 public:
  struct Options {
    std::string pipeline;
    size_t point = 0;  ///< after this many steps: 0 = as read, steps.size() = what leaves the steps
    bool allow_pii = false;
    size_t max_buffered = 1000;  ///< lines waiting for the watcher
    size_t max_buffered_bytes = 8u << 20;
  };
  explicit Tap(Options o) : options_(std::move(o)) {}

  const Options& options() const noexcept { return options_; }
  /// Called on the record path: never blocks on the watcher.
  void offer(std::string line);
  /// The watcher: the lines buffered now, waiting up to `wait` for the first.
  std::vector<std::string> take(std::chrono::milliseconds wait);
  uint64_t dropped() const noexcept { return dropped_.load(std::memory_order_relaxed); }

 private:
  Options options_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::string> lines_;
  size_t bytes_ = 0;
  std::atomic<uint64_t> dropped_{0};
};

class TapHub {
 public:
  static TapHub& process();

  /// At most this many taps at once (each holds an admin server thread).
  static constexpr size_t kMaxTaps = 2;
  /// nullptr when kMaxTaps are open already.
  std::shared_ptr<Tap> open(Tap::Options options);
  void close(const std::shared_ptr<Tap>& tap);

  bool watching() const noexcept { return open_.load(std::memory_order_relaxed) != 0; }
  /// The open taps now (for /status).
  std::vector<std::shared_ptr<const Tap>> list();
  /// The record at `point` of `pipeline`; call only when watching().
  void observe(const std::string& pipeline, size_t point, const Record& record);

  /// A record as a tap shows it: one JSON line, PII masked unless allowed.
  /// Over kMaxLineBytes only its envelope and size are shown.
  static std::string line(const std::string& pipeline, size_t point, const Record& record, bool allow_pii);
  static constexpr size_t kMaxLineBytes = 1u << 20;

 private:
  std::mutex mu_;
  std::vector<std::shared_ptr<Tap>> taps_;
  std::atomic<size_t> open_{0};
};

}  // namespace touchpoint::core

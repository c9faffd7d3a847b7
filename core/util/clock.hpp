#pragma once
#include <chrono>
#include <cstdint>

namespace touchpoint::core {

inline int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

/// Milliseconds on the monotonic clock: for timeouts and backoffs, which
/// must not stretch or shrink when the wall clock is stepped.
inline int64_t steady_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace touchpoint::core
